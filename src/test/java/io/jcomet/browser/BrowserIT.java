package io.jcomet.browser;

import io.jcomet.launcher.EmbeddedJcomet;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInfo;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.extension.ExtensionContext;
import org.junit.jupiter.api.extension.TestExecutionExceptionHandler;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.openqa.selenium.By;
import org.openqa.selenium.JavascriptExecutor;
import org.openqa.selenium.WebDriver;
import org.openqa.selenium.WebElement;

import java.net.URI;
import java.net.URLEncoder;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.function.Predicate;
import java.util.function.Supplier;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

/**
 * The pages and jcomet.js in real headless Chromium against an in-process server
 * ({@link EmbeddedJcomet} on ephemeral ports, serving webapp/). What a user sees is asserted
 * through the page: the DOM and the small state objects the pages expose
 * ({@code window.tryIt} on index.html, {@code window.chat}, {@code window.statusPage}).
 * On a failure every open browser's screenshot and HTML go to target/browser-failures/.
 *
 * <p>Threads: JUnit's thread drives everything; the server's threads are Jetty's own.
 */
@ExtendWith(BrowserIT.SnapshotOnFailure.class)
class BrowserIT {

    static final Duration WAIT = Duration.ofSeconds(20);
    /** a JSON-, HTML- and script-hostile message with characters outside the BMP */
    static final String HOSTILE = "</script><script>alert(1)</script> \"q\" \\ 'a' & é 中文 😀🎉 \u2028 end";

    static EmbeddedJcomet server;
    static WebDriver browser;
    static String front;
    static String admin;
    static final HttpClient HTTP = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();

    /** browsers open in the running test (screenshots on failure) */
    final List<WebDriver> open = new CopyOnWriteArrayList<>();
    String testName = "test";

    @BeforeAll
    static void startServerAndBrowser() throws Exception {
        Chromium.assumeAvailable();
        server = EmbeddedJcomet.builder()
                .host("127.0.0.1")
                .adminPort(0)
                .frontPorts(0, 2)
                .set("polling_timeout", "5")
                .set("demo", "true").set("front_stats", "true") // both off unless asked for
                .start();
        front = "http://127.0.0.1:" + server.frontPort(0);
        admin = "http://127.0.0.1:" + server.adminPort();
        browser = Chromium.open();
    }

    @AfterAll
    static void stopAll() {
        Chromium.close(browser);
        browser = null;
        if (server != null) stop(server);
    }

    @BeforeEach
    void before(TestInfo info) {
        testName = info.getTestMethod().map(m -> m.getName()).orElse("test") + "-" + info.getDisplayName();
        open.add(browser);
    }

    @AfterEach
    void after() {
        if (browser != null) browser.get("about:blank"); // ends the page's subscriptions
    }

    // ---------------------------------------------------------------------------------------------

    @ParameterizedTest(name = "transport {0}")
    @ValueSource(strings = {"poll", "sse", "jsonp"})
    void eachTransportReceivesPushedMessagesIntact(String transport) throws Exception {
        String cname = "t-" + transport;
        browser.get(front + "/index.html?channel=" + cname + "&transport=" + transport);
        awaitSubscribers(cname, 1);

        push(cname, "plain hello");
        push(cname, HOSTILE);
        List<String> got = await("two messages on " + transport, () -> strings(js(browser,
                "return window.tryIt.messages.map(function (m) { return m.content; })")), l -> l.size() >= 2);
        assertEquals(List.of("plain hello", HOSTILE), got, "content arrives exactly as pushed, once, in order");
        // rendered as text, not markup: the </script> did not become an element
        assertEquals(HOSTILE, js(browser, "var li = document.querySelectorAll('#try-log li'); return li[li.length - 1].textContent;"));
        assertEquals(Boolean.TRUE, js(browser, "return document.querySelectorAll('#try-log script').length === 0"));
        assertEquals(transport, js(browser, "return window.tryIt.sub.transport"));
    }

