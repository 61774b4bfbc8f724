package io.jcomet.deploy;

import static io.jcomet.deploy.ConnectionDeadlinesIT.connect;
import static io.jcomet.deploy.ConnectionDeadlinesIT.readUntil;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.jcomet.redis.RedisProcess;
import io.jcomet.support.TestServer;
import java.io.OutputStream;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.Test;

/**
 * The admin connector's inline handling ({@code admin_inline}, on by default): short requests
 * without a body run on the admin selector thread, requests with a body are handed to the pool.
 * What a back end relies on: a body that arrives in pieces is read whole and answered, and while
 * it is awaited the admin port keeps answering other connections (a blocking read on the selector
 * thread would stall the whole port); a back end that pipelines requests and stops reading their
 * answers holds up only its own connection, on either engine (a blocking answer write on the
 * selector thread would stall the whole port); pipelined pushes on one kept-alive connection, with
 * an /info and a posted push among them, are answered in order on either engine (on Redis each
 * answer completes on Lettuce's I/O thread, which hands the connection on); a held /psub stream
 * on the admin port gets its presence lines.
 *
 * <p>Threads: JUnit's test thread, and one writer thread per test that pipelines requests.
 */
class AdminInlineIT {

    @Test
    void aTrickledBodyIsReadWholeWhileTheAdminPortKeepsAnswering() throws Exception {
        try (TestServer s = TestServer.start("admin_inline", "true")) {
            String body = "cname=in-a&content=first\ncname=in-b&content=second\n";
            byte[] bytes = body.getBytes(StandardCharsets.US_ASCII);
            try (Socket slow = connect("127.0.0.1", s.admin())) {
                OutputStream out = slow.getOutputStream();
                out.write(("POST /batch HTTP/1.1\r\nHost: x\r\nContent-Length: " + bytes.length + "\r\n\r\n")
                        .getBytes(StandardCharsets.US_ASCII));
                out.write(bytes, 0, 10);
                out.flush();
                // the body's handler is waiting for the rest: other admin requests are still answered
                for (int i = 0; i < 20; i++) {
                    assertEquals(200, s.admin("/push?cname=other&content=m" + i).status());
                }
                out.write(bytes, 10, bytes.length - 10);
                out.flush();
                String both = "{\"type\":\"ok\",\"seq\":1}\n{\"type\":\"ok\",\"seq\":1}";
                String answer = readUntil(slow, both);
                assertTrue(answer.startsWith("HTTP/1.1 200"), answer);
                assertTrue(answer.contains(both), "both lines published: " + answer);
            }
            assertEquals("{\"in-b\":1}", s.admin("/check?cname=in-b").body().trim());
        }
    }

    @Test
    void aBackEndThatStopsReadingItsAnswersHoldsUpOnlyItsOwnConnection() throws Exception {
        try (TestServer s = TestServer.start("admin_inline", "true")) {
            stopReadingThenAskAnother(s, () -> s.server.broker().stats().published());
        }
    }

    @Test
    void onRedisAPublisherThatStopsReadingItsAnswersHoldsUpOnlyItsOwnConnection() throws Exception {
        // on engine=redis /push runs inline and is answered on Lettuce's I/O thread when Redis answers
        RedisProcess.assumeAvailable();
        try (RedisProcess redis = RedisProcess.launch();
             TestServer s = TestServer.start("engine", "redis", "redis_uri", redis.uri(), "admin_inline", "true")) {
            stopReadingThenAskAnother(s, () -> spublishCalls(redis)); // one SPUBLISH per publish
        }
    }

    private static long spublishCalls(RedisProcess redis) {
        try {
            for (String line : redis.cli("INFO", "commandstats").split("\n")) {
                if (line.startsWith("cmdstat_spublish:calls=")) {
                    return Long.parseLong(line.substring("cmdstat_spublish:calls=".length(), line.indexOf(',')));
                }
            }
            return 0;
        } catch (Exception e) {
            throw new IllegalStateException(e);
        }
    }

