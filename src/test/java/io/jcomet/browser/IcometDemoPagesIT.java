package io.jcomet.browser;

import io.jcomet.fidelity.Anchors;
import io.jcomet.launcher.EmbeddedJcomet;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.openqa.selenium.By;
import org.openqa.selenium.JavascriptExecutor;
import org.openqa.selenium.WebDriver;
import org.openqa.selenium.chrome.ChromeDriver;
import org.openqa.selenium.chrome.ChromeDriverService;
import org.openqa.selenium.chrome.ChromeOptions;

import java.io.File;
import java.net.URI;
import java.net.URLEncoder;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.function.Predicate;
import java.util.function.Supplier;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

/**
 * icomet's own demo pages, from icomet's source tarball and unchanged, in headless Chromium against
 * jcomet: {@code long-polling.html} with its own icomet.js and jQuery (through SSE, and through
 * icomet.js's JSONP long-poll with {@code window.EventSource} deleted before any script runs),
 * {@code sse.html}, and the chat demo ({@code chat.html}: /sign, subscribe, and {@code pub()} by
 * JSONP on the admin port).
 *
 * <p>The pages hard-code icomet's addresses (127.0.0.1:8000 and :8100); Chromium reaches jcomet's
 * ephemeral ports through {@link PortMappingProxy}, which also counts the requests so that a
 * request loop (icomet.js asking the same seq again and again) is told apart from a held poll.
 * The tarball is read from {@code ../shared/anchors} at run time and never copied into the
 * repository; without it (or without Chromium) the tests are skipped with a message, and fail
 * under {@code CI=true}.
 *
 * <p>Threads: JUnit's thread drives the browser; the server and the proxy run their own.
 */
class IcometDemoPagesIT {
    static final Duration WAIT = Duration.ofSeconds(20);

    static EmbeddedJcomet server;
    static PortMappingProxy proxy;
    static Path web;
    static final HttpClient HTTP = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();
    WebDriver browser;
    Path profile;

    @BeforeAll
    static void start() throws Exception {
        if (Chromium.BROWSER == null || Chromium.DRIVER == null || Anchors.tarball() == null) {
            return; // each test reports what is missing (skipped with the reason; failed under CI=true)
        }
        web = Anchors.sourceTree().resolve("demo").resolve("web");
        server = EmbeddedJcomet.builder().host("127.0.0.1").adminPort(0).frontPorts(0, 1)
                .set("polling_timeout", "5").set("channel_buffer_size", "10").start();
        proxy = new PortMappingProxy(server.adminPort(), server.frontPort(0));
    }

    @AfterAll
    static void stop() {
        if (proxy != null) proxy.close();
        if (server != null) server.stop();
    }

    /**
     * Checked per test, not once for the class: a class-level skip shows as "Tests run: 0" with
     * nothing skipped, which hides that icomet's pages were not tried.
     */
    @BeforeEach
    void requireChromiumAndIcomet() {
        Chromium.assumeAvailable();
        Anchors.requireTarball();
    }

    @AfterEach
    void closeBrowser() {
        if (browser != null) {
            try {
                browser.quit();
            } catch (RuntimeException ignored) {
                // gone already
            }
        }
        if (profile != null) {
            try (var s = Files.walk(profile)) {
                s.sorted(java.util.Comparator.reverseOrder()).forEach(f -> f.toFile().delete());
            } catch (Exception ignored) {
                // temp dir
            }
        }
    }

