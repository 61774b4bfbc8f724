package io.jcomet.browser;

import io.jcomet.launcher.EmbeddedJcomet;
import org.junit.jupiter.api.Test;

import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static io.jcomet.browser.BrowserIT.await;
import static io.jcomet.browser.BrowserIT.awaitSubscribers;
import static io.jcomet.browser.BrowserIT.get;
import static io.jcomet.browser.BrowserIT.js;
import static io.jcomet.browser.BrowserIT.push;
import static io.jcomet.browser.BrowserIT.strings;
import static io.jcomet.browser.BrowserIT.subscribers;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * jcomet.js with {@code transport: 'ws'} in real Chromium against the server's {@code /ws}: what a
 * page relies on. Pushed messages arrive intact; several Subscriptions of a page share one socket
 * (the server's own {@code jcomet_held_connections{transport="ws"}} counts it) and each gets only its
 * channel; stop() unsubscribes one channel and the last one closes the socket; across a server
 * restart every channel on the socket comes back with its own seq and shows what was published
 * meanwhile; and a page whose Origin the server refuses, or a browser without WebSocket, goes on
 * with SSE and still receives.
 *
 * <p>Threads: JUnit's thread drives the browser and the servers; the servers' threads are Jetty's.
 */
class WsClientIT extends OneBrowserPerClass {

    static EmbeddedJcomet start(int adminPort, int frontPort, String... settings) throws Exception {
        EmbeddedJcomet.Builder b = EmbeddedJcomet.builder().host("127.0.0.1").adminPort(adminPort).frontPorts(frontPort, 1)
                .set("polling_timeout", "5");
        for (int i = 0; i + 1 < settings.length; i += 2) b.set(settings[i], settings[i + 1]);
        return b.start();
    }

    /** Starts window.ws[name] = a Subscription on cname with the given transport, recording what it gets. */
    static void subscribe(String name, String cname, String transport, int seq) {
        js(browser, "window.ws = window.ws || {};"
                + "var r = window.ws[arguments[0]] = { msgs: [], gaps: [], statuses: [] };"
                + "r.sub = new JComet.Subscription({ url: '', channel: arguments[1], transport: arguments[2], seq: arguments[3],"
                + "  onMessage: function (c) { r.msgs.push(c); },"
                + "  onGap: function (g) { r.gaps.push(g.from + '..' + g.to + ' ' + g.reason); },"
                + "  onStatus: function (st) { r.statuses.push(st); } }).start();", name, cname, transport, seq);
    }

    static List<String> msgs(String name) {
        return strings(js(browser, "return window.ws[arguments[0]].msgs", name));
    }

    static List<String> statuses(String name) {
        return strings(js(browser, "return window.ws[arguments[0]].statuses", name));
    }

    static final Pattern HELD_WS = Pattern.compile("(?m)^jcomet_held_connections\\{transport=\"ws\"} (\\S+)$");

    /** WebSockets the server holds, from its Prometheus metrics. */
    static int heldSockets(String admin) {
        Matcher m = HELD_WS.matcher(get(admin + "/metrics"));
        return m.find() ? (int) Double.parseDouble(m.group(1)) : -1;
    }

    @Test
    void pushedMessagesArriveOverTheWebSocketIntact() throws Exception {
        EmbeddedJcomet s = start(0, 0);
        String f = "http://127.0.0.1:" + s.frontPort(0), a = "http://127.0.0.1:" + s.adminPort();
        try {
            browser.get(f + "/index.html"); // loads jcomet.js; subscribes only when told
            subscribe("one", "ws-intact", "ws", 0);
            awaitSubscribers(a, "ws-intact", 1);
            assertEquals(1, heldSockets(a), "the subscription is held on a WebSocket");
            push(a, "ws-intact", "plain hello");
            push(a, "ws-intact", BrowserIT.HOSTILE);
            List<String> got = await("two messages", () -> msgs("one"), l -> l.size() >= 2);
            assertEquals(List.of("plain hello", BrowserIT.HOSTILE), got, "content arrives exactly as pushed, once, in order");
            assertEquals("ws", js(browser, "return window.ws.one.sub.transport"));
            assertTrue(statuses("one").contains("connected"), statuses("one").toString());
        } finally {
            browser.get("about:blank");
            BrowserIT.stop(s);
        }
    }

    @Test
    void severalChannelsOfAPageShareOneSocketAndStopCleanly() throws Exception {
        EmbeddedJcomet s = start(0, 0);
        String f = "http://127.0.0.1:" + s.frontPort(0), a = "http://127.0.0.1:" + s.adminPort();
        try {
            browser.get(f + "/index.html");
            for (String c : List.of("a", "b", "c")) subscribe(c, "mux-" + c, "ws", 0);
            for (String c : List.of("a", "b", "c")) awaitSubscribers(a, "mux-" + c, 1);
            assertEquals(1, heldSockets(a), "three channels, one socket");
            for (String c : List.of("a", "b", "c")) push(a, "mux-" + c, "to " + c);
            for (String c : List.of("a", "b", "c")) {
                assertEquals(List.of("to " + c), await("message on " + c, () -> msgs(c), l -> !l.isEmpty()));
            }

            js(browser, "window.ws.b.sub.stop()");
            await("b unsubscribed", () -> subscribers(a, "mux-b"), n -> n == 0);
            push(a, "mux-b", "after stop");
            push(a, "mux-a", "still here");
            assertEquals(List.of("to a", "still here"), await("a goes on", () -> msgs("a"), l -> l.size() >= 2));
            assertEquals(List.of("to b"), msgs("b"), "nothing after stop()");
            assertEquals(1, heldSockets(a), "the socket stays for a and c");

            js(browser, "window.ws.a.sub.stop(); window.ws.c.sub.stop();");
            await("the socket closed after the last channel", () -> heldSockets(a), n -> n == 0);
            assertEquals(0, subscribers(a, "mux-a"));
            assertEquals(0, subscribers(a, "mux-c"));
            assertEquals(0L, js(browser, "return window.ws.a.sub.pendingTimers() + window.ws.c.sub.pendingTimers()"));
        } finally {
            browser.get("about:blank");
            BrowserIT.stop(s);
        }
    }

    @Test
    void everyChannelOnTheSocketResumesAcrossAServerRestart() throws Exception {
        EmbeddedJcomet s = start(0, 0);
        int adminPort = s.adminPort(), frontPort = s.frontPort(0);
        String f = "http://127.0.0.1:" + frontPort, a = "http://127.0.0.1:" + adminPort;
        try {
            push(a, "rs-x", "x1");
            push(a, "rs-y", "y1");
            push(a, "rs-y", "y2");
            browser.get(f + "/index.html");
            subscribe("x", "rs-x", "ws", 1); // resuming from a stored seq, as chat.html does
            subscribe("y", "rs-y", "ws", 1);
            await("x's history", () -> msgs("x"), l -> l.size() >= 1);
            await("y's history", () -> msgs("y"), l -> l.size() >= 2);
            awaitSubscribers(a, "rs-x", 1);
            awaitSubscribers(a, "rs-y", 1);

            BrowserIT.stop(s);
            s = start(adminPort, frontPort);
            push(a, "rs-x", "x after restart");
            push(a, "rs-y", "y after restart 😀");

            assertEquals(List.of("x1", "x after restart"), await("x across the restart", () -> msgs("x"), l -> l.size() >= 2));
            assertEquals(List.of("y1", "y2", "y after restart 😀"), await("y across the restart", () -> msgs("y"), l -> l.size() >= 3));
            for (String n : List.of("x", "y")) {
                assertTrue(statuses(n).contains("restarted"), n + " was told of the restart: " + statuses(n));
                assertEquals(List.of(), strings(js(browser, "return window.ws[arguments[0]].gaps", n)));
                assertEquals("ws", js(browser, "return window.ws[arguments[0]].sub.transport", n), "still on WebSocket");
            }
            awaitSubscribers(a, "rs-x", 1);
            awaitSubscribers(a, "rs-y", 1);
            assertEquals(1, heldSockets(a), "back on one socket");
            push(a, "rs-x", "later");
            assertEquals(List.of("x1", "x after restart", "later"), await("x after reconnecting", () -> msgs("x"), l -> l.size() >= 3));
        } finally {
            browser.get("about:blank");
            BrowserIT.stop(s);
        }
    }

    @Test
    void aPageWhoseOriginTheServerRefusesFallsBackToSse() throws Exception {
        EmbeddedJcomet s = start(0, 0, "ws_allowed_origins", "https://only-this.example");
        String f = "http://127.0.0.1:" + s.frontPort(0), a = "http://127.0.0.1:" + s.adminPort();
        try {
            browser.get(f + "/index.html");
            subscribe("o", "origin-refused", "ws", 0);
            await("fallen back to SSE", () -> (String) js(browser, "return window.ws.o.sub.transport"), "sse"::equals);
            awaitSubscribers(a, "origin-refused", 1);
            assertEquals(0, heldSockets(a), "no WebSocket was accepted");
            push(a, "origin-refused", "over SSE");
            assertEquals(List.of("over SSE"), await("the message", () -> msgs("o"), l -> !l.isEmpty()));
            assertTrue(statuses("o").contains("fallback"), statuses("o").toString());

            // another channel of the same page goes straight to SSE: no more refused handshakes
            subscribe("p", "origin-refused-2", "ws", 0);
            assertEquals("sse", js(browser, "return window.ws.p.sub.transport"));
            awaitSubscribers(a, "origin-refused-2", 1);
        } finally {
            browser.get("about:blank");
            BrowserIT.stop(s);
        }
    }

    @Test
    void aBrowserWithoutWebSocketUsesSse() throws Exception {
        EmbeddedJcomet s = start(0, 0);
        String f = "http://127.0.0.1:" + s.frontPort(0), a = "http://127.0.0.1:" + s.adminPort();
        try {
            browser.get(f + "/index.html");
            js(browser, "window.WebSocket = undefined;");
            subscribe("n", "no-ws", "ws", 0);
            assertEquals("sse", js(browser, "return window.ws.n.sub.transport"));
            awaitSubscribers(a, "no-ws", 1);
            push(a, "no-ws", "over SSE");
            assertEquals(List.of("over SSE"), await("the message", () -> msgs("n"), l -> !l.isEmpty()));
        } finally {
            browser.get("about:blank");
            BrowserIT.stop(s);
        }
    }
}
