package io.jcomet.redis;

import static io.jcomet.redis.Nodes.data;
import static io.jcomet.redis.Nodes.messages;
import static io.jcomet.redis.Nodes.pushSeq;
import static io.jcomet.support.TestServer.awaitIo;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import io.jcomet.deploy.FreePorts;
import io.jcomet.deploy.ServerProcess;
import io.jcomet.support.RawStream;
import io.jcomet.support.TestServer;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.Test;

/**
 * A jcomet node killed with SIGKILL (no shutdown, no goodbye to Redis) in the middle of a stream of
 * 300 messages at 100/s: its streaming client and its long-polling client reconnect to another node
 * with their last seq + 1 and epoch, and each gets every message 1..300 exactly once, in order.
 *
 * <p>The doomed node is the embedded launcher ({@code io.jcomet.launcher.Main}) in its own JVM on
 * the test class path, started directly (no wrapper script), so the pid killed is the server's. The
 * surviving node runs in the test JVM. The publisher pushes through the surviving node's admin API.
 */
class NodeKilledIT {
    private static final int COUNT = 300;

    @Test
    void clientsOfANodeKilledMidStreamMoveToAnotherNodeAndLoseNothing() throws Exception {
        RedisProcess.assumeAvailable();
        String cname = "killed";
        try (RedisProcess redis = RedisProcess.launch();
                TestServer survivor = Nodes.node(redis.uri(), "channel_buffer_size", "1000", "polling_timeout", "5",
                        "channel_timeout", "3");
                ServerProcess doomed = launcherNode(redis.uri())) {
            int doomedFront = frontPort(doomed);

            // both clients on the doomed node, from seq 1, as jcomet clients (epoch given: gap would be told)
            RawStream stream = new RawStream(doomedFront, "/stream?cname=" + cname + "&seq=1&epoch=");
            AtomicReference<Throwable> pollFailure = new AtomicReference<>();
            LongPoller poller = new LongPoller(cname, doomedFront, survivor.front());
            CompletableFuture<Void> polling = CompletableFuture.runAsync(() -> {
                try {
                    poller.run();
                } catch (Throwable t) {
                    pollFailure.set(t);
                }
            });
            // /info?cname= on the survivor sums every live node's count
            awaitIo("the stream and the long-poll held on the doomed node", Duration.ofSeconds(10),
                    () -> survivor.subscribers(cname) == 2);

            Thread publisher = new Thread(() -> {
                try {
                    for (int i = 1; i <= COUNT; i++) {
                        pushSeq(survivor, cname, "m" + i);
                        Thread.sleep(10); // ~100/s
                    }
                } catch (Exception e) {
                    throw new RuntimeException(e);
                }
            }, "publisher");
            publisher.setDaemon(true);
            publisher.start();

            stream.awaitBody("\"m100\"", 15_000);
            ProcessHandle jvm = doomed.handle();
            // the pid is the server JVM itself, not a wrapper around it
            assertTrue(jvm.info().command().orElse("").endsWith("/java"), "doomed node runs as " + jvm.info());
            assertEquals(0, jvm.descendants().count(), "the launcher JVM has no child process");
            assertTrue(jvm.destroyForcibly(), "SIGKILL sent to " + jvm.pid());
            jvm.onExit().get(10, TimeUnit.SECONDS);
            assertFalse(jvm.isAlive());
            String presenceKey = "jcomet:{" + cname + "}:p";
            String entries = redis.command("HLEN " + presenceKey);
            assertFalse(entries == null || ":0".equals(entries), "presence hash of " + cname + " right after the kill: " + entries);

            List<JsonNode> got = new ArrayList<>();
            boolean ended;
            try {
                ended = stream.awaitEnd(5000);
            } catch (IOException reset) {
                ended = true; // the kernel may answer a dead process's socket with RST
            }
            assertTrue(ended, "the killed node's stream ended");
            got.addAll(data(stream.body()));
            stream.close();
            assertTrue(got.size() >= 100 && got.size() < COUNT, "killed mid-stream after " + got.size() + " messages");
            int resume = got.get(got.size() - 1).get("seq").asInt() + 1;
            String epoch = got.get(got.size() - 1).get("epoch").asText();

            try (RawStream again = new RawStream(survivor.front(),
                    "/stream?cname=" + cname + "&seq=" + resume + "&epoch=" + epoch)) {
                again.awaitBody("\"m" + COUNT + "\"", 20_000);
                for (JsonNode n : messages(again.body())) {
                    assertFalse("gap".equals(n.path("type").asText()) || "next_seq".equals(n.path("type").asText()),
                            "nothing may be missing after the move: " + n);
                }
                got.addAll(data(again.body()));
            }
            assertInOrderOnce(got, "stream");

            polling.get(30, TimeUnit.SECONDS);
            if (pollFailure.get() != null) {
                throw new AssertionError("long-poller failed", pollFailure.get());
            }
            assertTrue(poller.movedAfterSeq > 0 && poller.movedAfterSeq < COUNT,
                    "the long-poller moved mid-stream (after seq " + poller.movedAfterSeq + ")");
            assertInOrderOnce(poller.got, "long-poll");
            publisher.join(10_000);

            // The killed node never removed its presence entry; it must not keep the channel online
            // in Redis forever: once no live node serves the channel, the hash expires (channel_timeout).
            awaitIo("the dead node's presence hash expires once no node serves " + cname, Duration.ofSeconds(30),
                    () -> ":0".equals(redis.command("EXISTS " + presenceKey)));
        }
    }

