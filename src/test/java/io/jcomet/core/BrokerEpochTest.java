package io.jcomet.core;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import io.jcomet.config.JcometConfig;
import io.jcomet.support.JsonFrames;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * Every message that moves a client carries the channel's epoch, so a client that resumes from a
 * stored seq learns which incarnation it talks to from its first answer; and a graceful stop asks
 * its clients to spread their return over a window sized from how many it held.
 */
class BrokerEpochTest {
    private final List<Broker> brokers = new ArrayList<>();
    private final AtomicLong nanos = new AtomicLong(1_000_000_000L);

    private Broker broker(Map<String, String> config) {
        Broker b = new Broker(JcometConfig.from(config), nanos::get, false); // swept by the test only
        brokers.add(b);
        return b;
    }

    @AfterEach
    void close() {
        brokers.forEach(Broker::close);
    }

    /** The epoch a client reads from a message, or null when it carries none. */
    private static String epochIn(String json) {
        JsonNode e = JsonFrames.parse(json).get("epoch");
        return e == null ? null : e.asText();
    }

    @Test
    void dataBroadcastNoopAndCloseCarryTheEpochOfNextSeq() {
        Broker b = broker(Map.of("polling_timeout", "1"));
        b.sign("c", 60); // an existing channel: next_seq names its epoch (not the run's "not created yet" one)
        RecordingSubscriber where = RecordingSubscriber.poll();
        b.subscribe(where, new Broker.SubscribeRequest("c", 0, null, null));
        String epoch = epochIn(where.last());
        assertNotNull(epoch, where.last());

        RecordingSubscriber held = RecordingSubscriber.poll();
        b.subscribe(held, new Broker.SubscribeRequest("c", 1, null, null));
        b.publish("c", "hi");
        assertEquals("{\"type\":\"data\",\"cname\":\"c\",\"seq\":1,\"epoch\":\"" + epoch + "\",\"content\":\"hi\"}", held.last());

        RecordingSubscriber stream = RecordingSubscriber.stream();
        b.subscribe(stream, new Broker.SubscribeRequest("c", 2, null, null));
        b.broadcast("all");
        assertEquals("broadcast", stream.lastJson().get("type").asText(), stream.last());
        assertEquals(epoch, epochIn(stream.last()));

        RecordingSubscriber quiet = RecordingSubscriber.poll();
        b.subscribe(quiet, new Broker.SubscribeRequest("c", 3, null, null));
        nanos.addAndGet(1_000_000_000L); // polling_timeout (1 s) later, the sweeper answers noop
        b.sweepOnce(new Subscriber[16]);
        assertTrue(quiet.ended);
        assertEquals(List.of("noop"), quiet.types());
        assertEquals(epoch, epochIn(quiet.last()));

        b.close("c");
        assertEquals("close", stream.lastJson().get("type").asText(), stream.last());
        assertEquals(epoch, epochIn(stream.last()));
    }

    @Test
    void aRestartedServerHasAnotherEpochAndPointsAStaleClientAtItsOldest() {
        Broker first = broker(Map.of());
        first.publish("c", "old");
        String oldEpoch = first.epochOf("c");
        first.close();

        Broker second = broker(Map.of());
        second.publish("c", "new 1");
        second.publish("c", "new 2");
        assertNotEquals(oldEpoch, second.epochOf("c"));
        // the client saw seq 1 of the first run and asks for 2: without the epoch it would get "new 2" only
        RecordingSubscriber s = RecordingSubscriber.poll();
        second.subscribe(s, new Broker.SubscribeRequest("c", 2, null, oldEpoch));
        assertEquals("next_seq", s.lastJson().get("type").asText(), s.last());
        assertEquals(1, s.lastJson().get("seq").asInt(), "the oldest message of this run, not the seq the client asked");
        assertEquals(second.epochOf("c"), epochIn(s.last()));
    }

    @Test
    void reconnectWindowGrowsWithTheHeldCountWithinBounds() {
        assertEquals(Broker.MIN_RECONNECT_WINDOW_MS, Broker.reconnectWindowMillis(0));
        assertEquals(Broker.MIN_RECONNECT_WINDOW_MS, Broker.reconnectWindowMillis(5_000));
        assertEquals(20_000, Broker.reconnectWindowMillis(100_000), "100,000 held: 5,000 a second over 20 s");
        assertEquals(Broker.MAX_RECONNECT_WINDOW_MS, Broker.reconnectWindowMillis(10_000_000));
    }

    @Test
    void gracefulStopSendsTheWindowAsRetryMs() {
        Broker b = broker(Map.of());
        RecordingSubscriber s = RecordingSubscriber.poll();
        b.subscribe(s, new Broker.SubscribeRequest("c", 1, null, null));
        b.close();
        assertEquals("reconnect", s.lastJson().get("type").asText(), s.last());
        assertEquals(Broker.MIN_RECONNECT_WINDOW_MS, s.lastJson().get("retry_ms").asInt(), s.last());
        RecordingSubscriber late = RecordingSubscriber.poll();
        b.subscribe(late, new Broker.SubscribeRequest("c", 1, null, null));
        assertEquals(Broker.MIN_RECONNECT_WINDOW_MS, late.lastJson().get("retry_ms").asInt(), late.last());
    }
}