    /**
     * One connection pipelines pushes without reading any answer until the server has stopped
     * publishing them ({@code published} stands still: its answers fill the socket buffers); then
     * another back end's /push, on a new connection, must still be answered.
     */
    private static void stopReadingThenAskAnother(TestServer s, java.util.function.LongSupplier published) throws Exception {
        String request = "GET /push?cname=hog&content=m HTTP/1.1\r\nHost: x\r\n\r\n";
        try (Socket hog = new Socket()) {
            hog.setReceiveBufferSize(4096); // before connecting: a small window fills sooner
            hog.connect(new java.net.InetSocketAddress("127.0.0.1", s.admin()), 5000);
            byte[] requests = request.repeat(100).getBytes(StandardCharsets.US_ASCII);
            java.util.concurrent.atomic.AtomicLong written = new java.util.concurrent.atomic.AtomicLong();
            Thread writer = new Thread(() -> {
                try {
                    OutputStream out = hog.getOutputStream();
                    while (written.get() < 200L << 20) { // bounded: stops by itself even if nothing stalls
                        out.write(requests);
                        written.addAndGet(requests.length);
                    }
                } catch (java.io.IOException closed) {
                    // the test closed the socket
                }
            }, "hog-writer");
            writer.setDaemon(true);
            writer.start();
            // once the unread answers fill both socket buffers the server stops taking the
            // connection's requests: nothing more is published, and this writer blocks for good
            long deadline = System.nanoTime() + java.util.concurrent.TimeUnit.SECONDS.toNanos(90);
            long last = -1;
            long lastPublished = -1;
            int still = 0;
            while (still < 3) {
                Thread.sleep(1000);
                long now = written.get();
                long p = published.getAsLong();
                still = now == last && p == lastPublished ? still + 1 : 0;
                assertTrue(System.nanoTime() < deadline && writer.isAlive(),
                        "the pipelined requests never stalled: " + now + " bytes written, " + p + " published");
                last = now;
                lastPublished = p;
            }
            // the admin port still answers another back end, new connection and all (blocked on
            // the selector thread it would wait for the idle timeout, 60 s)
            try (Socket other = connect("127.0.0.1", s.admin())) {
                other.setSoTimeout(15_000);
                other.getOutputStream().write("GET /push?cname=other&content=hi HTTP/1.1\r\nHost: x\r\n\r\n"
                        .getBytes(StandardCharsets.US_ASCII));
                String answer = readUntil(other, "\"seq\":1");
                assertTrue(answer.contains("{\"type\":\"ok\",\"seq\":1}"),
                        "another back end's push answered within 15 s while one connection's answers pile up ("
                                + last + " bytes of requests sent on it): " + answer);
            }
        }
    }

    @Test
    void pipelinedPushesAreAnsweredInOrderAndAPostedPushIsRead() throws Exception {
        try (TestServer s = TestServer.start("admin_inline", "true")) {
            pipelineMixedRequests(s);
        }
    }

    @Test
    void onRedisPipelinedPushesAreAnsweredInOrderAndAPostedPushIsRead() throws Exception {
        // each answer completes on Lettuce's I/O thread; the requests already buffered behind it go to the pool
        RedisProcess.assumeAvailable();
        try (RedisProcess redis = RedisProcess.launch();
             TestServer s = TestServer.start("engine", "redis", "redis_uri", redis.uri(), "admin_inline", "true")) {
            pipelineMixedRequests(s);
        }
    }

    /**
     * 50 pushes on one kept-alive connection, an /info (handed to the pool) after the 25th, then a
     * posted push (a body: the pool too): every answer arrives, in the order asked.
     */
    private static void pipelineMixedRequests(TestServer s) throws Exception {
        try (Socket c = connect("127.0.0.1", s.admin())) {
            StringBuilder req = new StringBuilder();
            for (int i = 1; i <= 50; i++) {
                req.append("GET /push?cname=pipe&content=m").append(i).append(" HTTP/1.1\r\nHost: x\r\n\r\n");
                if (i == 25) {
                    req.append("GET /info HTTP/1.1\r\nHost: x\r\n\r\n");
                }
            }
            String posted = "cname=pipe&content=posted";
            req.append("POST /push HTTP/1.1\r\nHost: x\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: ")
                    .append(posted.length()).append("\r\n\r\n").append(posted);
            c.getOutputStream().write(req.toString().getBytes(StandardCharsets.US_ASCII));
            String answers = readUntil(c, "\"seq\":51");
            int last = -1;
            for (int i = 1; i <= 51; i++) {
                int at = answers.indexOf("\"seq\":" + i + ",");
                if (at < 0) {
                    at = answers.indexOf("\"seq\":" + i + "}");
                }
                assertTrue(at > last, "answer " + i + " after answer " + (i - 1) + ": " + answers);
                last = at;
            }
            int info = answers.indexOf("\"channels\"");
            assertTrue(info > answers.indexOf("\"seq\":25}") && info < answers.indexOf("\"seq\":26}"),
                    "the /info answer between the 25th and 26th push: " + answers);
        }
    }

    @Test
    void aPresenceStreamOnTheAdminPortHearsAChannelComeOnline() throws Exception {
        try (TestServer s = TestServer.start("admin_inline", "true");
             Socket psub = connect("127.0.0.1", s.admin())) {
            psub.getOutputStream().write("GET /psub HTTP/1.1\r\nHost: x\r\n\r\n".getBytes(StandardCharsets.US_ASCII));
            assertTrue(readUntil(psub, "\r\n\r\n").startsWith("HTTP/1.1 200"));
            try (Socket sub = connect("127.0.0.1", s.front())) {
                sub.getOutputStream().write("GET /sub?cname=seen&seq=1 HTTP/1.1\r\nHost: x\r\n\r\n".getBytes(StandardCharsets.US_ASCII));
                assertTrue(readUntil(psub, "1 seen").contains("1 seen"));
            }
        }
    }
}
