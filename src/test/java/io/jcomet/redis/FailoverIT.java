package io.jcomet.redis;

import static io.jcomet.redis.Nodes.heldHere;
import static io.jcomet.redis.Nodes.messages;
import static io.jcomet.support.TestServer.await;
import static io.jcomet.support.TestServer.awaitIo;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import io.jcomet.support.RawStream;
import io.jcomet.support.TestServer;
import io.jcomet.support.TestServer.Response;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.RepeatedTest;
import org.junit.jupiter.api.Test;

/**
 * Redis fails under two jcomet nodes while a publisher keeps publishing through one of them and a
 * streaming subscriber listens on the other. Whatever the failure, the subscriber gets every
 * acknowledged message once and in order, or is told it missed some (a gap message or a new
 * epoch); never a silent hole, never a duplicate ({@link Continuity}). Real redis-server
 * processes: one server restarted empty, one frozen (SIGSTOP), a Sentinel failover to a replica
 * that was behind, and a Redis Cluster of 3 masters and 3 replicas with a master killed.
 */
class FailoverIT {
    private static final Duration BOUND = Duration.ofSeconds(40);

    private static String stream(String cname) {
        return "/stream?cname=" + cname + "&seq=1&epoch=";
    }

    /** Publishes through {@code node} until {@code count} more are acknowledged (503s do not count). */
    private static int publishAcknowledged(Continuity c, TestServer node, String cname, int from, int count) throws Exception {
        long deadline = System.nanoTime() + BOUND.toNanos();
        int acked = 0;
        int i = from;
        while (acked < count) {
            assertTrue(System.nanoTime() < deadline, "only " + acked + " of " + count + " publishes acknowledged in " + BOUND
                    + "; the last refusal: " + c.last503);
            if (c.push(node, cname, "m" + i++, null)) {
                acked++;
            }
        }
        return i;
    }

    /** content@seq/epoch of each message, for failure messages. */
    private static String summary(List<JsonNode> msgs) {
        StringBuilder b = new StringBuilder();
        for (JsonNode m : msgs) {
            b.append(m.path("type").asText().equals("data") ? m.path("content").asText() : m.path("type").asText())
                    .append('@').append(m.path("seq").asText()).append('/').append(m.path("epoch").asText()).append(' ');
        }
        return b.toString();
    }

    /** The first data message of the last epoch the subscriber saw. */
    private static JsonNode firstOfLastEpoch(List<JsonNode> msgs) {
        JsonNode first = null;
        String epoch = null;
        for (JsonNode m : msgs) {
            if (m.path("type").asText().equals("data") && !m.path("epoch").asText().equals(epoch)) {
                epoch = m.path("epoch").asText();
                first = m;
            }
        }
        return first;
    }

    @RepeatedTest(3)
    void redisRestartedEmptyWhilePublishingThroughTheOtherNode() throws Exception {
        RedisProcess.assumeAvailable();
        String cname = "restart";
        Continuity c = new Continuity();
        try (RedisProcess redis = RedisProcess.launch();
                TestServer a = Nodes.node(redis.uri(), "channel_buffer_size", "1000", "redis_timeout", "500");
                TestServer b = Nodes.node(redis.uri(), "channel_buffer_size", "1000", "redis_timeout", "500");
                RawStream onA = new RawStream(a.front(), stream(cname))) {
            await("stream held on a", Duration.ofSeconds(5), () -> heldHere(a, cname) == 1);
            int next = publishAcknowledged(c, b, cname, 1, 30);

            redis.stop();
            assertFalse(c.push(b, cname, "m" + next++, null), "a publish while Redis is down is refused");
            redis.start(); // empty: every channel's data is gone
            // publish through b at once, while a's link may still be coming back
            publishAcknowledged(c, b, cname, next, 30);

            onA.awaitBody("\"" + c.lastAcknowledged() + "\"", 15_000);
            List<JsonNode> got = messages(onA.body());
            assertTrue(c.check("stream on a", got) >= 1, "Redis lost the channel: the subscriber is told (new epoch)");
            JsonNode first = firstOfLastEpoch(got);
            assertEquals(1, first.get("seq").asInt(), "the new epoch is delivered from its first message: " + first);
        }
    }

