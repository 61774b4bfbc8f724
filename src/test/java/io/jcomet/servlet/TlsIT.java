package io.jcomet.servlet;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.jcomet.support.TestServer;
import io.jcomet.support.Tls;
import io.jcomet.ws.WsClient;
import java.io.BufferedReader;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.io.OutputStream;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLSocket;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The embedded launcher's https front (development certificate, trusted by the test): browsers get
 * long-poll, /stream and /sse over HTTP/2; WebSocket upgrades over TLS HTTP/1.1; a TLS long-poll client
 * that goes away is noticed as on plain HTTP/1 (and a request pipelined behind a held one over TLS is
 * still answered, also when it arrives while the first is watched); a stream the client resets on a shared h2 connection frees its holder at once.
 *
 * <p>Threads: JUnit's test thread; HttpClient's own threads deliver responses.
 */
class TlsIT {
    private static TestServer t;
    private static SSLContext trust;
    private static HttpClient h2;

    @BeforeAll
    static void start() throws Exception {
        t = TestServer.startWithTls("polling_timeout", "60", "detect_disconnects_after_ms", "0");
        trust = Tls.trustingDevCertificate();
        h2 = Tls.h2(trust);
    }

    @AfterAll
    static void stop() {
        if (t != null) {
            t.close();
        }
    }

    private static URI https(String pathAndQuery) {
        return URI.create("https://127.0.0.1:" + t.tls() + pathAndQuery);
    }

    private static HttpRequest get(String pathAndQuery) {
        return HttpRequest.newBuilder(https(pathAndQuery)).timeout(Duration.ofSeconds(30)).GET().build();
    }

    /** Reads lines of a streaming body until one contains {@code marker}; fails after {@code seconds}. */
    private static String lineWith(BufferedReader in, String marker, int seconds) throws Exception {
        return CompletableFuture.supplyAsync(() -> {
            try {
                String line;
                while ((line = in.readLine()) != null) {
                    if (line.contains(marker)) {
                        return line;
                    }
                }
                throw new AssertionError("stream ended before " + marker);
            } catch (java.io.IOException e) {
                throw new java.io.UncheckedIOException(e);
            }
        }).get(seconds, TimeUnit.SECONDS);
    }

    private static BufferedReader lines(HttpResponse<InputStream> r) {
        return new BufferedReader(new InputStreamReader(r.body(), StandardCharsets.UTF_8));
    }

    @Test
    void longPollStreamAndSseAnswerOverHttp2() throws Exception {
        t.admin("/sign?cname=h2lp");
        t.admin("/sign?cname=h2st");
        t.admin("/sign?cname=h2sse");
        CompletableFuture<HttpResponse<String>> poll = h2.sendAsync(get("/sub?cname=h2lp&seq=1"), HttpResponse.BodyHandlers.ofString());
        HttpResponse<InputStream> stream = h2.send(get("/stream?cname=h2st&seq=1"), HttpResponse.BodyHandlers.ofInputStream());
        HttpResponse<InputStream> sse = h2.send(get("/sse?cname=h2sse&seq=1"), HttpResponse.BodyHandlers.ofInputStream());
        assertEquals(HttpClient.Version.HTTP_2, stream.version());
        assertEquals(HttpClient.Version.HTTP_2, sse.version());
        assertEquals("text/event-stream", sse.headers().firstValue("content-type").orElse("").replaceAll(";.*", ""));
        TestServer.awaitIo("the long-poll held", Duration.ofSeconds(5), () -> t.subscribers("h2lp") == 1);
        assertEquals(200, t.admin("/push?cname=h2lp&content=over-h2").status());
        assertEquals(200, t.admin("/push?cname=h2st&content=streamed").status());
        assertEquals(200, t.admin("/push?cname=h2sse&content=evented").status());
        HttpResponse<String> answered = poll.get(10, TimeUnit.SECONDS);
        assertEquals(HttpClient.Version.HTTP_2, answered.version());
        assertTrue(answered.body().contains("\"content\":\"over-h2\""), answered.body());
        assertTrue(lineWith(lines(stream), "streamed", 10).contains("\"seq\":1"));
        assertTrue(lineWith(lines(sse), "evented", 10).startsWith("data: "));
        stream.body().close();
        sse.body().close();
        // the global disconnected count other tests read: let these departures land first
        TestServer.awaitIo("the closed streams gone", Duration.ofSeconds(5),
                () -> t.subscribers("h2st") == 0 && t.subscribers("h2sse") == 0);
    }

