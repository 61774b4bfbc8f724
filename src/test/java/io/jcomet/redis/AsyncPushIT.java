package io.jcomet.redis;

import static io.jcomet.redis.Nodes.JSON;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.jcomet.support.TestServer;
import io.jcomet.support.TestServer.Response;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * /push on engine=redis (and /sign, /check, /close, /clear, /info?cname=) is answered when Redis
 * answers, without holding a request thread for the round trip: more pushes than the node has request threads wait on a stalled Redis while the node
 * still answers other requests, then each gets its own seq; the 503s keep their answers (outcome
 * unknown when Redis stalls past redis_timeout, not published when it is down) and an idempotency
 * key retried after an unknown outcome publishes once.
 */
class AsyncPushIT {
    private RedisProcess redis;
    private TestServer node;

    @BeforeEach
    void start() throws Exception {
        RedisProcess.assumeAvailable();
        redis = RedisProcess.launch();
    }

    @AfterEach
    void stop() throws Exception {
        if (node != null) {
            node.close();
        }
        if (redis != null) {
            redis.close();
        }
    }

    @Test
    void morePushesThanRequestThreadsWaitOnAStalledRedisAndEachGetsItsOwnSeq() throws Exception {
        node = Nodes.node(redis.uri(), "redis_timeout", "30000");
        assertEquals(1, Nodes.pushSeq(node, "many", "first"));
        int pushes = 150; // the embedded node has 64 request threads
        List<CompletableFuture<Response>> sent = new ArrayList<>();
        redis.freeze();
        try {
            for (int i = 0; i < pushes; i++) {
                sent.add(node.getAsync(node.admin(), "/push?cname=many&content=m" + i));
            }
            // while they wait on Redis (more than the request threads), the node still answers
            for (int i = 0; i < 5; i++) {
                Response ping = node.get(node.front(), "/ping?cb=");
                assertEquals(200, ping.status(), ping.body());
            }
            Thread.sleep(200); // long enough for a push to come back wrongly while Redis is stopped
            assertTrue(sent.stream().noneMatch(CompletableFuture::isDone), "no push is answered before Redis is");
        } finally {
            redis.thaw();
        }
        Set<Integer> seqs = new HashSet<>();
        for (CompletableFuture<Response> f : sent) {
            Response r = f.get(30, TimeUnit.SECONDS);
            assertEquals(200, r.status(), r.body());
            seqs.add(JSON.readTree(r.body()).get("seq").asInt());
        }
        assertEquals(pushes, seqs.size(), "every push its own seq");
        for (int s = 2; s <= pushes + 1; s++) {
            assertTrue(seqs.contains(s), "seq " + s + " answered");
        }
    }

    @Test
    void theOtherAdminOperationsAlsoWaitOnAStalledRedisWithoutHoldingRequestThreads() throws Exception {
        node = Nodes.node(redis.uri(), "redis_timeout", "30000");
        assertEquals(1, Nodes.pushSeq(node, "warm", "first"));
        // 170 operations against the node's 64 request threads: none may hold one while Redis is stopped
        List<CompletableFuture<Response>> signs = new ArrayList<>();
        List<CompletableFuture<Response>> checks = new ArrayList<>();
        List<CompletableFuture<Response>> unknown = new ArrayList<>();
        List<CompletableFuture<Response>> infos = new ArrayList<>();
        redis.freeze();
        try {
            for (int i = 0; i < 50; i++) {
                signs.add(node.getAsync(node.admin(), "/sign?cname=s" + i));
                checks.add(node.getAsync(node.admin(), "/check?cname=none" + i));
            }
            for (int i = 0; i < 30; i++) {
                unknown.add(node.getAsync(node.admin(), "/close?cname=none" + i));
                unknown.add(node.getAsync(node.admin(), "/clear?cname=none" + i));
            }
            for (int i = 0; i < 10; i++) {
                infos.add(node.getAsync(node.admin(), "/info?cname=s" + i));
            }
            for (int i = 0; i < 5; i++) {
                Response ping = node.get(node.front(), "/ping?cb=");
                assertEquals(200, ping.status(), ping.body());
            }
            Thread.sleep(200); // long enough for an operation to come back wrongly while Redis is stopped
            for (List<CompletableFuture<Response>> l : List.of(signs, checks, unknown, infos)) {
                assertTrue(l.stream().noneMatch(CompletableFuture::isDone), "nothing is answered before Redis is");
            }
            List<String> waiting = threadsWaitingOnRedis();
            assertTrue(waiting.isEmpty(), waiting.size() + " threads wait for Redis: " + waiting);
        } finally {
            redis.thaw();
        }
        Set<String> tokens = new HashSet<>();
        for (CompletableFuture<Response> f : signs) {
            Response r = f.get(30, TimeUnit.SECONDS);
            assertEquals(200, r.status(), r.body());
            assertEquals("sign", JSON.readTree(r.body()).get("type").asText(), r.body());
            tokens.add(JSON.readTree(r.body()).get("token").asText());
        }
        assertEquals(signs.size(), tokens.size(), "every channel its own token");
        for (CompletableFuture<Response> f : checks) {
            Response r = f.get(30, TimeUnit.SECONDS);
            assertEquals(200, r.status(), r.body());
            assertEquals("{}", r.body().trim(), "a channel nobody made does not exist");
        }
        for (CompletableFuture<Response> f : unknown) {
            Response r = f.get(30, TimeUnit.SECONDS);
            assertEquals(404, r.status(), r.body());
            assertTrue(r.body().contains("not connected"), r.body());
        }
        for (CompletableFuture<Response> f : infos) {
            Response r = f.get(30, TimeUnit.SECONDS);
            assertEquals(200, r.status(), r.body());
            assertEquals(0, JSON.readTree(r.body()).get("subscribers").asInt(), r.body());
        }
        Response check = node.admin("/check?cname=s7");
        assertEquals("{\"s7\":1}", check.body().trim(), "a signed channel exists");
    }

