package io.jcomet.support;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

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

/**
 * What a user of the https front relies on, run against any server that has one (the embedded
 * launcher, jetty-base): HTTP/2 answers on long-poll, /stream and /sse; WebSocket over TLS HTTP/1.1;
 * a TLS long-poll client that leaves is noticed; a request pipelined over TLS is still answered; a
 * stream the client resets on a shared h2 connection frees its holder at once. Each check uses its
 * own channel and leaves no subscriber behind, so the server's global counters stay comparable.
 *
 * <p>Threads: the test thread; HttpClient's own threads deliver responses.
 */
public final class TlsChecks {
    /** The server's admin API: GET, the body of a 200 answer (anything else fails the test). */
    public interface Admin {
        String get(String pathAndQuery) throws Exception;
    }

    private final int tlsPort;
    private final SSLContext trust;
    private final HttpClient h2;
    private final Admin admin;

    public TlsChecks(int tlsPort, SSLContext trust, Admin admin) {
        this.tlsPort = tlsPort;
        this.trust = trust;
        this.h2 = Tls.h2(trust);
        this.admin = admin;
    }

    private int subscribers(String cname) throws Exception {
        return (int) field(admin.get("/info?cname=" + cname), "subscribers");
    }

    private long info(String field) throws Exception {
        return field(admin.get("/info"), field);
    }

    private static long field(String json, String name) {
        java.util.regex.Matcher m = java.util.regex.Pattern.compile("\"" + name + "\":(-?\\d+)").matcher(json);
        if (!m.find()) {
            throw new AssertionError("no " + name + " in " + json);
        }
        return Long.parseLong(m.group(1));
    }

