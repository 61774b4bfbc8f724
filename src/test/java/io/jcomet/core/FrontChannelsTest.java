package io.jcomet.core;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import io.jcomet.config.JcometConfig;
import io.jcomet.support.JsonFrames;
import java.util.HashMap;
import java.util.Map;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * The front cannot fill the channel table by asking: seq=0 and answered-at-once subscribes create
 * nothing, a channel a subscriber made goes when its subscribers do (unless published to), the
 * admin API keeps slots of its own, and the incarnation counter does not break epochs past 2^31.
 */
class FrontChannelsTest {
    private final AtomicLong nanos = new AtomicLong(1_000_000_000L);
    private Broker broker;

    private Broker broker(String... kv) {
        Map<String, String> m = new HashMap<>();
        for (int i = 0; i < kv.length; i += 2) {
            m.put(kv[i], kv[i + 1]);
        }
        broker = new Broker(JcometConfig.from(m), nanos::get, false); // swept by the test only
        return broker;
    }

    @AfterEach
    void close() {
        if (broker != null) {
            broker.close();
        }
    }

    private static Broker.SubscribeRequest req(String cname, int seq, String epoch) {
        return new Broker.SubscribeRequest(cname, seq, null, epoch);
    }

    @Test
    void fifteenHundredSeqZeroQueriesCreateNoChannelAndTheAdminCanStillPublish() {
        Broker b = broker("max_channels", "1000");
        for (int i = 0; i < 1500; i++) {
            RecordingSubscriber s = RecordingSubscriber.poll();
            b.subscribe(s, req("fresh" + i, 0, null));
            JsonNode where = s.lastJson();
            assertEquals("next_seq", where.get("type").asText(), s.last());
            assertEquals("fresh" + i, where.get("cname").asText());
            assertEquals(1, where.get("seq").asInt());
            RecordingSubscriber ahead = RecordingSubscriber.poll();
            b.subscribe(ahead, req("ahead" + i, 7, null));
            assertTrue(ahead.ended);
        }
        assertEquals(0, b.channels());
        assertEquals(1, b.publish("brand-new", "still works"));
    }

    @Test
    void subscribersCannotTakeTheSlotsKeptForTheAdminApi() {
        Broker b = broker("max_channels", "100", "admin_reserved_channels", "10%");
        int held = 0;
        for (int i = 0; i < 200; i++) {
            RecordingSubscriber s = RecordingSubscriber.stream();
            b.subscribe(s, req("room" + i, 1, null));
            if (!s.ended) {
                held++;
            }
        }
        assertEquals(90, held, "the front may fill 90 of 100 slots");
        assertEquals(90, b.stats().held(io.jcomet.protocol.Transport.STREAM));
        assertEquals(110, b.stats().rejected(Stats.Reject.TOO_MANY_CHANNELS));
        for (int i = 0; i < 10; i++) {
            b.publish("admin" + i, "x");
        }
        assertEquals(100, b.channels());
    }

    @Test
    void aChannelASubscriberMadeGoesWithItsLastSubscriberUnlessPublishedTo() {
        Broker b = broker();
        RecordingSubscriber s = RecordingSubscriber.poll();
        b.subscribe(s, req("passing", 1, null));
        assertEquals(1, b.channels());
        b.forget(s, true);
        Subscriber[] scratch = new Subscriber[16];
        nanos.addAndGet(999_000_000L);
        b.sweepOnce(scratch);
        assertEquals(1, b.channels(), "kept a moment: a long-poll between two requests keeps it");
        nanos.addAndGet(1_000_000L);
        b.sweepOnce(scratch);
        assertEquals(0, b.channels(), "freed a second after its subscriber left");

        RecordingSubscriber t = RecordingSubscriber.poll();
        b.subscribe(t, req("kept", 1, null));
        b.publish("kept", "m");
        nanos.addAndGet(1_200_000_000L);
        b.sweepOnce(scratch);
        assertEquals(0, b.subscribers("kept"), "published to: still there (-1 would mean gone), it lives for channel_timeout");
        nanos.addAndGet(28_800_000_000L);
        b.sweepOnce(scratch);
        assertEquals(-1, b.subscribers("kept"), "gone channel_timeout (30 s) after its last message");
    }

    @Test
    void aClientThatSawAChannelBeforeItsFirstMessageMissesNothingLater() {
        Broker b = broker();
        RecordingSubscriber where = RecordingSubscriber.poll();
        b.subscribe(where, req("later", 0, null));
        String epoch = epochOf(where.last());
        assertEquals(0, b.channels());
        RecordingSubscriber held = RecordingSubscriber.poll();
        b.subscribe(held, req("later", 1, epoch));
        assertFalse(held.ended, "held with the epoch it was given");
        b.publish("later", "first");
        b.publish("later", "second");
        RecordingSubscriber next = RecordingSubscriber.poll();
        b.subscribe(next, req("later", 2, epoch));
        assertEquals(1, next.sent().size());
        assertEquals("second", next.lastJson().get("content").asText(), next.last());
    }

    @Test
    void epochsStayValidPastTwoToTheThirtyOneAndThirtyTwoCreations() {
        Broker b = broker();
        for (long start : new long[] {Integer.MAX_VALUE - 1L, 0xFFFFFFFFL - 1, -2L}) {
            b.tableForTest().incarnationsFrom(start);
            for (int i = 0; i < 3; i++) {
                String name = "wrap" + start + "-" + i;
                b.sign(name, 0);
                RecordingSubscriber where = RecordingSubscriber.poll();
                b.subscribe(where, req(name, 0, null));
                String epoch = epochOf(where.last());
                assertTrue(epoch.matches("[0-9a-z]+\\.[0-9a-z]+"), epoch);
                assertFalse(epoch.endsWith(".0"), "a created channel never gets the 'not created' epoch: " + epoch);
                RecordingSubscriber back = RecordingSubscriber.poll();
                b.subscribe(back, req(name, 1, epoch));
                assertFalse(back.ended, "the server accepts its own epoch " + epoch);
            }
        }
    }

    private static String epochOf(String json) {
        JsonNode e = JsonFrames.parse(json).get("epoch");
        assertTrue(e != null && e.isTextual(), json);
        return e.asText();
    }
}