    /**
     * The threads of this JVM (the embedded node runs in it) parked inside the Redis engine: a
     * request thread waiting for an answer. Named with their top engine frame.
     */
    private static List<String> threadsWaitingOnRedis() {
        List<String> out = new ArrayList<>();
        for (var e : Thread.getAllStackTraces().entrySet()) {
            StackTraceElement[] st = e.getValue();
            boolean parked = st.length > 0 && st[0].getMethodName().startsWith("park");
            for (StackTraceElement f : st) {
                if (parked && f.getClassName().startsWith("io.jcomet.engine.redis.")) {
                    out.add(e.getKey().getName() + " in " + f);
                    break;
                }
            }
        }
        return out;
    }

    @Test
    void aSignRedisDoesNotAnswerInTimeIs503() throws Exception {
        node = Nodes.node(redis.uri(), "redis_timeout", "500");
        redis.freeze();
        try {
            for (String path : new String[] {"/sign?cname=late", "/check?cname=late", "/close?cname=late", "/clear?cname=late&cb=f"}) {
                Response r = node.admin(path);
                assertEquals(503, r.status(), path + ": " + r.body());
                assertTrue(r.body().contains("Redis unavailable"), path + ": " + r.body());
            }
        } finally {
            redis.thaw();
        }
    }

    @Test
    void aPushRedisDoesNotAnswerInTimeIs503OutcomeUnknownAndItsKeyPublishesOnce() throws Exception {
        node = Nodes.node(redis.uri(), "redis_timeout", "500");
        redis.freeze();
        Response r;
        try {
            r = node.admin("/push?cname=k&content=once&idempotency_key=key1");
            assertEquals(503, r.status(), r.body());
            assertTrue(r.body().contains("outcome is unknown"), r.body());
            assertTrue(r.body().contains("\"type\":\"error\""), r.body());
            r = node.admin("/push?cname=k&content=once&idempotency_key=key1&cb=f");
            assertEquals(503, r.status(), r.body());
            assertTrue(r.body().startsWith("f("), "JSONP error with the caller's callback: " + r.body());
        } finally {
            redis.thaw();
        }
        // the retries with the same key: one publish whatever reached Redis while it was frozen
        int[] seq = new int[1];
        TestServer.awaitIo("the retry answered", Duration.ofSeconds(10), () -> {
            Response again = node.admin("/push?cname=k&content=once&idempotency_key=key1");
            if (again.status() == 200) {
                seq[0] = JSON.readTree(again.body()).get("seq").asInt();
                return true;
            }
            return false;
        });
        Response same = node.admin("/push?cname=k&content=once&idempotency_key=key1");
        assertEquals(200, same.status(), same.body());
        assertEquals(seq[0], JSON.readTree(same.body()).get("seq").asInt(), "the key's first seq again");
        assertEquals(seq[0] + 1, Nodes.pushSeq(node, "k", "next"), "nothing else was published");
    }

    @Test
    void aPushWhileRedisIsDownIs503NotPublished() throws Exception {
        node = Nodes.node(redis.uri(), "redis_timeout", "2000");
        assertEquals(1, Nodes.pushSeq(node, "down", "before"));
        redis.stop();
        String[] last = new String[1];
        TestServer.awaitIo("a push refused as not published", Duration.ofSeconds(15), () -> {
            Response r = node.admin("/push?cname=down&content=x");
            assertFalse(r.status() == 200, "no push answers 200 while Redis is down: " + r.body());
            assertEquals(503, r.status(), r.body());
            last[0] = r.body();
            return r.body().contains("the message was not published");
        });
        assertTrue(last[0].contains("Redis unavailable"), last[0]);
    }
}