    private HttpRequest get(String pathAndQuery) {
        return HttpRequest.newBuilder(URI.create("https://127.0.0.1:" + tlsPort + pathAndQuery))
                .timeout(Duration.ofSeconds(30)).GET().build();
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

    private void gone(String what, String... cnames) throws Exception {
        TestServer.awaitIo(what, Duration.ofSeconds(5), () -> {
            for (String c : cnames) {
                if (subscribers(c) != 0) {
                    return false;
                }
            }
            return true;
        });
    }

    public void longPollStreamAndSseAnswerOverHttp2() throws Exception {
        admin.get("/sign?cname=h2lp");
        admin.get("/sign?cname=h2st");
        admin.get("/sign?cname=h2sse");
        CompletableFuture<HttpResponse<String>> poll = h2.sendAsync(get("/sub?cname=h2lp&seq=1"), HttpResponse.BodyHandlers.ofString());
        // a /stream's head may travel with its first message (plain HTTP/1.1 upstreams, behind a proxy)
        CompletableFuture<HttpResponse<InputStream>> streamed = h2.sendAsync(get("/stream?cname=h2st&seq=1"), HttpResponse.BodyHandlers.ofInputStream());
        HttpResponse<InputStream> sse = h2.send(get("/sse?cname=h2sse&seq=1"), HttpResponse.BodyHandlers.ofInputStream());
        assertEquals(HttpClient.Version.HTTP_2, sse.version());
        assertEquals("text/event-stream", sse.headers().firstValue("content-type").orElse("").replaceAll(";.*", ""));
        TestServer.awaitIo("the long-poll and the stream held", Duration.ofSeconds(5),
                () -> subscribers("h2lp") == 1 && subscribers("h2st") == 1);
        admin.get("/push?cname=h2lp&content=over-h2");
        admin.get("/push?cname=h2st&content=streamed");
        admin.get("/push?cname=h2sse&content=evented");
        HttpResponse<InputStream> stream = streamed.get(10, TimeUnit.SECONDS);
        assertEquals(HttpClient.Version.HTTP_2, stream.version());
        HttpResponse<String> answered = poll.get(10, TimeUnit.SECONDS);
        assertEquals(HttpClient.Version.HTTP_2, answered.version());
        assertTrue(answered.body().contains("\"content\":\"over-h2\""), answered.body());
        assertTrue(lineWith(lines(stream), "streamed", 10).contains("\"seq\":1"));
        assertTrue(lineWith(lines(sse), "evented", 10).startsWith("data: "));
        stream.body().close();
        sse.body().close();
        gone("the closed streams gone", "h2st", "h2sse");
    }

    public void aStreamTheClientResetsFreesItsHolderAtOnceWhileItsConnectionLivesOn() throws Exception {
        admin.get("/sign?cname=rst");
        HttpResponse<InputStream> kept = h2.send(get("/sse?cname=rst&seq=1"), HttpResponse.BodyHandlers.ofInputStream());
        HttpResponse<InputStream> reset = h2.send(get("/sse?cname=rst&seq=1"), HttpResponse.BodyHandlers.ofInputStream());
        assertEquals(HttpClient.Version.HTTP_2, reset.version());
        TestServer.awaitIo("both held", Duration.ofSeconds(5), () -> subscribers("rst") == 2);
        long disconnected = info("disconnected");
        long heldSse = info("held_sse");
        long t0 = System.nanoTime();
        reset.body().close(); // the JDK client cancels the stream: RST_STREAM on the shared connection
        TestServer.awaitIo("the reset stream's holder freed", Duration.ofSeconds(1), () -> subscribers("rst") == 1);
        System.out.printf("h2 stream reset: holder freed in %d ms%n", (System.nanoTime() - t0) / 1_000_000);
        assertEquals(heldSse - 1, info("held_sse"));
        assertEquals(disconnected + 1, info("disconnected"), "the departure is counted");
        admin.get("/push?cname=rst&content=still-here");
        assertTrue(lineWith(lines(kept), "still-here", 10).startsWith("data: "), "the other stream on the connection still receives");
        kept.body().close();
        gone("the kept stream gone", "rst");
    }

    public void webSocketUpgradesOverTlsHttp11() throws Exception {
        admin.get("/sign?cname=wss");
        try (WsClient ws = WsClient.open(Tls.http11(trust), URI.create("wss://127.0.0.1:" + tlsPort + "/ws"), true)) {
            ws.send("{\"op\":\"sub\",\"cname\":\"wss\",\"seq\":1}");
            String ok = ws.next(10);
            assertTrue(ok.contains("sub_ok"), ok);
            TestServer.awaitIo("the ws subscriber held", Duration.ofSeconds(5), () -> subscribers("wss") == 1);
            admin.get("/push?cname=wss&content=secure");
            String msg = ws.next(10);
            assertTrue(msg.contains("\"content\":\"secure\""), msg);
        }
        gone("the closed WebSocket's subscriber gone", "wss");
    }

    /** Needs {@code detect_disconnects_after_ms=0} on the server. */
    public void aTlsLongPollClientThatLeavesIsNoticedAtOnce() throws Exception {
        admin.get("/sign?cname=gone");
        long disconnected = info("disconnected");
        SSLSocket s = Tls.http11Socket(trust, tlsPort);
        s.getOutputStream().write("GET /sub?cname=gone&seq=1 HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n".getBytes(StandardCharsets.US_ASCII));
        s.getOutputStream().flush();
        TestServer.awaitIo("held", Duration.ofSeconds(5), () -> subscribers("gone") == 1);
        long t0 = System.nanoTime();
        s.close(); // close_notify, then FIN
        TestServer.awaitIo("the closed TLS client forgotten", Duration.ofMillis(1500), () -> subscribers("gone") == 0);
        System.out.printf("TLS long-poll close noticed in %d ms%n", (System.nanoTime() - t0) / 1_000_000);
        assertEquals(disconnected + 1, info("disconnected"));
    }

    /**
     * Needs {@code detect_disconnects_after_ms=0} on the server. A request pipelined WITH the held one
     * (one TLS record) is Jetty's and answered after it; bytes sent while the request is held (a
     * record of their own) are read away by the watch, which is no disconnect: the held answer comes,
     * says {@code Connection: close}, and the connection ends.
     */
    public void aRequestPipelinedBehindAHeldOneOverTlsIsStillAnswered() throws Exception {
        admin.get("/sign?cname=tlspipe");
        long disconnected = info("disconnected");
        try (SSLSocket s = Tls.http11Socket(trust, tlsPort)) {
            s.setSoTimeout(200);
            OutputStream out = s.getOutputStream();
            out.write(("GET /sub?cname=tlspipe&seq=1 HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n"
                    + "GET /ping?cb= HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n").getBytes(StandardCharsets.US_ASCII));
            out.flush();
            TestServer.awaitIo("held", Duration.ofSeconds(5), () -> subscribers("tlspipe") == 1);
            Thread.sleep(300); // give a wrongly eager watch the chance to misread the pipelined bytes
            assertEquals(1, subscribers("tlspipe"), "a pipelined request is not a disconnect");
            admin.get("/push?cname=tlspipe&content=hello");
            String both = SocketReads.readUntil(s.getInputStream(), "\"type\":\"ping\"", Duration.ofSeconds(5));
            assertTrue(both.contains("\"content\":\"hello\""), both);
        }
        try (SSLSocket s = Tls.http11Socket(trust, tlsPort)) {
            s.setSoTimeout(200);
            OutputStream out = s.getOutputStream();
            out.write("GET /sub?cname=tlspipe&seq=2 HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n".getBytes(StandardCharsets.US_ASCII));
            out.flush();
            TestServer.awaitIo("held again", Duration.ofSeconds(5), () -> subscribers("tlspipe") == 1);
            // a TLS record of its own while held and watched: decrypted and dropped by the watch
            out.write("GET /ping?cb= HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n".getBytes(StandardCharsets.US_ASCII));
            out.flush();
            Thread.sleep(300); // give a wrongly eager watch the chance to take the bytes for a close
            assertEquals(1, subscribers("tlspipe"), "bytes sent while held are not a disconnect");
            admin.get("/push?cname=tlspipe&content=again");
            String answer = SocketReads.readUntil(s.getInputStream(), "\"content\":\"again\"", Duration.ofSeconds(5));
            assertTrue(answer.toLowerCase().contains("connection: close"), answer);
        }
        assertEquals(disconnected, info("disconnected"));
    }
}
