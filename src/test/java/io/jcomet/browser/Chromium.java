package io.jcomet.browser;

import org.junit.jupiter.api.Assumptions;
import org.openqa.selenium.OutputType;
import org.openqa.selenium.TakesScreenshot;
import org.openqa.selenium.WebDriver;
import org.openqa.selenium.chrome.ChromeDriver;
import org.openqa.selenium.chrome.ChromeDriverService;
import org.openqa.selenium.chrome.ChromeOptions;

import java.io.File;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Comparator;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.fail;

/**
 * Debian's headless Chromium driven through Debian's chromedriver (no downloads: the driver path
 * is given explicitly, so Selenium Manager is never asked). Each {@link #open()} is a separate
 * browser process with a fresh profile directory (a separate "browser context": no shared cookies
 * or storage), removed again by {@link #close}.
 *
 * <p>Overrides: CHROMIUM_BIN (browser binary), CHROMEDRIVER_BIN (driver binary).
 * Without a browser the tests are skipped with a message; under CI=true they fail.
 *
 * <p>Threads: used from the JUnit thread only.
 */
final class Chromium {

    static final String BROWSER = find("CHROMIUM_BIN",
            "/usr/bin/chromium", "/usr/bin/chromium-browser", "/usr/bin/google-chrome", "/usr/bin/google-chrome-stable");
    static final String DRIVER = find("CHROMEDRIVER_BIN",
            "/usr/bin/chromedriver", "/usr/lib/chromium/chromedriver");
    private static final AtomicInteger COUNTER = new AtomicInteger();
    /** Selenium warns that it has no CDP bindings for this Chromium; we use WebDriver only. Kept referenced. */
    private static final java.util.logging.Logger CDP_LOG = java.util.logging.Logger.getLogger("org.openqa.selenium.devtools");

    static {
        CDP_LOG.setLevel(java.util.logging.Level.SEVERE);
    }

    private Chromium() {
    }

    private static String find(String env, String... candidates) {
        String e = System.getenv(env);
        if (e != null && !e.isBlank()) return new File(e).canExecute() ? e : null;
        for (String c : candidates) if (new File(c).canExecute()) return c;
        return null;
    }

    /** Skips the calling test (or class) when there is no browser; under CI=true, fails instead. */
    static void assumeAvailable() {
        if (BROWSER != null && DRIVER != null) return;
        String msg = "Browser tests NOT RUN: " + (BROWSER == null ? "no chromium binary" : "") + (BROWSER == null && DRIVER == null ? " and " : "")
                + (DRIVER == null ? "no chromedriver" : "")
                + " (apt-get install chromium chromium-driver, or set CHROMIUM_BIN / CHROMEDRIVER_BIN)";
        if ("true".equalsIgnoreCase(System.getenv("CI"))) fail(msg + "; CI=true, so this is a failure");
        System.err.println("[WARN] " + msg);
        Assumptions.abort(msg);
    }

    /** A new headless browser with its own fresh profile. */
    static WebDriver open() throws IOException {
        return open(new String[0]);
    }

    /** The same with more command-line switches (a certificate to trust, for instance). */
    static WebDriver open(String... extraArguments) throws IOException {
        Path profile = Files.createTempDirectory("jcomet-chromium-");
        ChromeOptions o = new ChromeOptions();
        o.setBinary(BROWSER);
        o.addArguments("--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                "--disable-background-networking", "--disable-component-update", "--disable-sync",
                "--disable-dev-shm-usage", "--disable-extensions", "--disable-default-apps",
                "--disable-background-timer-throttling", "--disable-renderer-backgrounding",
                "--window-size=1200,900", "--user-data-dir=" + profile);
        o.addArguments(extraArguments);
        Path logDir = Path.of("target", "browser-logs");
        Files.createDirectories(logDir);
        ChromeDriverService service = new ChromeDriverService.Builder()
                .usingDriverExecutable(new File(DRIVER))
                .usingAnyFreePort()
                .withLogFile(logDir.resolve("chromedriver-" + COUNTER.incrementAndGet() + ".log").toFile())
                .build();
        ChromeDriver d;
        try {
            d = new ChromeDriver(service, o);
        } catch (RuntimeException e) {
            deleteTree(profile);
            throw e;
        }
        d.manage().timeouts().pageLoadTimeout(Duration.ofSeconds(30));
        d.manage().timeouts().scriptTimeout(Duration.ofSeconds(30));
        PROFILES.put(d, profile);
        return d;
    }

    private static final java.util.Map<WebDriver, Path> PROFILES = new java.util.concurrent.ConcurrentHashMap<>();

    static void close(WebDriver d) {
        if (d == null) return;
        try {
            d.quit();
        } catch (RuntimeException ignored) {
            // already gone
        }
        Path p = PROFILES.remove(d);
        if (p != null) deleteTree(p);
    }

    /** Saves a PNG and the page's HTML under target/browser-failures/. */
    static void snapshot(WebDriver d, String name) {
        try {
            Path dir = Path.of("target", "browser-failures");
            Files.createDirectories(dir);
            String safe = name.replaceAll("[^A-Za-z0-9_.-]", "_");
            byte[] png = ((TakesScreenshot) d).getScreenshotAs(OutputType.BYTES);
            Files.write(dir.resolve(safe + ".png"), png);
            Files.writeString(dir.resolve(safe + ".html"), "<!-- " + d.getCurrentUrl() + " -->\n" + d.getPageSource(),
                    StandardCharsets.UTF_8);
            System.err.println("[browser test] screenshot saved: " + dir.resolve(safe + ".png").toAbsolutePath());
        } catch (Exception e) {
            System.err.println("[browser test] could not save a screenshot for " + name + ": " + e);
        }
    }

    private static void deleteTree(Path p) {
        try (Stream<Path> s = Files.walk(p)) {
            s.sorted(Comparator.reverseOrder()).forEach(f -> f.toFile().delete());
        } catch (IOException ignored) {
            // temp dir; best effort
        }
    }
}
