package io.jcomet.servlet;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.jcomet.support.TestServer;
import java.io.ByteArrayOutputStream;
import java.io.InputStream;
import java.net.Socket;
import java.net.http.HttpRequest;
import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.Test;

/** The smaller front-door items: malformed requests, nosniff, listings, the demo, /stats. */
class HardeningIT {

    /** One raw HTTP/1.1 request (anything on the wire), answered and closed; returns status line, headers and body. */
    static String raw(int port, byte[] request) throws Exception {
        try (Socket s = new Socket("127.0.0.1", port)) {
            s.setSoTimeout(10_000);
            s.getOutputStream().write(request);
            s.getOutputStream().flush();
            InputStream in = s.getInputStream();
            ByteArrayOutputStream b = new ByteArrayOutputStream();
            byte[] buf = new byte[8192];
            int n;
            while ((n = in.read(buf)) > 0) {
                b.write(buf, 0, n);
            }
            return b.toString(StandardCharsets.UTF_8);
        }
    }

    static String get(int port, String target) throws Exception {
        return raw(port, ("GET " + target + " HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n").getBytes(StandardCharsets.ISO_8859_1));
    }

    @Test
    void malformedQueriesGetTheJsonErrorInTheCallersTransportAndAreCounted() throws Exception {
        try (TestServer t = TestServer.start()) {
            String big = "a".repeat(8000);
            String r = get(t.front(), "/ping?cb=%zz&x=" + big);
            assertTrue(r.startsWith("HTTP/1.1 400"), r);
            assertTrue(r.contains("\r\n\r\n{\"type\":\"error\",\"reason\":\"malformed"), r);
            assertFalse(r.contains(big), "the URI is not echoed");
            String jsonp = get(t.front(), "/sub?cname=a&seq=x&cb=app.onMsg");
            assertTrue(jsonp.startsWith("HTTP/1.1 200") && jsonp.contains("app.onMsg({\"type\":\"error\""), jsonp);
            String utf8 = raw(t.admin(), ("POST /push HTTP/1.1\r\nHost: x\r\nConnection: close\r\nContent-Type: application/x-www-form-urlencoded\r\n"
                    + "Content-Length: 22\r\n\r\ncname=c&content=%C3%28").getBytes(StandardCharsets.ISO_8859_1));
            assertTrue(utf8.startsWith("HTTP/1.1 400") && utf8.contains("{\"type\":\"error\""), utf8);
            // refused by Jetty before the web app (path encoding, oversized URI): the launcher answers in JSON too
            for (String target : new String[] {"/%zz/sub?cname=a", "/ping?x=" + "a".repeat(9000)}) {
                String r2 = get(t.front(), target);
                assertTrue(r2.startsWith("HTTP/1.1 4") && r2.contains("\r\n\r\n{\"type\":\"error\""), r2);
                assertTrue(r2.toLowerCase().contains("x-content-type-options: nosniff"), r2);
            }
            assertTrue(t.info("bad_request") >= 5, "counted");
        }
    }

    @Test
    void everyResponseSaysNosniffAndNothingIsListed() throws Exception {
        try (TestServer t = TestServer.start()) {
            for (String target : new String[] {"/ping", "/sub?cname=a&seq=0", "/nope", "/js/jcomet.js", "/index.html", "/js/", "/css/", "/%zz"}) {
                String r = get(t.front(), target);
                assertTrue(r.toLowerCase().contains("x-content-type-options: nosniff"), target + ": " + r);
            }
            assertTrue(get(t.admin(), "/info").toLowerCase().contains("x-content-type-options: nosniff"));
            for (String dir : new String[] {"/js/", "/css/"}) {
                String r = get(t.front(), dir);
                assertFalse(r.contains("jcomet.js") || r.contains("jcomet.css"), "listed " + dir + ": " + r);
                assertNotEquals("200", r.substring(9, 12), dir);
            }
        }
    }

    @Test
    void theDemoIsAbsentUnlessDemoIsTrue() throws Exception {
        try (TestServer t = TestServer.start()) {
            assertTrue(get(t.front(), "/demo/chat/sign?room=x").startsWith("HTTP/1.1 404"));
            assertTrue(get(t.front(), "/chat.html").startsWith("HTTP/1.1 404"));
        }
        try (TestServer t = TestServer.start("demo", "true")) {
            assertTrue(get(t.front(), "/demo/chat/sign?room=x").startsWith("HTTP/1.1 200"));
            assertTrue(get(t.front(), "/chat.html").startsWith("HTTP/1.1 200"));
            TestServer.Response r = t.send(HttpRequest.newBuilder(t.uri(t.front(), "/demo/chat/pub"))
                    .header("Content-Type", "application/x-www-form-urlencoded")
                    .POST(HttpRequest.BodyPublishers.ofString("room=x&name=%zz&text=hi")));
            assertEquals(400, r.status(), r.body());
            assertTrue(r.body().startsWith("{\"type\":\"error\""), r.body());
        }
    }

    @Test
    void statsIsOffByDefaultAndCachedForASecondWhenOn() throws Exception {
        try (TestServer t = TestServer.start()) {
            assertEquals(404, t.front("/stats").status());
        }
        try (TestServer t = TestServer.start("front_stats", "true")) {
            String first = t.front("/stats").body();
            assertFalse(first.contains("open_fds"), "no fd scan for anonymous callers: " + first);
            t.admin("/push?cname=s&content=x");
            String second = t.front("/stats").body();
            assertEquals(first, second, "the same document within the second");
            TestServer.awaitIo("refreshed after a second", java.time.Duration.ofSeconds(3),
                    () -> t.front("/stats").body().contains("\"published\":1"));
        }
    }
}