    @Test
    void esModuleEntryWorksInTheBrowser() throws Exception {
        browser.get(front + "/status.html"); // a page that does not load jcomet.js itself
        Object r = ((JavascriptExecutor) browser).executeAsyncScript(
                "var done = arguments[arguments.length - 1];"
                + "import('/js/jcomet.mjs').then(function (m) {"
                + "  done([typeof m.default.Subscription, m.Subscription === m.default.Subscription, typeof m.iComet, m.version]);"
                + "}, function (e) { done(['error', String(e)]); });");
        assertEquals(List.of("function", "true", "function", io.jcomet.core.Broker.VERSION), strings(r));
    }

    @ParameterizedTest(name = "transport {0}")
    @ValueSource(strings = {"poll", "sse", "jsonp"})
    void burstArrivesOnceAndInOrderOrIsReportedAsGap(String transport) throws Exception {
        // 200 messages as fast as one publisher can push them, into a 10-message channel buffer:
        // the page must get each at most once, in order, and every seq it does not get must have
        // been reported through onGap. Also measures push -> onMessage latency (same host clock).
        final int n = 200;
        String cname = "burst-" + transport;
        browser.get(front + "/index.html");
        js(browser, "window.b = {m: [], g: []}; window.bs = new JComet.Subscription({channel: arguments[0], transport: arguments[1],"
                + " onMessage: function (c, msg) { b.m.push([msg.seq, c, Date.now()]); },"
                + " onGap: function (g) { b.g.push([g.from, g.to]); }}).start();", cname, transport);
        awaitSubscribers(cname, 1);
        long t0 = System.nanoTime();
        for (int i = 1; i <= n; i++) push(cname, i + ":" + System.currentTimeMillis());
        long pushMs = (System.nanoTime() - t0) / 1_000_000;
        await("all " + n + " delivered or reported lost", () -> ((Number) js(browser,
                "var k = b.m.length; b.g.forEach(function (g) { k += g[1] - g[0] + 1; }); return k;")).intValue(), k -> k >= n);
        js(browser, "window.bs.stop()");
        List<Object> m = list(js(browser, "return b.m"));
        List<Object> g = list(js(browser, "return b.g"));
        boolean[] seen = new boolean[n + 1];
        long lastSeq = 0;
        int lastI = 0;
        List<Long> lat = new ArrayList<>();
        for (Object o : m) {
            List<Object> e = list(o);
            long seq = ((Number) e.get(0)).longValue();
            String[] c = ((String) e.get(1)).split(":");
            int i = Integer.parseInt(c[0]);
            assertTrue(seq > lastSeq && i > lastI, "in order, once: seq " + seq + " after " + lastSeq);
            lastSeq = seq;
            lastI = i;
            seen[i] = true;
            lat.add(((Number) e.get(2)).longValue() - Long.parseLong(c[1]));
        }
        int lost = 0;
        for (Object o : g) {
            List<Object> e = list(o);
            for (long s = ((Number) e.get(0)).longValue(); s <= ((Number) e.get(1)).longValue(); s++) {
                assertTrue(s >= 1 && s <= n && !seen[(int) s], "gap " + e + " overlaps a delivered message");
                seen[(int) s] = true;
                lost++;
            }
        }
        for (int i = 1; i <= n; i++) assertTrue(seen[i], "message " + i + " neither delivered nor reported lost");
        lat.sort(null);
        System.err.printf("[browser test] measured burst/%s: %d pushed in %d ms; delivered %d, reported lost %d in %d gap(s);"
                        + " push->onMessage latency ms p50=%d p95=%d max=%d%n", transport, n, pushMs, m.size(), lost, g.size(),
                lat.get(lat.size() / 2), lat.get((int) (lat.size() * 0.95)), lat.get(lat.size() - 1));
    }

