package io.jcomet.browser;

import static io.jcomet.browser.BrowserIT.await;
import static io.jcomet.browser.BrowserIT.awaitSubscribers;
import static io.jcomet.browser.BrowserIT.get;
import static io.jcomet.browser.BrowserIT.js;
import static io.jcomet.browser.BrowserIT.push;
import static io.jcomet.browser.BrowserIT.strings;
import static org.junit.jupiter.api.Assertions.assertEquals;

import io.jcomet.launcher.DevCertificate;
import io.jcomet.launcher.EmbeddedJcomet;
import java.io.InputStream;
import java.nio.file.Files;
import java.security.KeyStore;
import java.security.MessageDigest;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.openqa.selenium.WebDriver;

/**
 * jcomet.js in real Chromium on a page served over https by the launcher's https front (the
 * development certificate, trusted by its key's hash with {@code --ignore-certificate-errors-spki-list}):
 * one page with 10 SSE subscriptions (jcomet.js) and 10 /stream reads (fetch) to one origin, all held at once and all receiving,
 * which HTTP/1.1's 6 connections per origin could not do (they share one h2 connection), and the same
 * page over HTTP/1.1 showing the 7th stall; and
 * {@code transport: 'ws'} over wss.
 *
 * <p>Threads: JUnit's thread drives the browser and the server.
 */
class BrowserTlsIT {
    private static WebDriver browser;
    private static EmbeddedJcomet server;
    private static String page;
    private static String admin;

    @BeforeAll
    static void start() throws Exception {
        Chromium.assumeAvailable();
        server = EmbeddedJcomet.builder().host("127.0.0.1").adminPort(0).frontPorts(0, 1).tlsPort(0)
                .set("polling_timeout", "20").start();
        page = "https://127.0.0.1:" + server.tlsPort();
        admin = "http://127.0.0.1:" + server.adminPort();
        browser = Chromium.open("--ignore-certificate-errors-spki-list=" + spkiHash());
    }

    @AfterAll
    static void stop() {
        Chromium.close(browser);
        browser = null;
        if (server != null) {
            server.stop();
        }
    }

    @AfterEach
    void blank() {
        if (browser != null) {
            browser.get("about:blank");
        }
    }

    /** base64(SHA-256(SubjectPublicKeyInfo)) of the development certificate, as Chromium's switch wants it. */
    private static String spkiHash() throws Exception {
        KeyStore ks = KeyStore.getInstance("PKCS12");
        try (InputStream in = Files.newInputStream(DevCertificate.DEFAULT)) {
            ks.load(in, DevCertificate.PASSWORD.toCharArray());
        }
        byte[] spki = ks.getCertificate(ks.aliases().nextElement()).getPublicKey().getEncoded();
        return Base64.getEncoder().encodeToString(MessageDigest.getInstance("SHA-256").digest(spki));
    }

    private static void subscribe(String name, String cname, String transport) {
        subscribe(browser, name, cname, transport);
    }

    private static void subscribe(WebDriver b, String name, String cname, String transport) {
        js(b, "window.subs = window.subs || {};"
                + "var r = window.subs[arguments[0]] = { msgs: [] };"
                + "r.sub = new JComet.Subscription({ url: '', channel: arguments[1], transport: arguments[2], seq: 0,"
                + "  onMessage: function (c) { r.msgs.push(c); } }).start();", name, cname, transport);
    }

    /** A /stream read by fetch() (jcomet.js has no stream transport): its body text so far in window.subs[name].text. */
    private static void fetchStream(String name, String cname) {
        fetchStream(browser, name, cname);
    }

    /** As {@link #fetchStream(String, String)}; {@code window.subs[name].abort()} ends the read. */
    private static void fetchStream(WebDriver b, String name, String cname) {
        js(b, "window.subs = window.subs || {};"
                + "var r = window.subs[arguments[0]] = { text: '' }, ctl = new AbortController();"
                + "r.abort = function () { ctl.abort(); };"
                + "fetch('/stream?cname=' + encodeURIComponent(arguments[1]) + '&seq=0', { signal: ctl.signal }).then(function (res) {"
                + "  var reader = res.body.getReader(), dec = new TextDecoder();"
                + "  function more() { return reader.read().then(function (x) {"
                + "    if (x.done) return; r.text += dec.decode(x.value, { stream: true }); return more(); }); }"
                + "  return more(); }).catch(function () {});", name, cname);
    }

    private static String text(String name) {
        return String.valueOf(js(browser, "return window.subs[arguments[0]].text", name));
    }

    private static List<String> msgs(String name) {
        return strings(js(browser, "return window.subs[arguments[0]].msgs", name));
    }

    private static final Pattern FIELD = Pattern.compile("\"(held_sse|held_stream|held_ws)\":(\\d+)");

    private static long held(String transport) {
        Matcher m = FIELD.matcher(get(admin + "/info"));
        while (m.find()) {
            if (m.group(1).equals("held_" + transport)) {
                return Long.parseLong(m.group(2));
            }
        }
        return -1;
    }

