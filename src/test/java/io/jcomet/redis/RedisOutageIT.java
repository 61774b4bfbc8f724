package io.jcomet.redis;

import static io.jcomet.redis.Nodes.heldHere;
import static io.jcomet.support.TestServer.await;
import static io.jcomet.support.TestServer.awaitIo;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import io.jcomet.support.RawStream;
import io.jcomet.support.TestServer;
import io.jcomet.support.TestServer.Response;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * Redis goes away and comes back (without its data, as after a failover without persistence):
 * publishing answers a 503 JSON error fast, held subscribers stay held, and the nodes recover by
 * themselves with a new epoch.
 */
class RedisOutageIT {
    private RedisProcess redis;
    private TestServer a;
    private TestServer b;

    @BeforeEach
    void start() throws Exception {
        RedisProcess.assumeAvailable();
        redis = RedisProcess.launch();
        a = Nodes.node(redis.uri(), "polling_timeout", "60");
        b = Nodes.node(redis.uri(), "polling_timeout", "60");
    }

    @AfterEach
    void stop() throws Exception {
        if (a != null) {
            a.close();
        }
        if (b != null) {
            b.close();
        }
        if (redis != null) {
            redis.close();
        }
    }

    private static String epoch(TestServer node, String cname) throws Exception {
        return Nodes.JSON.readTree(node.front("/sub?cname=" + cname + "&seq=0").body()).get("epoch").asText();
    }

    @Test
    void publishAnswers503WhileRedisIsDownHeldSubscribersStayAndEverythingRecoversWithANewEpoch() throws Exception {
        assertEquals(1, Nodes.pushSeq(a, "o", "before"));
        String before = epoch(b, "o");
        CompletableFuture<Response> poll = b.getAsync(b.front(), "/sub?cname=o&seq=2");
        try (RawStream stream = new RawStream(b.front(), "/stream?cname=o&seq=2")) {
            await("two subscribers held on b", Duration.ofSeconds(5), () -> heldHere(b, "o") == 2);

            redis.stop();
            for (String cname : List.of("o", "never-seen")) {
                long t0 = System.nanoTime();
                Response r = a.admin("/push?cname=" + cname + "&content=lost");
                long ms = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - t0);
                assertEquals(503, r.status(), r.body());
                assertTrue(ms < 3000, "503 after " + ms + " ms");
                JsonNode err = Nodes.JSON.readTree(r.body());
                assertEquals("error", err.get("type").asText());
                assertTrue(err.get("reason").asText().contains("Redis"), r.body());
                assertTrue(r.header("content-type").startsWith("application/json"));
            }
            Response sign = a.admin("/sign?cname=o");
            assertEquals(503, sign.status(), sign.body());
            // a subscriber arriving for a channel its node does not know yet cannot be synced: told so, not hung
            Response fresh = b.front("/sub?cname=fresh&seq=1");
            assertTrue(fresh.body().contains("\"503\""), fresh.body());
            // held subscribers are left alone
            assertFalse(poll.isDone(), "the held long-poll was answered while Redis was down");
            assertEquals(2, heldHere(b, "o"));

            redis.start(); // empty: the data is gone
            long t0 = System.nanoTime();
            awaitIo("a publish succeeds again", Duration.ofSeconds(10),
                    () -> a.admin("/push?cname=o&content=after").status() == 200);
            long recovered = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - t0);
            assertTrue(recovered < 10_000, "recovered after " + recovered + " ms");

            Response got = poll.get(10, TimeUnit.SECONDS);
            assertTrue(got.body().contains("\"after\""), got.body());
            stream.awaitBody("\"after\"", 10_000);
            assertFalse(stream.body().contains("\"lost\""));
            String after = epoch(b, "o");
            assertNotEquals(before, after, "Redis lost the channel: a new epoch");
            assertEquals(after, epoch(a, "o"), "both nodes agree on the new epoch");
        }
    }
}