    @Test
    void crossOriginLongPollFromAnotherFrontPort() throws Exception {
        // the page comes from front port 2 and subscribes on front port 1: needs CORS on /poll
        String other = "http://127.0.0.1:" + server.frontPort(1);
        browser.get(other + "/index.html");
        js(browser, "window.xo = []; window.xs = new JComet.Subscription({url: arguments[0], channel: 'xo',"
                + " onMessage: function (c) { window.xo.push(c); }}).start();", front);
        awaitSubscribers("xo", 1);
        push("xo", "across origins 😀");
        assertEquals(List.of("across origins 😀"),
                await("cross-origin message", () -> strings(js(browser, "return window.xo")), l -> !l.isEmpty()));
        js(browser, "window.xs.stop()");
    }

    @ParameterizedTest(name = "EventSource {0}")
    @ValueSource(booleans = {true, false})
    void icometPageWorksBySwappingTheScriptTag(boolean withEventSource) throws Exception {
        // what an icomet.js page does, with jcomet.js loaded instead (no jQuery)
        String cname = "icomet-" + (withEventSource ? "sse" : "jsonp");
        browser.get(front + "/index.html");
        js(browser, (withEventSource ? "" : "window.EventSource = undefined;")
                + "window.ic = []; window.icc = new iComet({channel: arguments[0], subUrl: arguments[1],"
                + " callback: function (content, type) { window.ic.push(type + ':' + content); }});",
                cname, front + "/sub");
        assertEquals(withEventSource ? "sse" : "jsonp", js(browser, "return window.icc.sub.transport"));
        awaitSubscribers(cname, 1);
        push(cname, "from the back end " + HOSTILE);
        assertEquals(List.of("data:from the back end " + HOSTILE),
                await("icomet callback", () -> strings(js(browser, "return window.ic")), l -> !l.isEmpty()));
        js(browser, "window.icc.stop()");
        awaitSubscribers(cname, 0, true);
    }

    @Test
    void lostMessagesAreReportedThroughOnGap() throws Exception {
        // the channel buffer holds 10: a subscriber asking from seq 1 after 15 messages lost 1..5
        for (int i = 1; i <= 15; i++) push("gap-ch", "m" + i);
        browser.get(front + "/index.html");
        js(browser, "window.gp = {m: [], g: []}; window.gs = new JComet.Subscription({channel: 'gap-ch', seq: 1,"
                + " onMessage: function (c) { gp.m.push(c); }, onGap: function (g) { gp.g.push(g); }}).start();");
        List<String> got = await("buffered messages", () -> strings(js(browser, "return window.gp.m")), l -> l.size() >= 10);
        assertEquals(List.of("m6", "m7", "m8", "m9", "m10", "m11", "m12", "m13", "m14", "m15"), got);
        assertEquals("1-5-5-lost", js(browser, "var g = window.gp.g; return g.length === 1 ? g[0].from + '-' + g[0].to + '-' + g[0].count + '-' + g[0].reason : JSON.stringify(g);"));
        js(browser, "window.gs.stop()");
    }

    @Test
    void twoBrowsersChatAndSeeEachOthersMessagesInOrder() throws Exception {
        WebDriver alice = browser;
        WebDriver bob = Chromium.open();
        open.add(bob);
        try {
            alice.get(front + "/chat.html?room=r1&name=alice&join=1");
            bob.get(front + "/chat.html?room=r1&name=bob&transport=sse&join=1");
            awaitSubscribers("demo.chat-r1", 2);
            await("both online for alice", () -> strings(js(alice, "return window.chat.online")),
                    l -> l.contains("alice") && l.contains("bob"));

            say(alice, "hello from alice");
            awaitLines(bob, 1);
            say(bob, "hi alice " + HOSTILE);
            awaitLines(alice, 2);
            say(alice, "third");

            List<String> expected = List.of("alice: hello from alice", "bob: hi alice " + HOSTILE, "alice: third");
            assertEquals(expected, awaitLines(alice, 3));
            assertEquals(expected, awaitLines(bob, 3));
            // seqs strictly increasing on both sides
            for (WebDriver d : List.of(alice, bob)) {
                List<Object> seqs = list(js(d, "return window.chat.lines.map(function (l) { return l.seq; })"));
                for (int i = 1; i < seqs.size(); i++) {
                    assertTrue(((Number) seqs.get(i)).longValue() > ((Number) seqs.get(i - 1)).longValue(), "seq order " + seqs);
                }
            }
            // rendered as text in the list
            assertEquals("hi alice " + HOSTILE, js(bob, "return document.querySelectorAll('#messages li .text')[1].textContent;"));
            assertEquals(Boolean.TRUE, js(bob, "return document.querySelectorAll('#messages script').length === 0"));
            await("bob online in bob's page", () -> strings(js(bob, "return window.chat.online")),
                    l -> l.contains("alice") && l.contains("bob"));
        } finally {
            open.remove(bob);
            Chromium.close(bob);
        }
    }

