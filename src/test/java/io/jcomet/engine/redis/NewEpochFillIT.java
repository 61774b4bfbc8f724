package io.jcomet.engine.redis;

import static org.junit.jupiter.api.Assertions.assertEquals;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.jcomet.redis.RedisProcess;
import io.jcomet.support.RawStream;
import io.jcomet.support.TestServer;
import io.lettuce.core.RedisClient;
import io.lettuce.core.ScriptOutputType;
import io.lettuce.core.api.StatefulRedisConnection;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;

/**
 * Redis lost a channel (a restart without persistence) and a new epoch began with a message this
 * node did not hear (its link came back after it): the node hears the new epoch's second message
 * first, and delivers the first one from the stream before it, so its subscriber gets the new
 * epoch from seq 1 instead of losing it silently.
 */
class NewEpochFillIT {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final Pattern OBJECT = Pattern.compile("\\{[^{}]*\\}");

    @Test
    void aNewEpochWhoseFirstMessageTheNodeMissedIsDeliveredFromItsStart() throws Exception {
        RedisProcess.assumeAvailable();
        String cname = "epoch";
        String base = RedisKeys.base("jcomet:", cname);
        try (RedisProcess redis = RedisProcess.launch();
                TestServer node = TestServer.start("engine", "redis", "redis_uri", redis.uri());
                RawStream stream = new RawStream(node.front(), "/stream?cname=" + cname + "&seq=1&epoch=")) {
            TestServer.await("the stream held", Duration.ofSeconds(5), () -> node.server.broker().localSubscribers(cname) == 1);
            assertEquals(200, node.admin("/push?cname=" + cname + "&content=old").status());
            stream.awaitBody("\"old\"", 5000);

            assertEquals(":2", redis.command("DEL " + base + ":m " + base + ":b")); // the channel's data is gone
            RedisClient client = RedisClient.create(redis.uri());
            try (StatefulRedisConnection<String, String> conn = client.connect()) {
                // the engine's publish script, announcing on a channel nobody listens to: a message missed
                List<Object> r = conn.sync().eval(Scripts.PUBLISH.text(), ScriptOutputType.MULTI,
                        new String[] {base + ":m", base + ":b", base + ":i"},
                        "new-epoch", "d", "first", "100", "30000", "jcomet:{nobody}", "0");
                assertEquals(1L, r.get(0), "the new epoch starts at 1");
            } finally {
                client.shutdown();
            }
            assertEquals(200, node.admin("/push?cname=" + cname + "&content=second").status());
            stream.awaitBody("\"second\"", 5000);

            List<String> got = new ArrayList<>();
            Matcher m = OBJECT.matcher(stream.body());
            while (m.find()) {
                JsonNode n = JSON.readTree(m.group());
                if ("data".equals(n.path("type").asText())) {
                    got.add(n.get("content").asText() + "@" + n.get("seq").asInt() + "/" + n.get("epoch").asText());
                }
            }
            assertEquals(3, got.size(), stream.body());
            assertEquals("first@1/new-epoch", got.get(1), "the new epoch's first message, filled from the stream");
            assertEquals("second@2/new-epoch", got.get(2));
        }
    }
}
