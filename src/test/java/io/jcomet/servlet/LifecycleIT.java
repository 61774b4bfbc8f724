package io.jcomet.servlet;

import static io.jcomet.support.TestServer.awaitIo;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.jcomet.support.RawStream;
import io.jcomet.support.TestServer;
import io.jcomet.support.TestServer.Response;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/** Slow consumers and graceful stop: nothing hangs, nothing grows without bound. */
class LifecycleIT {

    @Test
    void aStreamThatStopsReadingIsDroppedAndDoesNotBlockThePublisher() throws Exception {
        try (TestServer s = TestServer.start("max_pending_bytes", "65536", "max_subscribers_per_channel", "100")) {
            Socket stuck = new Socket();
            stuck.setReceiveBufferSize(4096); // the client reads nothing and its kernel buffer is small
            stuck.connect(new InetSocketAddress("127.0.0.1", s.front()));
            stuck.getOutputStream().write("GET /stream?cname=slow&seq=1 HTTP/1.1\r\nHost: x\r\n\r\n".getBytes(StandardCharsets.US_ASCII));
            awaitIo("stream held", Duration.ofSeconds(5), () -> s.subscribers("slow") == 1);
            try (RawStream healthy = new RawStream(s.front(), "/stream?cname=slow&seq=1")) {
                awaitIo("both held", Duration.ofSeconds(5), () -> s.subscribers("slow") == 2);
                String big = "x".repeat(60_000);
                assertTimeoutPreemptively(Duration.ofSeconds(60), () -> {
                    for (int i = 0; i < 300 && s.info("dropped_slow") == 0; i++) {
                        Response r = s.send(java.net.http.HttpRequest.newBuilder(s.uri(s.admin(), "/push?cname=slow&raw=1"))
                                .header("Content-Type", "text/plain")
                                .POST(java.net.http.HttpRequest.BodyPublishers.ofString(big)));
                        assertEquals(200, r.status());
                        healthy.awaitBody("\"seq\":" + (i + 1) + ",", 10_000); // the reading client keeps up
                    }
                });
                assertEquals(1, s.info("dropped_slow"), "the stuck stream was dropped and counted");
                awaitIo("stuck one unlinked", Duration.ofSeconds(5), () -> s.subscribers("slow") == 1);
            }
            stuck.close();
        }
    }

    @Test
    void stoppingTheServerAnswersEveryHeldRequestWithReconnect() throws Exception {
        TestServer s = TestServer.start(2, "polling_timeout", "60");
        CompletableFuture<Response> poll = s.getAsync(s.server.frontPort(1), "/sub?cname=bye&seq=1");
        RawStream stream = new RawStream(s.front(), "/stream?cname=bye2&seq=1");
        awaitIo("both held", Duration.ofSeconds(5), () -> s.subscribers("bye") == 1 && s.subscribers("bye2") == 1);
        assertTimeoutPreemptively(Duration.ofSeconds(15), s::close);
        Response r = poll.get(5, TimeUnit.SECONDS);
        assertTrue(r.body().startsWith("{\"type\":\"reconnect\",\"cname\":\"bye\""), r.body());
        stream.awaitBody("\"type\":\"reconnect\"", 5000);
        assertTrue(stream.awaitEnd(5000), "the stream response ended");
        stream.close();
    }

    @Test
    void invalidConfigurationFailsTheStartNamingKeyAndValue() {
        Exception e = org.junit.jupiter.api.Assertions.assertThrows(Exception.class,
                () -> TestServer.start("channel_buffer_size", "lots").close());
        Throwable t = e;
        StringBuilder messages = new StringBuilder();
        while (t != null) {
            messages.append(t.getMessage()).append(" | ");
            t = t.getCause();
        }
        assertTrue(messages.toString().contains("channel_buffer_size=lots"), messages.toString());
    }
}
