package io.jcomet.core;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.jcomet.config.JcometConfig;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicLong;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
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

    private static final Pattern EPOCH = Pattern.compile("\"epoch\":\"([^\"]+)\"");

    private static String epochIn(String json) {
        Matcher m = EPOCH.matcher(json);
        return m.find() ? m.group(1) : null;
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
        assertTrue(stream.last().startsWith("{\"type\":\"broadcast\""), stream.last());
        assertEquals(epoch, epochIn(stream.last()));

        RecordingSubscriber quiet = RecordingSubscriber.poll();
        b.subscribe(quiet, new Broker.SubscribeRequest("c", 3, null, null));
        nanos.addAndGet(1_000_000_000L); // polling_timeout (1 s) later, the sweeper answers noop
        b.sweepOnce(new Subscriber[16]);
        assertTrue(quiet.ended);
        assertTrue(quiet.last().startsWith("{\"type\":\"noop\""), String.valueOf(quiet.last()));
        assertEquals(epoch, epochIn(quiet.last()));

        b.close("c");
        assertTrue(stream.last().startsWith("{\"type\":\"close\""), stream.last());
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
        assertTrue(s.last().startsWith("{\"type\":\"next_seq\",\"cname\":\"c\",\"seq\":1,"), s.last());
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
        assertTrue(s.last().startsWith("{\"type\":\"reconnect\""), s.last());
        assertTrue(s.last().contains("\"retry_ms\":" + Broker.MIN_RECONNECT_WINDOW_MS), s.last());
        RecordingSubscriber late = RecordingSubscriber.poll();
        b.subscribe(late, new Broker.SubscribeRequest("c", 1, null, null));
        assertTrue(late.last().contains("\"retry_ms\":" + Broker.MIN_RECONNECT_WINDOW_MS), late.last());
    }
}
