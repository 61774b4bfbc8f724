package io.jcomet.browser;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.openqa.selenium.WebDriver;

/**
 * Base of browser tests that share one Chromium for the whole class (skipped where Chromium is
 * missing, required under CI), with a blank page between tests so no page keeps polling into the
 * next. JUnit's thread drives the browser.
 */
abstract class OneBrowserPerClass {
    static WebDriver browser;

    @BeforeAll
    static void startBrowser() throws Exception {
        Chromium.assumeAvailable();
        browser = Chromium.open();
    }

    @AfterAll
    static void closeBrowser() {
        Chromium.close(browser);
        browser = null;
    }

    @AfterEach
    void blank() {
        if (browser != null) browser.get("about:blank");
    }
}