    @Test
    void aFrozenRedisAnswers503OutcomeUnknownAndARetryWithTheSameKeyDeliversOnce() throws Exception {
        RedisProcess.assumeAvailable();
        String cname = "frozen";
        Continuity c = new Continuity();
        try (RedisProcess redis = RedisProcess.launch();
                TestServer a = Nodes.node(redis.uri(), "redis_timeout", "300");
                TestServer b = Nodes.node(redis.uri(), "redis_timeout", "300");
                RawStream onA = new RawStream(a.front(), stream(cname))) {
            await("stream held on a", Duration.ofSeconds(5), () -> heldHere(a, cname) == 1);
            for (int i = 1; i <= 10; i++) {
                assertTrue(c.push(b, cname, "m" + i, "k" + i));
            }
            redis.freeze();
            try {
                for (int attempt = 0; attempt < 2; attempt++) {
                    c.sending("m11");
                    Response r = b.admin("/push?cname=" + cname + "&content=m11&idempotency_key=k11");
                    assertEquals(503, r.status(), r.body());
                    assertTrue(r.body().contains("outcome is unknown"), "a publish sent to a frozen Redis may happen: " + r.body());
                }
            } finally {
                redis.thaw();
            }
            // the publisher retries with the same key until it gets an answer: the first outcome
            awaitIo("the retry answered", Duration.ofSeconds(10), () -> c.push(b, cname, "m11", "k11"));
            Response again = b.admin("/push?cname=" + cname + "&content=m11&idempotency_key=k11");
            assertEquals("{\"type\":\"ok\",\"seq\":11}", again.body().trim(), "one publish, seq 11");
            for (int i = 12; i <= 15; i++) {
                assertTrue(c.push(b, cname, "m" + i, "k" + i));
            }
            onA.awaitBody("\"m15\"", 10_000);
            assertEquals(0, c.check("stream on a", messages(onA.body())), "nothing lost: no gap, no new epoch");
        }
    }

    @RepeatedTest(2)
    void sentinelFailoverToALaggingReplicaStartsANewEpoch() throws Exception {
        RedisProcess.assumeAvailable();
        String cname = "lag";
        Continuity c = new Continuity();
        try (RedisProcess master = RedisProcess.launch();
                RedisProcess replica = RedisProcess.launchReplica(master);
                RedisProcess sentinel = RedisProcess.launchSentinel(master, 1000)) {
            awaitIo("the sentinel knows the replica", Duration.ofSeconds(30),
                    () -> sentinel.cli("SENTINEL", "REPLICAS", "mymaster").contains(Integer.toString(replica.port)));
            String uri = "redis-sentinel://127.0.0.1:" + sentinel.port + "#mymaster";
            try (TestServer a = Nodes.node(uri, "channel_buffer_size", "1000", "redis_timeout", "500");
                    TestServer b = Nodes.node(uri, "channel_buffer_size", "1000", "redis_timeout", "500");
                    RawStream onA = new RawStream(a.front(), stream(cname))) {
                await("stream held on a", Duration.ofSeconds(5), () -> heldHere(a, cname) == 1);
                int next = publishAcknowledged(c, b, cname, 1, 20);
                awaitIo("the replica has the first 20", Duration.ofSeconds(10),
                        () -> "20".equals(replica.cli("HGET", "jcomet:{" + cname + "}:m", "seq").trim()));

                // the replica stops following: frozen, and its link cut by the master (so nothing sent
                // after this waits in its socket), the next 20 exist only on the master
                replica.freeze();
                try {
                    assertEquals(":1", master.command("CLIENT KILL TYPE replica"));
                    next = publishAcknowledged(c, b, cname, next, 20);
                    onA.awaitBody("\"" + c.lastAcknowledged() + "\"", 10_000);
                    master.stop(); // kill -9: the replica that is promoted never got them
                } finally {
                    replica.thaw();
                }
                awaitIo("the sentinel promoted the replica", BOUND,
                        () -> sentinel.cli("SENTINEL", "GET-MASTER-ADDR-BY-NAME", "mymaster").contains(Integer.toString(replica.port)));
                publishAcknowledged(c, b, cname, next, 20);

                onA.awaitBody("\"" + c.lastAcknowledged() + "\"", 20_000);
                List<JsonNode> got = messages(onA.body());
                assertTrue(c.check("stream on a", got) >= 1, "the promoted replica was behind: a new epoch");
                JsonNode first = firstOfLastEpoch(got);
                assertEquals(1, first.get("seq").asInt(), "the new epoch starts at 1: " + first + " in " + summary(got));
            }
        }
    }

