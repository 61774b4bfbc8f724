package io.jcomet.servlet;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.jcomet.support.TestServer;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;

/**
 * 2,000 long-poll subscribers on 200 channels keep re-polling while 50,000 messages are pushed from
 * 4 threads: each subscriber must receive every message of its channel once, in order. Each push
 * carries an idempotency key, as a back end whose HTTP client may resend a request must.
 */
class ConcurrencyIT {
    private static final int CHANNELS = 200;
    private static final int SUBSCRIBERS = 2000;
    private static final int MESSAGES = 50_000;
    private static final int PUBLISHERS = 4;
    private static final ObjectMapper JSON = new ObjectMapper();

    /** One subscriber's long-poll loop and its own accounting. */
    static final class Sub {
        final String cname;
        int nextSeq = 1;
        int received;
        final List<String> problems = new ArrayList<>();
        volatile boolean done;

        Sub(String cname) {
            this.cname = cname;
        }

        synchronized void accept(JsonNode msg, int expectedTotal) {
            String type = msg.get("type").asText();
            if (type.equals("data")) {
                int seq = msg.get("seq").asInt();
                if (seq != nextSeq) {
                    problems.add(cname + ": expected seq " + nextSeq + " got " + seq);
                }
                if (!msg.get("content").asText().equals(cname + ":" + seq)) {
                    problems.add(cname + ": wrong content at " + seq + ": " + msg.get("content").asText());
                }
                nextSeq = seq + 1;
                received++;
            } else if (!type.equals("noop")) {
                problems.add(cname + ": unexpected " + msg);
            }
        }
    }

    @Test
    void everySubscriberGetsEveryMessageOfItsChannelOnceAndInOrder() throws Exception {
        try (TestServer server = TestServer.start(2, "channel_buffer_size", "400", "polling_timeout", "5",
                "max_subscribers_per_channel", "100")) {
            ExecutorService pool = Executors.newFixedThreadPool(4);
            HttpClient client = HttpClient.newBuilder().executor(pool).connectTimeout(Duration.ofSeconds(10)).build();
            List<Sub> subs = new ArrayList<>();
            for (int i = 0; i < SUBSCRIBERS; i++) {
                subs.add(new Sub("ch" + (i % CHANNELS)));
            }
            AtomicInteger[] pushed = new AtomicInteger[CHANNELS];
            for (int c = 0; c < CHANNELS; c++) {
                pushed[c] = new AtomicInteger();
            }
            int perChannel = MESSAGES / CHANNELS;
            ConcurrentLinkedQueue<Throwable> errors = new ConcurrentLinkedQueue<>();
            CountDownLatch finished = new CountDownLatch(SUBSCRIBERS);
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(150);
            for (int i = 0; i < SUBSCRIBERS; i++) {
                Sub s = subs.get(i);
                int port = server.server.frontPort(i % 2);
                poll(client, port, s, perChannel, finished, errors, deadline);
            }
            // wait until most subscribers are held, so the run exercises delivery to held requests
            TestServer.awaitIo("subscribers held", Duration.ofSeconds(60), () -> server.info("held_poll") >= SUBSCRIBERS * 9 / 10);

            Thread[] publishers = new Thread[PUBLISHERS];
            for (int p = 0; p < PUBLISHERS; p++) {
                int first = p;
                publishers[p] = new Thread(() -> {
                    HttpClient pc = HttpClient.newHttpClient();
                    try {
                        // each publisher owns every 4th channel so that seq order per channel is its push order
                        for (int n = 0; n < perChannel; n++) {
                            for (int c = first; c < CHANNELS; c += PUBLISHERS) {
                                int seq = pushed[c].incrementAndGet();
                                String cname = "ch" + c;
                                // the key makes a resent push answer the first one's seq: the JDK client
                                // sends a GET again, unasked, when its kept-alive connection closes before
                                // any byte of the answer arrives (what a back end with such a client does)
                                HttpResponse<String> r = pc.send(HttpRequest.newBuilder(
                                        URI.create("http://127.0.0.1:" + server.admin() + "/push?cname=" + cname + "&content=" + cname + ":" + seq
                                                + "&idempotency_key=" + seq)).build(),
                                        HttpResponse.BodyHandlers.ofString());
                                if (r.statusCode() != 200 || !r.body().equals("{\"type\":\"ok\",\"seq\":" + seq + "}\n")) {
                                    errors.add(new AssertionError("push " + cname + " " + seq + ": " + r.statusCode() + " " + r.body()));
                                    return;
                                }
                            }
                        }
                    } catch (Exception e) {
                        errors.add(e);
                    }
                });
                publishers[p].start();
            }
            for (Thread t : publishers) {
                t.join(TimeUnit.NANOSECONDS.toMillis(deadline - System.nanoTime()));
            }
            boolean all = finished.await(Math.max(1, TimeUnit.NANOSECONDS.toMillis(deadline - System.nanoTime())), TimeUnit.MILLISECONDS);
            pool.shutdownNow();
            assertTrue(errors.isEmpty(), "errors: " + errors.stream().limit(5).toList());
            List<String> problems = new ArrayList<>();
            long total = 0;
            for (Sub s : subs) {
                synchronized (s) {
                    problems.addAll(s.problems);
                    total += s.received;
                    if (s.received != perChannel) {
                        problems.add(s.cname + ": received " + s.received + " of " + perChannel);
                    }
                }
            }
            assertTrue(problems.isEmpty(), problems.size() + " problems, first: " + problems.stream().limit(10).toList());
            assertTrue(all, "every subscriber finished within the deadline");
            assertEquals((long) SUBSCRIBERS * perChannel, total);
        }
    }

    private static void poll(HttpClient client, int port, Sub s, int total, CountDownLatch finished,
                             ConcurrentLinkedQueue<Throwable> errors, long deadline) {
        if (System.nanoTime() > deadline) {
            return;
        }
        int seq;
        synchronized (s) {
            seq = s.nextSeq;
        }
        HttpRequest req = HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + "/sub?cname=" + s.cname + "&seq=" + seq))
                .timeout(Duration.ofSeconds(30)).build();
        client.sendAsync(req, HttpResponse.BodyHandlers.ofString()).whenComplete((r, err) -> {
            if (err != null) {
                errors.add(err);
                return;
            }
            try {
                JsonNode n = JSON.readTree(r.body());
                if (n.isArray()) {
                    for (JsonNode m : n) {
                        s.accept(m, total);
                    }
                } else {
                    s.accept(n, total);
                }
                boolean complete;
                synchronized (s) {
                    complete = s.received >= total;
                }
                if (complete) {
                    finished.countDown();
                } else {
                    poll(client, port, s, total, finished, errors, deadline);
                }
            } catch (Exception e) {
                errors.add(e);
            }
        });
    }
}
