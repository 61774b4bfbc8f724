package io.jcomet.redis;

import static io.jcomet.redis.Nodes.data;
import static io.jcomet.redis.Nodes.heldHere;
import static io.jcomet.redis.Nodes.pushSeq;
import static io.jcomet.support.TestServer.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import io.jcomet.support.RawStream;
import io.jcomet.support.TestServer;
import io.jcomet.support.TestServer.Response;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Three jcomet nodes on one real redis-server (engine=redis) behave as one server: a message pushed
 * on one node reaches subscribers on another on every transport, seqs are one sequence across
 * nodes, a subscriber coming back on any node is replayed from Redis, and a client whose node
 * stops mid-stream moves to another node with its seq and loses nothing.
 */
class MultiNodeRedisIT {
    private static RedisProcess redis;
    private static TestServer a;
    private static TestServer b;
    private static TestServer c;

    @BeforeAll
    static void start() throws Exception {
        RedisProcess.assumeAvailable();
        redis = RedisProcess.launch();
        a = Nodes.node(redis.uri(), "channel_buffer_size", "1000", "polling_timeout", "5");
        b = Nodes.node(redis.uri(), "channel_buffer_size", "1000", "polling_timeout", "5");
        c = Nodes.node(redis.uri(), "channel_buffer_size", "1000", "polling_timeout", "5");
    }

    @AfterAll
    static void stop() throws Exception {
        for (TestServer n : new TestServer[] {a, b, c}) {
            if (n != null) {
                n.close();
            }
        }
        if (redis != null) {
            redis.close();
        }
    }

    private static void awaitHeld(TestServer node, String cname) throws InterruptedException {
        await("a subscriber held on " + cname, Duration.ofSeconds(5), () -> heldHere(node, cname) == 1);
    }

    @Test
    void concurrentPushesToOneChannelEachGetTheirOwnSeqAndAreDeliveredOnceInOrder() throws Exception {
        // a node sends the pushes that wait behind one in flight together (group commit): each
        // still gets its own seq, a retried key its first seq, and the other node delivers all
        String cname = "busy";
        int threads = 8;
        int each = 40;
        try (RawStream s = new RawStream(b.front(), "/stream?cname=" + cname + "&seq=1")) {
            awaitHeld(b, cname);
            java.util.concurrent.ExecutorService pool = java.util.concurrent.Executors.newFixedThreadPool(threads);
            List<java.util.concurrent.Future<List<Integer>>> work = new java.util.ArrayList<>();
            for (int t = 0; t < threads; t++) {
                int id = t;
                work.add(pool.submit(() -> {
                    List<Integer> seqs = new java.util.ArrayList<>();
                    for (int i = 0; i < each; i++) {
                        seqs.add(pushSeq(a, cname, "t" + id + "-" + i));
                    }
                    return seqs;
                }));
            }
            java.util.Set<Integer> all = new java.util.TreeSet<>();
            for (java.util.concurrent.Future<List<Integer>> f : work) {
                List<Integer> seqs = f.get(60, java.util.concurrent.TimeUnit.SECONDS);
                for (int i = 1; i < seqs.size(); i++) {
                    assertTrue(seqs.get(i) > seqs.get(i - 1), "one publisher's pushes in its order: " + seqs);
                }
                all.addAll(seqs);
            }
            pool.shutdown();
            assertEquals(threads * each, all.size(), "every push its own seq");
            assertEquals(threads * each, (int) ((java.util.TreeSet<Integer>) all).last());
            String last = "\"seq\":" + threads * each + ",";
            s.awaitBody(last, 10_000);
            List<JsonNode> got = data(s.body());
            assertEquals(threads * each, got.size(), "each delivered once");
            for (int i = 0; i < got.size(); i++) {
                assertEquals(i + 1, got.get(i).get("seq").asInt(), "in seq order");
            }
        }
    }