    @Test
    void chatSignsForATokenWhenTheServerRequiresOne() throws Exception {
        EmbeddedJcomet s = EmbeddedJcomet.builder().host("127.0.0.1").adminPort(0).frontPorts(0, 1)
                .set("auth", "token").set("polling_timeout", "5").set("demo", "true").start();
        String f = "http://127.0.0.1:" + s.frontPort(0);
        String a = "http://127.0.0.1:" + s.adminPort();
        try {
            browser.get(f + "/chat.html?room=secret&name=carol&join=1");
            awaitSubscribers(a, "demo.chat-secret", 1);
            say(browser, "signed in 😀");
            assertEquals(List.of("carol: signed in 😀"), awaitLines(browser, 1));
            // without the token the server answers 401 and the client stops (no signUrl to renew it)
            js(browser, "window.noTok = []; new JComet.Subscription({channel: 'demo.chat-secret', seq: 1,"
                    + " onStatus: function (st) { window.noTok.push(st); }}).start();");
            List<String> st = await("401 seen", () -> strings(js(browser, "return window.noTok")), l -> l.contains("unauthorized"));
            assertEquals("unauthorized", st.get(st.size() - 1), "stops after 401: " + st);
        } finally {
            browser.get("about:blank");
            stop(s);
        }
    }

    @Test
    void statusPageShowsLiveCounters() throws Exception {
        push("status-ch", "one");
        push("status-ch", "two");
        // one long-poll held while the page looks (seq 3 is the next message), answered afterwards
        var held = HTTP.sendAsync(HttpRequest.newBuilder(URI.create(front + "/poll?cname=status-ch&seq=3"))
                .timeout(Duration.ofSeconds(30)).build(), HttpResponse.BodyHandlers.ofString(StandardCharsets.UTF_8));
        awaitSubscribers("status-ch", 1);
        browser.get(front + "/status.html");
        String published = await("published counter", () -> text(browser, "v-published"), t -> !t.equals("-"));
        assertTrue(Long.parseLong(published.replace(",", "")) >= 2, "published " + published);
        String channels = text(browser, "v-channels");
        assertTrue(Long.parseLong(channels.replace(",", "")) > 0, "channels " + channels);
        assertTrue(Long.parseLong(text(browser, "v-held-poll")) >= 1, "held long-polls " + text(browser, "v-held-poll"));
        assertTrue(Long.parseLong(text(browser, "v-held-total")) >= 1, "held total " + text(browser, "v-held-total"));
        push("status-ch", "three");
        assertTrue(held.get(10, java.util.concurrent.TimeUnit.SECONDS).body().contains("\"three\""));
        await("delivered counter moves", () -> text(browser, "v-delivered"), t -> !t.equals("-") && Long.parseLong(t.replace(",", "")) >= 1);
        // a second sample gives a rate; the chart has drawn something
        await("rate shown", () -> text(browser, "v-pub-rate"), t -> !t.equals("-"));
        assertTrue(text(browser, "v-heap").matches("[0-9.]+ [KMG]iB|[0-9.]+ B"), text(browser, "v-heap"));
        assertEquals(Boolean.TRUE, js(browser, "var c = document.getElementById('chart');"
                + " var d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;"
                + " for (var i = 3; i < d.length; i += 4) if (d[i] !== 0) return true; return false;"));
    }

