package io.jcomet.browser;

import io.jcomet.launcher.EmbeddedJcomet;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.openqa.selenium.WebDriver;

import java.util.List;

import static io.jcomet.browser.BrowserIT.await;
import static io.jcomet.browser.BrowserIT.js;
import static io.jcomet.browser.BrowserIT.strings;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;

/**
 * A refused subscription in real Chromium, on the transports that cannot see an HTTP status
 * (EventSource, {@code <script>}) and on fetch: an HTTP 400 (a channel name with a control character,
 * which every version of the name rules refuses) is
 * reported to the page as {@code error} and not retried.
 *
 * <p>Threads: JUnit's thread drives the browser; the server's threads are Jetty's.
 */
class ClientRefusalIT {
    static EmbeddedJcomet server;
    static WebDriver browser;
    static String front;

    @BeforeAll
    static void start() throws Exception {
        Chromium.assumeAvailable();
        server = EmbeddedJcomet.builder().host("127.0.0.1").adminPort(0).frontPorts(0, 1).set("polling_timeout", "5").start();
        front = "http://127.0.0.1:" + server.frontPort(0);
        browser = Chromium.open();
    }

    @AfterAll
    static void stop() {
        Chromium.close(browser);
        if (server != null) BrowserIT.stop(server);
    }

    @ParameterizedTest(name = "transport {0}")
    @ValueSource(strings = {"poll", "sse", "jsonp"})
    void badChannelNameIsAnErrorNotARetryLoop(String transport) throws Exception {
        browser.get(front + "/index.html");
        js(browser, "window.rf = { statuses: [] };"
                + "window.rf.sub = new JComet.Subscription({ url: '', channel: 'bad\\u0001name', transport: arguments[0],"
                + "  onStatus: function (s) { window.rf.statuses.push(s); } }).start();", transport);
        List<String> st = await("the error status", () -> strings(js(browser, "return window.rf.statuses")), l -> l.contains("error"));
        assertEquals(Boolean.FALSE, js(browser, "return window.rf.sub.running"), "stopped: " + st);
        assertFalse(st.contains("waiting"), "never scheduled a retry: " + st);
        assertEquals(0L, ((Number) js(browser, "return window.rf.sub.pendingTimers()")).longValue());
        browser.get("about:blank");
    }
}