    @ParameterizedTest
    @ValueSource(strings = {"stream", "sse", "iframe"})
    void aPushOnOneNodeReachesAStreamingSubscriberOnAnother(String transport) throws Exception {
        String cname = "x-" + transport;
        try (RawStream s = new RawStream(b.front(), "/" + transport + "?cname=" + cname + "&seq=1")) {
            assertEquals(200, s.status);
            awaitHeld(b, cname);
            assertEquals(1, pushSeq(a, cname, "from-a"));
            assertEquals(2, pushSeq(c, cname, "from-c"));
            s.awaitBody("from-c", 5000);
            List<JsonNode> got = data(s.body());
            assertEquals(2, got.size(), s.body());
            assertEquals(1, got.get(0).get("seq").asInt());
            assertEquals("from-a", got.get(0).get("content").asText());
            assertEquals(2, got.get(1).get("seq").asInt());
        }
    }

    @Test
    void aPushOnOneNodeAnswersALongPollHeldOnAnother() throws Exception {
        CompletableFuture<Response> poll = b.getAsync(b.front(), "/poll?cname=x-poll&seq=1");
        awaitHeld(b, "x-poll");
        assertEquals(1, pushSeq(a, "x-poll", "hello"));
        Response r = poll.get(5, TimeUnit.SECONDS);
        String epoch = Nodes.JSON.readTree(a.front("/sub?cname=x-poll&seq=0").body()).get("epoch").asText();
        assertFalse(epoch.isEmpty());
        assertEquals("{\"type\":\"data\",\"cname\":\"x-poll\",\"seq\":1,\"epoch\":\"" + epoch + "\",\"content\":\"hello\"}\n",
                r.body(), "the message as the memory engine answers it, with the cluster's epoch");
    }

    @Test
    void pushesAlternatingBetweenNodesShareOneSeqAndReplayOnAnyNode() throws Exception {
        TestServer[] nodes = {a, b};
        for (int i = 1; i <= 20; i++) {
            assertEquals(i, pushSeq(nodes[i % 2], "alt", "m" + i), "seq of push " + i);
        }
        for (TestServer n : new TestServer[] {a, b, c}) {
            List<JsonNode> replay = data(n.front("/sub?cname=alt&seq=11").body());
            assertEquals(10, replay.size());
            for (int i = 0; i < 10; i++) {
                assertEquals(11 + i, replay.get(i).get("seq").asInt());
                assertEquals("m" + (11 + i), replay.get(i).get("content").asText());
            }
        }
        // seq 0 on any node: the same next seq and the same epoch
        JsonNode na = Nodes.JSON.readTree(a.front("/sub?cname=alt&seq=0").body());
        JsonNode nc = Nodes.JSON.readTree(c.front("/sub?cname=alt&seq=0").body());
        assertEquals(21, na.get("seq").asInt());
        assertEquals(na, nc);
    }

    @Test
    void aNodeThatJoinsLateReplaysFromRedisAndSaysGapBeyondTheBuffer() throws Exception {
        try (TestServer small = Nodes.node(redis.uri(), "channel_buffer_size", "3")) {
            for (int i = 1; i <= 5; i++) {
                pushSeq(small, "late", "m" + i);
            }
            // a node that never saw the channel: only the last 3 are in the capped buffer
            List<JsonNode> got = Nodes.messages(c.front("/sub?cname=late&seq=1&epoch=").body()); // gap is for jcomet clients
            assertEquals("gap", got.get(0).get("type").asText(), got.toString());
            assertTrue(got.size() >= 4, got.toString());
        }
    }

