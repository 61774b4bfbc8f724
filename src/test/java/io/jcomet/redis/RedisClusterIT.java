package io.jcomet.redis;

import static io.jcomet.redis.Nodes.data;
import static io.jcomet.redis.Nodes.heldHere;
import static io.jcomet.redis.Nodes.pushSeq;
import static io.jcomet.support.TestServer.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import io.jcomet.support.RawStream;
import io.jcomet.support.TestServer;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Two jcomet nodes on a 3-master Redis Cluster the test creates (redis_cluster=true): channels
 * spread over the shards, each channel's traffic stays on its shard (sharded PUB/SUB), and the
 * nodes still behave as one server.
 */
class RedisClusterIT {
    private static List<RedisProcess> cluster = List.of();
    private static TestServer a;
    private static TestServer b;

    @BeforeAll
    static void start() throws Exception {
        RedisProcess.assumeAvailable();
        cluster = RedisProcess.launchCluster(3);
        // two seed nodes: Lettuce discovers the third from the cluster's topology
        String uris = "redis://127.0.0.1:" + cluster.get(0).port + ",redis://127.0.0.1:" + cluster.get(1).port;
        a = Nodes.node(uris, "redis_cluster", "true", "channel_buffer_size", "50");
        b = Nodes.node(uris, "redis_cluster", "true", "channel_buffer_size", "50");
    }

    @AfterAll
    static void stop() throws Exception {
        for (TestServer n : new TestServer[] {a, b}) {
            if (n != null) {
                n.close();
            }
        }
        for (RedisProcess r : cluster) {
            r.close();
        }
    }

    @Test
    void channelsSpreadOverTheShardsAndEachReachesStreamsOnTheOtherNode() throws Exception {
        int n = 24;
        List<RawStream> streams = new ArrayList<>();
        try {
            for (int i = 0; i < n; i++) {
                streams.add(new RawStream(b.front(), "/stream?cname=shard" + i + "&seq=1"));
            }
            for (int i = 0; i < n; i++) {
                String cname = "shard" + i;
                await("held " + cname, Duration.ofSeconds(5), () -> heldHere(b, cname) == 1);
            }
            for (int i = 0; i < n; i++) {
                assertEquals(1, pushSeq(a, "shard" + i, "to-" + i));
            }
            for (int i = 0; i < n; i++) {
                streams.get(i).awaitBody("\"to-" + i + "\"", 5000);
                List<JsonNode> got = data(streams.get(i).body());
                assertEquals(1, got.size(), streams.get(i).body());
            }
        } finally {
            for (RawStream s : streams) {
                s.close();
            }
        }
        // every master holds some of the channels' keys
        for (RedisProcess r : cluster) {
            String keys = r.command("DBSIZE");
            assertTrue(keys != null && keys.startsWith(":") && Integer.parseInt(keys.substring(1)) > 0,
                    "master on port " + r.port + " holds no channel: " + keys);
        }
    }

    @Test
    void oneSeqAcrossNodesAndReplayOnTheOtherNodeOnACluster() throws Exception {
        for (int i = 1; i <= 10; i++) {
            assertEquals(i, pushSeq(i % 2 == 0 ? a : b, "cl-alt", "m" + i));
        }
        List<JsonNode> replay = data(b.front("/sub?cname=cl-alt&seq=4").body());
        assertEquals(7, replay.size());
        assertEquals(4, replay.get(0).get("seq").asInt());
        assertEquals("m10", replay.get(6).get("content").asText());
        String token = Nodes.JSON.readTree(a.admin("/sign?cname=cl-tok").body()).get("token").asText();
        assertEquals(token, Nodes.JSON.readTree(b.admin("/sign?cname=cl-tok").body()).get("token").asText());
        assertEquals(0, a.subscribers("cl-alt"));
    }
}
