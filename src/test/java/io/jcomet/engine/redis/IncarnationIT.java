package io.jcomet.engine.redis;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.ObjectMapper;
import io.jcomet.redis.RedisProcess;
import io.jcomet.support.TestServer;
import io.jcomet.support.TestServer.Response;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;

/**
 * The incarnation check that keeps a channel's epoch: a channel's meta hash names the Redis
 * incarnation (master_replid) that last proved its epoch, and a publish on another incarnation
 * starts a new epoch. The form earlier versions stored ({@code <run_id>.<master_replid>}) proves
 * the same incarnation when its replid is this server's, so nodes of both versions on one Redis
 * keep one epoch; an earlier version's rid naming another replid starts a new epoch as before.
 * The other writers are played by hand: the test rewrites the stored rid.
 */
class IncarnationIT {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final Pattern REPLID = Pattern.compile("master_replid:([0-9a-f]{40})");
    private static final String RUN_ID = "0123456789abcdef0123456789abcdef01234567";

    @Test
    void theStoredIncarnationDecidesWhetherTheEpochContinues() throws Exception {
        RedisProcess.assumeAvailable();
        String meta = RedisKeys.base("jcomet:", "inc") + ":m";
        try (RedisProcess redis = RedisProcess.launch();
                TestServer node = TestServer.start("engine", "redis", "redis_uri", redis.uri())) {
            Matcher m = REPLID.matcher(redis.info("INFO replication"));
            assertTrue(m.find(), "INFO replication names master_replid");
            String replid = m.group(1);

            assertEquals(1, push(node));
            String epoch = redis.cli("HGET", meta, "epoch").trim();
            assertEquals(replid, redis.cli("HGET", meta, "rid").trim(), "a new epoch is proved by this server's replid");
            assertEquals(2, push(node));

            // an earlier version wrote the epoch on this same incarnation
            redis.cli("HSET", meta, "rid", RUN_ID + "." + replid);
            assertEquals(3, push(node), "the epoch continues: the earlier form names this incarnation");
            assertEquals(epoch, redis.cli("HGET", meta, "epoch").trim());

            // written on another incarnation (a restart or a promotion since), in either form
            redis.cli("HSET", meta, "rid", RUN_ID + "." + "f".repeat(40));
            assertEquals(1, push(node), "another incarnation's epoch is not continued: a new epoch from seq 1");
            String second = redis.cli("HGET", meta, "epoch").trim();
            assertNotEquals(epoch, second);
            assertEquals(replid, redis.cli("HGET", meta, "rid").trim());

            redis.cli("HSET", meta, "rid", "e".repeat(40));
            assertEquals(1, push(node), "another incarnation in the current form: a new epoch too");
            assertNotEquals(second, redis.cli("HGET", meta, "epoch").trim());
        }
    }

    private static int push(TestServer node) throws Exception {
        Response r = node.admin("/push?cname=inc&content=x");
        assertEquals(200, r.status(), r.body());
        return JSON.readTree(r.body()).get("seq").asInt();
    }
}