    @ParameterizedTest(name = "transport {0}")
    @ValueSource(strings = {"poll", "sse"})
    void pageSurvivesServerRestartAndGetsTheBufferedMessages(String transport) throws Exception {
        EmbeddedJcomet s = EmbeddedJcomet.builder().host("127.0.0.1").adminPort(0).frontPorts(0, 1)
                .set("polling_timeout", "5").start();
        int adminPort = s.adminPort();
        int frontPort = s.frontPort(0);
        String f = "http://127.0.0.1:" + frontPort;
        String a = "http://127.0.0.1:" + adminPort;
        String cname = "restart-" + transport;
        try {
            browser.get(f + "/index.html?channel=" + cname + "&transport=" + transport);
            awaitSubscribers(a, cname, 1);
            push(a, cname, "before restart");
            await("first message", () -> strings(js(browser, "return window.tryIt.messages.map(function (m) { return m.content; })")),
                    l -> l.size() == 1);

            stop(s);
            s = EmbeddedJcomet.builder().host("127.0.0.1").adminPort(adminPort).frontPorts(frontPort, 1)
                    .set("polling_timeout", "5").start();
            // published while the page is still reconnecting (it backs off after the connection loss)
            long pushedAt = System.currentTimeMillis();
            push(a, cname, "after restart 1");
            push(a, cname, "after restart 2 😀");
            System.err.println("[browser test] restart/" + transport + ": subscribers on the new server right after the"
                    + " pushes: " + subscribers(a, cname) + " (0 = the page replays them from the new buffer)");

            List<String> got = await("messages around the restart", () -> strings(js(browser,
                    "return window.tryIt.messages.map(function (m) { return m.content; })")), l -> l.size() >= 3);
            assertEquals(List.of("before restart", "after restart 1", "after restart 2 😀"), got);
            System.err.println("[browser test] measured restart/" + transport + ": buffered messages reached the page "
                    + (((Number) js(browser, "return window.tryIt.messages[1].at")).longValue() - pushedAt)
                    + " ms after they were published on the restarted server");
            push(a, cname, "later");
            got = await("message after the reconnect", () -> strings(js(browser,
                    "return window.tryIt.messages.map(function (m) { return m.content; })")), l -> l.size() >= 4);
            assertEquals("later", got.get(3));
            assertEquals(4, got.size(), "nothing delivered twice: " + got);
            assertTrue(strings(js(browser, "return window.tryIt.statuses")).contains("restarted"),
                    "the page was told about the restart");
        } finally {
            browser.get("about:blank");
            stop(s);
        }
    }

    // ---- helpers --------------------------------------------------------------------------------

    /** Stops a server while the page still holds requests: held requests are answered (reconnect) first. */
    static void stop(EmbeddedJcomet s) {
        long t0 = System.nanoTime();
        s.stop();
        long ms = (System.nanoTime() - t0) / 1_000_000;
        if (ms > 2000) System.err.println("[browser test] EmbeddedJcomet.stop() took " + ms + " ms");
    }

    void say(WebDriver d, String text) {
        WebElement box = d.findElement(By.id("text"));
        await("text box enabled", box::isEnabled, b -> b);
        // sendKeys cannot type characters outside the BMP in ChromeDriver: set the value directly
        js(d, "document.getElementById('text').value = arguments[0];", text);
        d.findElement(By.id("send")).click();
        await("sent", () -> d.findElement(By.id("text")).getAttribute("value"), String::isEmpty);
    }

    List<String> awaitLines(WebDriver d, int n) {
        return await(n + " chat lines", () -> strings(js(d,
                "return window.chat.lines.map(function (l) { return l.name + ': ' + l.text; })")), l -> l.size() >= n);
    }

    static String text(WebDriver d, String id) {
        return d.findElement(By.id(id)).getText().trim();
    }

    static Object js(WebDriver d, String script, Object... args) {
        return ((JavascriptExecutor) d).executeScript(script, args);
    }