    @Test
    void aClusterMasterKilledLeavesNoChannelDeaf() throws Exception {
        RedisProcess.assumeAvailable();
        List<RedisProcess> cluster = RedisProcess.launchCluster(3, 1);
        try {
            String seeds = String.join(",", cluster.stream().map(RedisProcess::uri).toList());
            List<String> cnames = new ArrayList<>();
            for (int i = 0; i < 12; i++) {
                cnames.add("cl" + i);
            }
            Map<String, Continuity> sent = new HashMap<>();
            Map<String, RawStream> streams = new HashMap<>();
            try (TestServer a = Nodes.node(seeds, "redis_cluster", "true", "channel_buffer_size", "1000", "redis_timeout", "1000");
                    TestServer b = Nodes.node(seeds, "redis_cluster", "true", "channel_buffer_size", "1000", "redis_timeout", "1000")) {
                try {
                    for (String cname : cnames) {
                        sent.put(cname, new Continuity());
                        streams.put(cname, new RawStream(a.front(), stream(cname)));
                    }
                    await("12 streams held on a", Duration.ofSeconds(10),
                            () -> cnames.stream().allMatch(n -> heldHere(a, n) == 1));
                    Map<String, Integer> next = new HashMap<>();
                    for (String cname : cnames) {
                        next.put(cname, publishAcknowledged(sent.get(cname), b, cname, 1, 5));
                    }

                    RedisProcess doomed = masterOf(cluster, "jcomet:{cl0}");
                    Map<RedisProcess, Long> survivors = new HashMap<>();
                    for (RedisProcess r : masters(cluster)) {
                        if (r != doomed) {
                            survivors.put(r, ssubscribeCalls(r));
                        }
                    }
                    doomed.stop(); // kill -9
                    List<String> onDoomed = new ArrayList<>();
                    long t0 = System.nanoTime();
                    // every channel keeps being published to through b until 10 more of each are acknowledged
                    try {
                        for (int round = 0; round < 10; round++) {
                            for (String cname : cnames) {
                                next.put(cname, publishAcknowledged(sent.get(cname), b, cname, next.get(cname), 1));
                            }
                        }
                    } catch (AssertionError e) {
                        RedisProcess live = cluster.stream().filter(r -> r != doomed).findFirst().orElseThrow();
                        throw new AssertionError(e.getMessage() + "; cluster now:\n" + live.cli("CLUSTER", "NODES"), e);
                    }
                    long recovered = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - t0);
                    for (String cname : cnames) {
                        RawStream s = streams.get(cname);
                        s.awaitBody("\"" + sent.get(cname).lastAcknowledged() + "\"", 20_000);
                        int signals = sent.get(cname).check("stream of " + cname + " on a", messages(s.body()));
                        if (signals > 0) {
                            onDoomed.add(cname);
                        }
                    }
                    assertTrue(onDoomed.contains("cl0"), "the promoted replica cannot prove it has everything: a new epoch on "
                            + "the killed master's channels (" + onDoomed + "), publishing again after " + recovered + " ms");
                    // only the channels whose slots moved are subscribed again: the masters that kept
                    // their slots see no new SSUBSCRIBE (nor the re-reads that follow one)
                    for (Map.Entry<RedisProcess, Long> e : survivors.entrySet()) {
                        assertEquals(e.getValue(), ssubscribeCalls(e.getKey()), "SSUBSCRIBE calls on the master at port "
                                + e.getKey().port + ", which kept its slots, after the failover of the one at " + doomed.port);
                    }
                } finally {
                    for (RawStream s : streams.values()) {
                        s.close();
                    }
                }
            }
        } finally {
            for (RedisProcess r : cluster) {
                r.stop();
            }
        }
    }

    /** The masters of the cluster now, as the first node reports it. */
    private static List<RedisProcess> masters(List<RedisProcess> cluster) throws Exception {
        List<RedisProcess> out = new ArrayList<>();
        for (String line : cluster.get(0).cli("CLUSTER", "NODES").split("\n")) {
            String[] f = line.trim().split(" ");
            if (f.length < 9 || !f[2].contains("master")) {
                continue;
            }
            int port = Integer.parseInt(f[1].substring(f[1].indexOf(':') + 1, f[1].indexOf('@')));
            cluster.stream().filter(r -> r.port == port).forEach(out::add);
        }
        return out;
    }

    /** How many SSUBSCRIBE commands this Redis has run ({@code INFO commandstats}). */
    private static long ssubscribeCalls(RedisProcess r) throws Exception {
        for (String line : r.cli("INFO", "commandstats").split("\n")) {
            if (line.startsWith("cmdstat_ssubscribe:calls=")) {
                return Long.parseLong(line.substring("cmdstat_ssubscribe:calls=".length(), line.indexOf(',')));
            }
        }
        return 0;
    }

    /** The master that owns {@code key}'s slot, as a live node reports it. */
    private static RedisProcess masterOf(List<RedisProcess> cluster, String key) throws Exception {
        int slot = Integer.parseInt(cluster.get(0).cli("CLUSTER", "KEYSLOT", key).trim().replaceAll("\\D", ""));
        for (String line : cluster.get(0).cli("CLUSTER", "NODES").split("\n")) {
            String[] f = line.trim().split(" ");
            if (f.length < 9 || !f[2].contains("master")) {
                continue;
            }
            int port = Integer.parseInt(f[1].substring(f[1].indexOf(':') + 1, f[1].indexOf('@')));
            for (int i = 8; i < f.length; i++) {
                if (f[i].startsWith("[")) {
                    continue; // a slot being migrated
                }
                String[] range = f[i].split("-");
                int lo = Integer.parseInt(range[0]);
                int hi = range.length > 1 ? Integer.parseInt(range[1]) : lo;
                if (slot >= lo && slot <= hi) {
                    for (RedisProcess r : cluster) {
                        if (r.port == port) {
                            return r;
                        }
                    }
                }
            }
        }
        throw new IllegalStateException("no master owns slot " + slot);
    }
}