    /** A fresh headless Chromium whose every request goes through the port-mapping proxy. */
    WebDriver open(boolean withoutEventSource) throws Exception {
        profile = Files.createTempDirectory("jcomet-icomet-demo-");
        ChromeOptions o = new ChromeOptions();
        o.setBinary(Chromium.BROWSER);
        o.addArguments("--headless", "--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-dev-shm-usage",
                "--disable-background-networking", "--disable-component-update", "--disable-extensions",
                "--disable-background-timer-throttling", "--disable-renderer-backgrounding",
                "--allow-file-access-from-files", "--window-size=1200,900", "--user-data-dir=" + profile,
                "--proxy-server=http://127.0.0.1:" + proxy.port(), "--proxy-bypass-list=<-loopback>");
        Path logDir = Path.of("target", "browser-logs");
        Files.createDirectories(logDir);
        ChromeDriverService service = new ChromeDriverService.Builder().usingDriverExecutable(new File(Chromium.DRIVER))
                .usingAnyFreePort().withLogFile(logDir.resolve("chromedriver-icomet-demo.log").toFile()).build();
        ChromeDriver d = new ChromeDriver(service, o);
        d.manage().timeouts().pageLoadTimeout(Duration.ofSeconds(30));
        d.manage().timeouts().scriptTimeout(Duration.ofSeconds(30));
        if (withoutEventSource) {
            // before any of the page's scripts: icomet.js then takes its JSONP long-poll path
            d.executeCdpCommand("Page.addScriptToEvaluateOnNewDocument", Map.of("source", "delete window.EventSource;"));
        }
        browser = d;
        return d;
    }

    // ---------------------------------------------------------------------------------------------

    @ParameterizedTest(name = "{0}")
    @ValueSource(strings = {"jsonp", "sse"})
    void longPollingDemoReceivesMessagesAndSurvivesClearAndOverflow(String transport) throws Exception {
        WebDriver b = open(transport.equals("jsonp"));
        String cname = "a"; // what long-polling.html subscribes to
        b.get(web.resolve("long-polling.html").toUri().toString());
        assertEquals(transport.equals("jsonp") ? "undefined" : "function", js(b, "return typeof EventSource"));
        awaitSubscribers(cname);

        push(cname, "hello");
        awaitOutput(b, "(data) hello");

        // messages in quick succession: each one arrives, in order
        for (int i = 1; i <= 3; i++) {
            push(cname, "burst" + i);
        }
        awaitOutput(b, "(data) burst3");
        String out = output(b);
        assertTrue(out.indexOf("burst1") < out.indexOf("burst2") && out.indexOf("burst2") < out.indexOf("burst3"), out);

        // /clear while the page is between polls: it gets clear1, and before its next request (a new
        // script tag) can ask for clear2, clear2 is published and cleared. The page must be moved on by
        // the next message, not loop on a seq that is gone (icomet.js ignores a lone gap and asks again).
        awaitSubscribers(cname);
        push(cname, "clear1");
        push(cname, "clear2");
        admin("/clear?cname=" + cname);
        awaitOutput(b, "(data) clear1");
        assertNoRequestLoop(cname);
        push(cname, "after-clear");
        awaitOutput(b, "(data) after-clear");
        assertNoRequestLoop(cname);

        // more messages than the buffer holds, published faster than the page polls
        for (int i = 1; i <= 15; i++) {
            push(cname, "flood" + i);
        }
        awaitOutput(b, "(data) flood15");
        assertNoRequestLoop(cname);
        // and it still listens: not stalled
        push(cname, "still-there");
        awaitOutput(b, "(data) still-there");
    }

    @Test
    void sseDemoShowsPushedMessages() throws Exception {
        WebDriver b = open(false);
        b.get(web.resolve("sse.html").toUri().toString()); // EventSource on /sse?cname=12&seq=1
        awaitSubscribers("12");
        push("12", "HelloSSE");
        String body = await("the message in sse.html", () -> (String) js(b, "return document.body.innerHTML"),
                t -> t.contains("HelloSSE"));
        assertTrue(body.contains("\"type\":\"data\"") && body.contains("\"cname\":\"12\""), body);
    }