    @Test
    void tenSseAndTenStreamsOfOnePageAllReceiveOverOneH2Origin() {
        browser.get(page + "/index.html");
        assertEquals("h2", js(browser, "return performance.getEntriesByType('navigation')[0].nextHopProtocol"),
                "the page itself came over HTTP/2");
        List<String> names = new ArrayList<>();
        for (int i = 0; i < 10; i++) {
            subscribe("sse" + i, "tls-sse-" + i, "sse");
            fetchStream("stream" + i, "tls-stream-" + i);
            names.add("sse" + i);
            names.add("stream" + i);
        }
        // over HTTP/1.1 a page gets 6 connections per origin: the 7th subscription would stall
        await("10 SSE and 10 streams held at once", () -> held("sse") + "/" + held("stream"), s -> s.equals("10/10"));
        for (String n : names) {
            String cname = n.startsWith("sse") ? "tls-sse-" + n.substring(3) : "tls-stream-" + n.substring(6);
            awaitSubscribers(admin, cname, 1);
            push(admin, cname, "to " + n);
        }
        for (String n : names) {
            if (n.startsWith("sse")) {
                await(n + " received its message", () -> msgs(n), l -> l.contains("to " + n));
            } else {
                await(n + " received its message", () -> text(n), t -> t.contains("\"content\":\"to " + n + "\""));
            }
        }
    }

    /**
     * The reason for h2: the same page over HTTP/1.1 (Chromium with h2 turned off) gets 6 connections
     * to the origin, so of its 20 subscriptions 6 are held and receive while the 7th onwards wait for a
     * connection, without an error to the page; one of the 6 ending lets a waiting one through.
     */
    @Test
    void overHttp11TheSeventhSubscriptionOfThePageStalls() throws Exception {
        WebDriver h1 = Chromium.open("--disable-http2", "--ignore-certificate-errors-spki-list=" + spkiHash());
        try {
            h1.get(page + "/index.html");
            assertEquals("http/1.1", js(h1, "return performance.getEntriesByType('navigation')[0].nextHopProtocol"),
                    "the page itself came over HTTP/1.1");
            List<String> names = new ArrayList<>();
            for (int i = 0; i < 10; i++) {
                subscribe(h1, "sse" + i, "h1-sse-" + i, "sse");
                fetchStream(h1, "stream" + i, "h1-stream-" + i);
                names.add("sse" + i);
                names.add("stream" + i);
            }
            await("6 of the page's 20 subscriptions held (6 connections per origin)",
                    () -> heldOf(names).size(), n -> n == 6);
            List<String> held = heldOf(names);
            for (String n : held) {
                push(admin, h1Channel(n), "to " + n);
            }
            for (String n : held) {
                await(n + " received its message", () -> received(h1, n), r -> r.contains("to " + n));
            }
            // every held one has been answered; the other 14 never reached the server
            assertEquals(held, heldOf(names), "the same 6 are still the only ones held");
            for (String n : names) {
                if (!held.contains(n)) {
                    assertEquals("", received(h1, n), n + " is stalled: it has received nothing");
                }
            }
            String ended = held.get(0);
            js(h1, ended.startsWith("sse") ? "window.subs[arguments[0]].sub.stop()" : "window.subs[arguments[0]].abort()", ended);
            List<String> after = await("a waiting subscription takes the freed connection", () -> heldOf(names),
                    l -> l.size() == 6 && !l.contains(ended));
            String seventh = after.stream().filter(n -> !held.contains(n)).findFirst().orElseThrow();
            push(admin, h1Channel(seventh), "late to " + seventh);
            await(seventh + " receives once it has a connection", () -> received(h1, seventh),
                    r -> r.contains("late to " + seventh));
        } finally {
            Chromium.close(h1);
        }
    }

    private static String h1Channel(String name) {
        return name.startsWith("sse") ? "h1-sse-" + name.substring(3) : "h1-stream-" + name.substring(6);
    }

    /** The names whose channel has its subscriber held by the server now. */
    private static List<String> heldOf(List<String> names) {
        List<String> held = new ArrayList<>();
        for (String n : names) {
            if (BrowserIT.subscribers(admin, h1Channel(n)) > 0) {
                held.add(n);
            }
        }
        return held;
    }

    /** What a subscription of the page has received so far: SSE messages joined, or the stream's text. */
    private static String received(WebDriver b, String name) {
        return String.valueOf(js(b, "var r = window.subs[arguments[0]];"
                + " return r.msgs ? r.msgs.join('\\n') : r.text;", name));
    }

    @Test
    void theWsTransportWorksOverWss() {
        browser.get(page + "/index.html");
        subscribe("ws", "tls-ws", "ws");
        awaitSubscribers(admin, "tls-ws", 1);
        assertEquals(1L, held("ws"), "held on a WebSocket");
        push(admin, "tls-ws", "over wss");
        await("the ws subscription received", () -> msgs("ws"), l -> l.contains("over wss"));
        assertEquals("ws", js(browser, "return window.subs.ws.sub.transport"));
    }
}
