package io.jcomet.engine.redis;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.jcomet.redis.RedisProcess;
import io.jcomet.support.RawStream;
import io.jcomet.support.TestServer;
import io.lettuce.core.LettuceFutures;
import io.lettuce.core.RedisClient;
import io.lettuce.core.RedisFuture;
import io.lettuce.core.ScriptOutputType;
import io.lettuce.core.api.StatefulRedisConnection;
import io.lettuce.core.api.async.RedisAsyncCommands;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;

/**
 * redis_delivery_queue bounds the live messages waiting for a delivery thread. A burst far larger
 * than the bound (500 publications written to Redis in one pipelined flush, as many publishers on
 * other nodes would) overflows it: the node drops live messages, counts them (/info and /metrics),
 * and re-reads the channel from its Redis stream, so its subscriber still receives every message
 * once, in order, and is never told a gap while the stream holds them.
 */
class DeliveryOverflowIT {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final Pattern OBJECT = Pattern.compile("\\{[^{}]*\\}");
    private static final int BURST = 500;

    @Test
    void messagesDroppedPastTheDeliveryQueueAreCountedAndStillDeliveredInOrderFromTheStream() throws Exception {
        RedisProcess.assumeAvailable();
        String cname = "burst";
        try (RedisProcess redis = RedisProcess.launch();
                TestServer node = TestServer.start("engine", "redis", "redis_uri", redis.uri(),
                        "redis_delivery_threads", "1", "redis_delivery_queue", "1", "channel_buffer_size", "1000");
                RawStream stream = new RawStream(node.front(), "/stream?cname=" + cname + "&seq=1&epoch=")) {
            TestServer.await("the stream held", Duration.ofSeconds(5),
                    () -> node.server.broker().localSubscribers(cname) == 1);
            assertEquals(0, node.info("redis_delivery_overflow"));

            publishBurst(redis.uri(), cname);

            stream.awaitBody("\"m" + BURST + "\"", 20_000);
            List<Integer> seqs = new ArrayList<>();
            List<String> contents = new ArrayList<>();
            Matcher m = OBJECT.matcher(stream.body());
            while (m.find()) {
                JsonNode n = JSON.readTree(m.group());
                String type = n.path("type").asText();
                assertFalse("gap".equals(type) || "next_seq".equals(type), "the stream still held it: " + n);
                if ("data".equals(type)) {
                    seqs.add(n.get("seq").asInt());
                    contents.add(n.get("content").asText());
                }
            }
            List<Integer> expectedSeqs = new ArrayList<>();
            List<String> expected = new ArrayList<>();
            for (int i = 1; i <= BURST; i++) {
                expectedSeqs.add(i);
                expected.add("m" + i);
            }
            assertEquals(expectedSeqs, seqs, "every seq once, in order");
            assertEquals(expected, contents);

            long dropped = node.info("redis_delivery_overflow");
            assertTrue(dropped > 0, "a burst of " + BURST + " past a queue of 1 dropped live messages (and counted them)");
            String metrics = node.admin("/metrics").body();
            Matcher c = Pattern.compile("jcomet_rejections_total\\{reason=\"redis_delivery_overflow\"} (\\d+)").matcher(metrics);
            assertTrue(c.find(), "the overflow counter in /metrics");
            assertTrue(Double.parseDouble(c.group(1)) > 0, c.group());
        }
    }

    /** The engine's own publish script, BURST times, flushed to Redis in one write. */
    private static void publishBurst(String uri, String cname) throws Exception {
        RedisClient client = RedisClient.create(uri);
        try (StatefulRedisConnection<String, String> conn = client.connect()) {
            RedisAsyncCommands<String, String> cmd = conn.async();
            String base = RedisKeys.base("jcomet:", cname);
            String[] keys = {base + ":m", base + ":b", base + ":i"};
            conn.setAutoFlushCommands(false);
            List<RedisFuture<?>> replies = new ArrayList<>();
            for (int i = 1; i <= BURST; i++) {
                replies.add(cmd.eval(Scripts.PUBLISH.text(), ScriptOutputType.MULTI, keys,
                        "unused-epoch", "d", "m" + i, "1000", "30000", base, "0"));
            }
            conn.flushCommands();
            assertTrue(LettuceFutures.awaitAll(Duration.ofSeconds(20), replies.toArray(new RedisFuture[0])),
                    "the burst was published");
        } finally {
            client.shutdown();
        }
    }
}