    static List<Object> list(Object o) {
        if (o == null) return List.of();
        if (o instanceof List<?> l) return new ArrayList<>(l);
        throw new AssertionError("not a list: " + o);
    }

    static List<String> strings(Object o) {
        List<String> r = new ArrayList<>();
        for (Object x : list(o)) r.add(String.valueOf(x));
        return r;
    }

    /** Polls a condition until it holds or WAIT passes; the failure shows the last value. */
    static <T> T await(String what, Supplier<T> get, Predicate<T> ok) {
        long end = System.nanoTime() + WAIT.toNanos();
        T last = null;
        RuntimeException lastError = null;
        while (System.nanoTime() < end) {
            try {
                last = get.get();
                lastError = null;
                if (last != null && ok.test(last)) return last;
            } catch (RuntimeException e) {
                lastError = e;
            }
            try {
                Thread.sleep(50);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new AssertionError("interrupted waiting for " + what);
            }
        }
        throw new AssertionError("timed out after " + WAIT.toSeconds() + " s waiting for " + what + "; last value: " + last
                + (lastError != null ? "; last error: " + lastError : ""), lastError);
    }

    static void awaitSubscribers(String cname, int n) {
        awaitSubscribers(admin, cname, n);
    }

    static final Pattern SUBSCRIBERS = Pattern.compile("\"subscribers\"\\s*:\\s*(\\d+)");

    static void awaitSubscribers(String adminBase, String cname, int n) {
        await(n + " subscriber(s) on " + cname, () -> subscribers(adminBase, cname), c -> c >= n);
    }

    static void awaitSubscribers(String cname, int n, boolean exactly) {
        await(n + " subscriber(s) on " + cname, () -> subscribers(admin, cname), c -> exactly ? c == n : c >= n);
    }

    static int subscribers(String adminBase, String cname) {
        Matcher m = SUBSCRIBERS.matcher(get(adminBase + "/info?cname=" + enc(cname)));
        return m.find() ? Integer.parseInt(m.group(1)) : -1;
    }

    static void push(String cname, String content) {
        push(admin, cname, content);
    }

    static void push(String adminBase, String cname, String content) {
        String body = "content=" + enc(content);
        HttpRequest req = HttpRequest.newBuilder(URI.create(adminBase + "/push?cname=" + enc(cname)))
                .header("Content-Type", "application/x-www-form-urlencoded; charset=UTF-8")
                .POST(HttpRequest.BodyPublishers.ofString(body, StandardCharsets.UTF_8))
                .timeout(Duration.ofSeconds(10)).build();
        try {
            HttpResponse<String> r = HTTP.send(req, HttpResponse.BodyHandlers.ofString(StandardCharsets.UTF_8));
            if (r.statusCode() != 200) fail("push " + cname + " -> " + r.statusCode() + " " + r.body());
        } catch (Exception e) {
            throw new AssertionError("push " + cname + ": " + e, e);
        }
    }

    static String get(String url) {
        try {
            HttpResponse<String> r = HTTP.send(HttpRequest.newBuilder(URI.create(url)).timeout(Duration.ofSeconds(10)).build(),
                    HttpResponse.BodyHandlers.ofString(StandardCharsets.UTF_8));
            return r.body();
        } catch (Exception e) {
            throw new RuntimeException("GET " + url + ": " + e, e);
        }
    }

    static String enc(String s) {
        return URLEncoder.encode(s, StandardCharsets.UTF_8);
    }

    /** Screenshots every open browser before @AfterEach navigates away. */
    static final class SnapshotOnFailure implements TestExecutionExceptionHandler {
        @Override
        public void handleTestExecutionException(ExtensionContext ctx, Throwable t) throws Throwable {
            Object instance = ctx.getTestInstance().orElse(null);
            if (instance instanceof BrowserIT it) {
                int i = 0;
                for (WebDriver d : it.open) Chromium.snapshot(d, it.testName + "-" + (i++));
            }
            throw t;
        }
    }
}