    @ParameterizedTest(name = "{0}")
    @ValueSource(strings = {"jsonp", "sse"})
    void chatDemoSignsSubscribesAndPublishes(String transport) throws Exception {
        WebDriver b = open(transport.equals("jsonp"));
        String channel = "chat" + transport;
        // opened as a file, the demo talks to 127.0.0.1:8000 (/sign, /push?cb=?) and :8100 (/sub) itself
        b.get(web.resolve("chat.html").toUri() + "?channel=" + channel);
        b.findElement(By.cssSelector("input[name=nickname]")).clear();
        b.findElement(By.cssSelector("input[name=nickname]")).sendKeys("tester");
        b.findElement(By.xpath("//button[contains(., 'Join')]")).click();
        awaitSubscribers(channel);

        // the page's own Post button: pub() over JSONP, the message comes back through the subscription
        b.findElement(By.cssSelector("#chat_window textarea[name=content]")).sendKeys("hello from the chat demo");
        b.findElement(By.id("post")).click();
        await("own message confirmed by the server (its 'sent' mark removed)",
                () -> (Boolean) js(b, "return $('#chat td.po').length === 1 && $('#chat td.sent').length === 0"), v -> v);

        // pub() with a callback, as an application calls it: the JSONP answer reaches the callback
        js(b, "window.pubAnswer = null; comet.pub(JSON.stringify({uid: 'other', nickname: 'bot', content: 'from pub'}),"
                + " function (r) { window.pubAnswer = r; });");
        Object answer = await("pub() callback", () -> js(b, "return window.pubAnswer ? window.pubAnswer.type : null"), v -> v != null);
        assertEquals("ok", answer);
        await("the published line in the chat", () -> (String) js(b, "return $('#chat').text()"), t -> t.contains("from pub"));

        // a message from someone else (a back end)
        push(channel, "{\"uid\":\"u2\",\"nickname\":\"backend\",\"content\":\"hi tester\"}");
        await("a message from the back end", () -> (String) js(b, "return $('#chat').text()"), t -> t.contains("hi tester"));
        assertNoRequestLoop(channel);
    }

    // ---------------------------------------------------------------------------------------------

    /** A loop would re-request many times a second; a held long-poll re-requests once per message or noop. */
    void assertNoRequestLoop(String cname) throws Exception {
        Thread.sleep(200); // let the page's next poll start after the last message
        int before = proxy.count("/sub") + proxy.count("/sse");
        long t0 = System.nanoTime();
        Thread.sleep(2000); // an observation window, not a wait for a condition
        int during = proxy.count("/sub") + proxy.count("/sse") - before;
        assertTrue(during <= 2, during + " subscribe requests in " + (System.nanoTime() - t0) / 1_000_000
                + " ms with nothing published: a request loop. Last requests: " + tail(proxy.log(), 10));
        assertEquals(1, subscribers(cname), "the page is still subscribed");
    }

    static List<String> tail(List<String> l, int n) {
        return new ArrayList<>(l.subList(Math.max(0, l.size() - n), l.size()));
    }

    static void awaitOutput(WebDriver b, String text) throws Exception {
        await("'" + text + "' on the page", () -> output(b), t -> t.contains(text));
    }

    static String output(WebDriver b) {
        return (String) js(b, "return document.getElementById('output').innerHTML");
    }

    static Object js(WebDriver b, String script) {
        return ((JavascriptExecutor) b).executeScript(script);
    }

    static void push(String cname, String content) throws Exception {
        String r = admin("/push?cname=" + enc(cname) + "&content=" + enc(content));
        assertTrue(r.startsWith("{\"type\":\"ok\""), r);
    }

    static String admin(String pathAndQuery) throws Exception {
        HttpResponse<String> r = HTTP.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + server.adminPort() + pathAndQuery))
                .timeout(Duration.ofSeconds(10)).build(), HttpResponse.BodyHandlers.ofString(StandardCharsets.UTF_8));
        assertEquals(200, r.statusCode(), r.body());
        return r.body();
    }

    static int subscribers(String cname) throws Exception {
        String body = admin("/info?cname=" + enc(cname));
        return Integer.parseInt(body.replaceAll("(?s).*\"subscribers\":\\s*(\\d+).*", "$1"));
    }

    static void awaitSubscribers(String cname) throws Exception {
        await("a subscriber on " + cname, () -> {
            try {
                return subscribers(cname);
            } catch (Exception e) {
                throw new RuntimeException(e);
            }
        }, n -> n >= 1);
    }

    static String enc(String s) {
        return URLEncoder.encode(s, StandardCharsets.UTF_8);
    }

    static <T> T await(String what, Supplier<T> value, Predicate<T> done) throws InterruptedException {
        long deadline = System.nanoTime() + WAIT.toNanos();
        T last = null;
        while (System.nanoTime() < deadline) {
            last = value.get();
            if (last != null && done.test(last)) {
                return last;
            }
            Thread.sleep(50);
        }
        fail("timed out after " + WAIT + " waiting for " + what + "; last: " + last + "; requests: " + tail(proxy.log(), 12));
        return null;
    }
}
