package io.jcomet.core;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.jcomet.protocol.Transport;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Consumer;
import org.junit.jupiter.api.Test;

/**
 * The sweeper driven by a test clock (no sleeps), and races made deterministic in CometD's style:
 * a subscriber whose own callback does the racing thing at the worst moment, on every transport.
 */
class SweeperAndRacesTest extends ClockedBrokerTest {
    private final AtomicLong nanos = new AtomicLong(1_000_000_000L);

    @Override
    protected Map<String, String> defaults() {
        return Map.of("max_subscribers_per_channel", "100");
    }

    private static long held(Broker b) {
        long n = 0;
        for (Transport t : Transport.values()) {
            n += b.stats().held(t);
        }
        return n;
    }

    /** A recording subscriber that runs {@code onSend} the first time the broker hands it a message. */
    static final class Trap extends RecordingSubscriber {
        Consumer<Trap> onSend;

        Trap(Transport t) {
            super(t);
        }

        private void spring() {
            Consumer<Trap> c = onSend;
            onSend = null;
            if (c != null) {
                c.accept(this);
            }
        }

        @Override
        protected boolean send(Message m) {
            boolean ok = super.send(m);
            spring();
            return ok;
        }

        @Override
        protected boolean offer(Message m) {
            boolean ok = super.send(m);
            spring();
            return ok;
        }

        @Override
        protected void end(Message last) {
            super.end(last);
            spring();
        }
    }

    private static final Transport[] ALL = {Transport.POLL, Transport.STREAM, Transport.SSE, Transport.IFRAME, Transport.WS};

    @Test
    void pollingTimeoutAnswersNoopAndAQuietChannelExpiresOnTheTestClock() {
        Broker b = broker("polling_timeout", "30", "channel_timeout", "60");
        b.publish("c", "x");
        RecordingSubscriber poll = new RecordingSubscriber(Transport.POLL);
        RecordingSubscriber stream = new RecordingSubscriber(Transport.STREAM);
        b.subscribe(poll, new Broker.SubscribeRequest("c", 2, null, null));
        b.subscribe(stream, new Broker.SubscribeRequest("c", 2, null, null));
        advanceMillis(29_999);
        assertEquals(2, held(b), "not yet: 1 ms before polling_timeout");
        advanceMillis(1);
        assertEquals(List.of("noop"), poll.types());
        assertEquals(List.of("noop"), stream.types());
        assertEquals(1, held(b), "the long-poll was answered; the stream stays");
        assertEquals(2, b.stats().noops());
        advanceMillis(30_000);
        assertEquals(List.of("noop", "noop"), stream.types(), "a noop every polling_timeout");

        stream.onClientGone(b);
        advanceMillis(59_999);
        assertEquals(1, b.channels(), "the channel lives channel_timeout after its last subscriber left");
        advanceMillis(1);
        assertEquals(0, b.channels());
    }

    @Test
    void aSubscriberWhoseSendMakesItLeaveIsCountedOnceOnEveryTransport() {
        Broker b = broker();
        b.publish("c", "x");
        List<Trap> traps = new ArrayList<>();
        List<RecordingSubscriber> others = new ArrayList<>();
        for (Transport t : ALL) {
            Trap trap = new Trap(t);
            trap.onSend = s -> s.onClientGone(b); // its client goes away while the message is handed over
            b.subscribe(trap, new Broker.SubscribeRequest("c", 2, null, null));
            traps.add(trap);
            RecordingSubscriber other = new RecordingSubscriber(t);
            b.subscribe(other, new Broker.SubscribeRequest("c", 2, null, null));
            others.add(other);
        }
        b.publish("c", "y");
        for (RecordingSubscriber o : others) {
            assertEquals("y", o.lastJson().get("content").asText(), o.transport + ": " + o.sent());
        }
        assertEquals(4, held(b), "the four streams that stayed; every trap and long-poll is uncounted once");
        assertEquals(4, b.stats().disconnected(), "the four stream traps left as their message went out (the long-poll was answered first)");
    }

    @Test
    void aStreamThatMakesTheNextOneLeaveDoesNotCutTheFanOutShort() {
        Broker b = broker();
        b.publish("c", "x");
        List<RecordingSubscriber> later = new ArrayList<>();
        for (int i = 0; i < 3; i++) {
            RecordingSubscriber s = RecordingSubscriber.stream();
            b.subscribe(s, new Broker.SubscribeRequest("c", 2, null, null));
            later.add(s);
        }
        RecordingSubscriber victim = RecordingSubscriber.stream();
        b.subscribe(victim, new Broker.SubscribeRequest("c", 2, null, null));
        Trap trap = new Trap(Transport.STREAM); // linked first in the list: walked first
        trap.onSend = s -> victim.onClientGone(b);
        b.subscribe(trap, new Broker.SubscribeRequest("c", 2, null, null));
        b.publish("c", "y");
        for (RecordingSubscriber s : later) {
            assertEquals("y", s.lastJson().get("content").asText(), "every stream after the one that left got it: " + s.sent());
        }
        assertEquals(4, b.stats().held(Transport.STREAM));
    }

    private static long count(RecordingSubscriber s, String type) {
        return s.types().stream().filter(type::equals).count();
    }

    @Test
    void aChannelClosedWhileItsSubscribersExpireEndsEachOnce() {
        for (Transport t : ALL) {
            Broker b = broker("polling_timeout", "10");
            b.publish("c", "x");
            Trap trap = new Trap(t);
            trap.onSend = s -> b.close("c"); // its noop goes out, and the channel is closed at that moment
            RecordingSubscriber other = new RecordingSubscriber(t);
            b.subscribe(other, new Broker.SubscribeRequest("c", 2, null, null));
            b.subscribe(trap, new Broker.SubscribeRequest("c", 2, null, null));
            advanceMillis(10_000);
            assertEquals(0, b.channels(), t.toString());
            assertEquals(0, held(b), t.toString());
            if (t.streaming()) {
                assertEquals(1, count(other, "close"), t + ": " + other.sent());
                assertEquals(1, count(trap, "close"), t + ": " + trap.sent());
            } else {
                assertEquals(1, count(other, "close") + count(other, "noop"), t + ": answered once: " + other.sent());
                assertEquals(List.of("noop"), trap.types(), t.toString());
            }
            b.close();
        }
    }

    @Test
    void aPublishRacingADisconnectDeliversOrForgetsButNeverBoth() {
        for (Transport t : ALL) {
            Broker b = broker();
            b.publish("c", "x");
            Trap trap = new Trap(t);
            trap.onSend = s -> s.onClientGone(b); // the disconnect lands while the publish hands the message over
            b.subscribe(trap, new Broker.SubscribeRequest("c", 2, null, null));
            b.publish("c", "y");
            assertEquals(0, held(b), t.toString());
            assertEquals(t.streaming() ? 1 : 0, b.stats().disconnected(),
                    t + ": a long-poll answered by the publish is not also a disconnect");
            assertEquals(1, b.stats().delivered(), t.toString());
            b.close();
        }
    }
}