    @Test
    void aMissedPublicationIsFilledFromTheStream() throws Exception {
        try (RawStream s = new RawStream(b.front(), "/stream?cname=missed&seq=1")) {
            awaitHeld(b, "missed");
            pushSeq(a, "missed", "one");
            s.awaitBody("\"one\"", 5000);
            // a publication this node never hears on PUB/SUB (written straight into Redis, as if the
            // message was lost while the link was down), then a normal one: b sees the seq jump and fills it
            String base = "jcomet:{missed}";
            redis.command("EVAL \"redis.call('HINCRBY', KEYS[1], 'seq', 1); redis.call('RPUSH', KEYS[2], '2 dtwo')\" 2 "
                    + base + ":m " + base + ":b");
            pushSeq(a, "missed", "three");
            s.awaitBody("\"three\"", 5000);
            List<JsonNode> got = data(s.body());
            assertEquals(List.of("one", "two", "three"), got.stream().map(n -> n.get("content").asText()).toList());
            assertEquals(List.of(1, 2, 3), got.stream().map(n -> n.get("seq").asInt()).toList());
        }
    }

    @Test
    void aClientWhoseNodeStopsMidStreamMovesToAnotherNodeWithItsSeqAndLosesNothing() throws Exception {
        TestServer doomed = Nodes.node(redis.uri(), "channel_buffer_size", "1000");
        String cname = "mid";
        List<Integer> seqs = new ArrayList<>();
        List<String> contents = new ArrayList<>();
        Thread publisher;
        try (RawStream first = new RawStream(doomed.front(), "/stream?cname=" + cname + "&seq=1")) {
            await("held on the doomed node", Duration.ofSeconds(5), () -> heldHere(doomed, cname) == 1);
            publisher = new Thread(() -> {
                try {
                    for (int i = 1; i <= 300; i++) {
                        pushSeq(a, cname, "m" + i);
                        Thread.sleep(10); // ~100/s
                    }
                } catch (Exception e) {
                    throw new RuntimeException(e);
                }
            }, "publisher");
            publisher.start();
            first.awaitBody("\"m100\"", 10_000);
            doomed.close(); // the node goes away mid-stream
            assertTrue(first.awaitEnd(5000), "the stopped node ends the stream");
            for (JsonNode n : data(first.body())) {
                seqs.add(n.get("seq").asInt());
                contents.add(n.get("content").asText());
            }
        }
        int resume = seqs.get(seqs.size() - 1) + 1;
        try (RawStream second = new RawStream(c.front(), "/stream?cname=" + cname + "&seq=" + resume)) {
            second.awaitBody("\"m300\"", 15_000);
            for (JsonNode n : data(second.body())) {
                seqs.add(n.get("seq").asInt());
                contents.add(n.get("content").asText());
            }
        }
        publisher.join(10_000);
        List<Integer> expectedSeqs = new ArrayList<>();
        List<String> expected = new ArrayList<>();
        for (int i = 1; i <= 300; i++) {
            expectedSeqs.add(i);
            expected.add("m" + i);
        }
        assertEquals(expectedSeqs, seqs);
        assertEquals(expected, contents);
    }

    @Test
    void aTokenSignedOnOneNodeOpensTheChannelOnEveryNode() throws Exception {
        try (TestServer ta = Nodes.node(redis.uri(), "auth", "token", "redis_key_prefix", "tok:");
                TestServer tb = Nodes.node(redis.uri(), "auth", "token", "redis_key_prefix", "tok:")) {
            // before /sign the channel exists nowhere: a token error, as on one node
            Response before = tb.front("/sub?cname=t1&seq=1&token=x");
            assertTrue(before.body().contains("\"401\""), before.body());
            String token = Nodes.JSON.readTree(ta.admin("/sign?cname=t1").body()).get("token").asText();
            assertEquals(token, Nodes.JSON.readTree(tb.admin("/sign?cname=t1").body()).get("token").asText(),
                    "/sign on another node returns the same token");
            Response wrong = tb.front("/sub?cname=t1&seq=1&token=nope");
            assertTrue(wrong.body().contains("\"401\""), wrong.body());
            CompletableFuture<Response> poll = tb.getAsync(tb.front(), "/sub?cname=t1&seq=1&token=" + token);
            await("held on the other node", Duration.ofSeconds(5), () -> heldHere(tb, "t1") == 1);
            pushSeq(ta, "t1", "secret");
            assertTrue(poll.get(5, TimeUnit.SECONDS).body().contains("\"secret\""));
        }
    }
}