    @Test
    void aStreamTheClientResetsFreesItsHolderAtOnceWhileItsConnectionLivesOn() throws Exception {
        t.admin("/sign?cname=rst");
        HttpResponse<InputStream> kept = h2.send(get("/sse?cname=rst&seq=1"), HttpResponse.BodyHandlers.ofInputStream());
        HttpResponse<InputStream> reset = h2.send(get("/stream?cname=rst&seq=1"), HttpResponse.BodyHandlers.ofInputStream());
        assertEquals(HttpClient.Version.HTTP_2, reset.version());
        TestServer.awaitIo("both held", Duration.ofSeconds(5), () -> t.subscribers("rst") == 2);
        long disconnected = t.info("disconnected");
        long heldStreams = t.info("held_stream");
        long t0 = System.nanoTime();
        reset.body().close(); // the JDK client cancels the stream: RST_STREAM on the shared connection
        TestServer.awaitIo("the reset stream's holder freed", Duration.ofSeconds(1), () -> t.subscribers("rst") == 1);
        System.out.printf("h2 stream reset: holder freed in %d ms%n", (System.nanoTime() - t0) / 1_000_000);
        assertEquals(heldStreams - 1, t.info("held_stream"));
        assertEquals(disconnected + 1, t.info("disconnected"), "the departure is counted");
        assertEquals(200, t.admin("/push?cname=rst&content=still-here").status());
        assertTrue(lineWith(lines(kept), "still-here", 10).startsWith("data: "), "the other stream on the connection still receives");
        kept.body().close();
        TestServer.awaitIo("the kept stream gone", Duration.ofSeconds(5), () -> t.subscribers("rst") == 0);
    }

    @Test
    void webSocketUpgradesOverTlsHttp11() throws Exception {
        t.admin("/sign?cname=wss");
        try (WsClient ws = WsClient.open(Tls.http11(trust), URI.create("wss://127.0.0.1:" + t.tls() + "/ws"), true)) {
            ws.send("{\"op\":\"sub\",\"cname\":\"wss\",\"seq\":1}");
            String ok = ws.next(10);
            assertTrue(ok.contains("sub_ok"), ok);
            TestServer.awaitIo("the ws subscriber held", Duration.ofSeconds(5), () -> t.subscribers("wss") == 1);
            assertEquals(200, t.admin("/push?cname=wss&content=secure").status());
            String msg = ws.next(10);
            assertTrue(msg.contains("\"content\":\"secure\""), msg);
        }
        TestServer.awaitIo("the closed WebSocket's subscriber gone", Duration.ofSeconds(5), () -> t.subscribers("wss") == 0);
    }

    @Test
    void aTlsLongPollClientThatLeavesIsNoticedAtOnce() throws Exception {
        t.admin("/sign?cname=gone");
        long disconnected = t.info("disconnected");
        SSLSocket s = Tls.http11Socket(trust, t.tls());
        s.getOutputStream().write("GET /sub?cname=gone&seq=1 HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n".getBytes(StandardCharsets.US_ASCII));
        s.getOutputStream().flush();
        TestServer.awaitIo("held", Duration.ofSeconds(5), () -> t.subscribers("gone") == 1);
        long t0 = System.nanoTime();
        s.close(); // close_notify, then FIN
        TestServer.awaitIo("the closed TLS client forgotten", Duration.ofMillis(1500), () -> t.subscribers("gone") == 0);
        System.out.printf("TLS long-poll close noticed in %d ms%n", (System.nanoTime() - t0) / 1_000_000);
        assertEquals(disconnected + 1, t.info("disconnected"));
    }

    @Test
    void aRequestPipelinedBehindAHeldOneOverTlsIsStillAnswered() throws Exception {
        t.admin("/sign?cname=tlspipe");
        long disconnected = t.info("disconnected");
        try (SSLSocket s = Tls.http11Socket(trust, t.tls())) {
            s.setSoTimeout(200);
            OutputStream out = s.getOutputStream();
            out.write("GET /sub?cname=tlspipe&seq=1 HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n".getBytes(StandardCharsets.US_ASCII));
            out.flush();
            TestServer.awaitIo("held", Duration.ofSeconds(5), () -> t.subscribers("tlspipe") == 1);
            // a TLS record of its own, arriving while the first is held and watched: the watch decrypts
            // it to look, and it must still reach Jetty as the next request
            out.write("GET /ping?cb= HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n".getBytes(StandardCharsets.US_ASCII));
            out.flush();
            Thread.sleep(300); // give a wrongly eager watch the chance to misread the pipelined bytes
            assertEquals(1, t.subscribers("tlspipe"), "a pipelined request is not a disconnect");
            assertEquals(200, t.admin("/push?cname=tlspipe&content=hello").status());
            String both = DisconnectIT.readUntil(s.getInputStream(), "\"type\":\"ping\"", Duration.ofSeconds(5));
            assertTrue(both.contains("\"content\":\"hello\""), both);
            assertEquals(disconnected, t.info("disconnected"));
        }
    }
}