    private static void assertInOrderOnce(List<JsonNode> got, String client) {
        List<Integer> seqs = new ArrayList<>();
        List<String> contents = new ArrayList<>();
        List<Integer> expectedSeqs = new ArrayList<>();
        List<String> expected = new ArrayList<>();
        for (JsonNode n : got) {
            seqs.add(n.get("seq").asInt());
            contents.add(n.get("content").asText());
        }
        for (int i = 1; i <= COUNT; i++) {
            expectedSeqs.add(i);
            expected.add("m" + i);
        }
        assertEquals(expectedSeqs, seqs, client + ": seqs 1.." + COUNT + " exactly once, in order");
        assertEquals(expected, contents, client + ": contents in publish order");
    }

    /** The embedded launcher in its own JVM: java -cp (test class path) io.jcomet.launcher.Main. */
    private static ServerProcess launcherNode(String redisUri) throws Exception {
        FreePorts.Plan plan = FreePorts.plan(1);
        List<String> cmd = List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "-cp", System.getProperty("surefire.test.class.path", System.getProperty("java.class.path")),
                "io.jcomet.launcher.Main", "--host", "127.0.0.1", "--front-host", "127.0.0.1",
                "--admin-port", String.valueOf(plan.admin()), "--front-port", String.valueOf(plan.front()),
                "--front-count", "1",
                "engine=redis", "redis_uri=" + redisUri, "channel_buffer_size=1000", "polling_timeout=5",
                "channel_timeout=3");
        Path base = Path.of(System.getProperty("basedir", "."));
        ServerProcess p = ServerProcess.start("killed-node", cmd, Map.of(),
                base.resolve("target/node-killed/launcher-" + plan.admin() + ".log"));
        try {
            p.await("the launcher's ready line", Duration.ofSeconds(60), () -> p.logText().contains("jcomet admin="));
        } catch (Throwable t) {
            p.kill();
            throw t;
        }
        return p;
    }

    private static int frontPort(ServerProcess p) {
        java.util.regex.Matcher m = java.util.regex.Pattern.compile("front=http://[^:]+:(\\d+)").matcher(p.logText());
        assertTrue(m.find(), "front port in " + p.tail(5));
        return Integer.parseInt(m.group(1));
    }

    /**
     * A jcomet long-polling client: /sub with its next seq and epoch on its node; when the node
     * goes away (connection refused or reset) it moves to the other node with the same seq.
     */
    private static final class LongPoller {
        final String cname;
        final int first;
        final int second;
        final List<JsonNode> got = new ArrayList<>();
        volatile int movedAfterSeq;
        final HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(2)).build();

        LongPoller(String cname, int first, int second) {
            this.cname = cname;
            this.first = first;
            this.second = second;
        }

        void run() throws Exception {
            int port = first;
            int seq = 1;
            String epoch = "";
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
            while (seq <= COUNT) {
                if (System.nanoTime() > deadline) {
                    throw new AssertionError("long-poller stuck at seq " + seq + " on port " + port);
                }
                String body;
                try {
                    HttpResponse<String> r = http.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port
                            + "/sub?cname=" + cname + "&seq=" + seq + "&epoch=" + epoch))
                            .timeout(Duration.ofSeconds(15)).build(), HttpResponse.BodyHandlers.ofString());
                    body = r.body();
                } catch (IOException nodeGone) {
                    if (port == second) {
                        throw nodeGone;
                    }
                    movedAfterSeq = seq - 1;
                    port = second;
                    continue;
                }
                for (JsonNode n : messages(body)) {
                    String type = n.path("type").asText();
                    if ("data".equals(type)) {
                        got.add(n);
                        seq = n.get("seq").asInt() + 1;
                        epoch = n.get("epoch").asText();
                    } else if (!"noop".equals(type)) {
                        throw new AssertionError("long-poller at seq " + seq + " got " + n);
                    }
                }
            }
        }
    }
}
