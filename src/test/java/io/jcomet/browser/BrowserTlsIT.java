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
 * which HTTP/1.1's 6 connections per origin could not do (they share one h2 connection); and
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
        js(browser, "window.subs = window.subs || {};"
                + "var r = window.subs[arguments[0]] = { msgs: [] };"
                + "r.sub = new JComet.Subscription({ url: '', channel: arguments[1], transport: arguments[2], seq: 0,"
                + "  onMessage: function (c) { r.msgs.push(c); } }).start();", name, cname, transport);
    }

    /** A /stream read by fetch() (jcomet.js has no stream transport): its body text so far in window.subs[name].text. */
    private static void fetchStream(String name, String cname) {
        js(browser, "window.subs = window.subs || {};"
                + "var r = window.subs[arguments[0]] = { text: '' };"
                + "fetch('/stream?cname=' + encodeURIComponent(arguments[1]) + '&seq=0').then(function (res) {"
                + "  var reader = res.body.getReader(), dec = new TextDecoder();"
                + "  function more() { return reader.read().then(function (x) {"
                + "    if (x.done) return; r.text += dec.decode(x.value, { stream: true }); return more(); }); }"
                + "  return more(); });", name, cname);
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
