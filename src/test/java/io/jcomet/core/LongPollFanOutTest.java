package io.jcomet.core;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.jcomet.protocol.Transport;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;

/**
 * How a publish answers the long-polls of a channel (every answer written before any response is
 * ended), and when held subscribers are told they have been held long (the point from which the
 * servlet layer watches their connection): both on the test clock, no sockets.
 */
class LongPollFanOutTest extends ClockedBrokerTest {
    private final AtomicLong nanos = new AtomicLong(5_000_000_000L);

    @Override
    protected Map<String, String> defaults() {
        return Map.of("max_subscribers_per_channel", "100", "polling_timeout", "30");
    }

    /** Writes what happens to it, in order, into a log shared by several subscribers. */
    static final class Logged extends RecordingSubscriber {
        final String name;
        final List<String> log;
        int heldLong;

        Logged(String name, Transport t, List<String> log) {
            super(t);
            this.name = name;
            this.log = log;
        }

        @Override
        protected synchronized boolean sendDeferringEnd(Message m) {
            log.add("answer " + name);
            return send(m);
        }

        @Override
        protected synchronized void endDeferred() {
            log.add("end " + name);
        }

        @Override
        protected synchronized void onHeldLong() {
            heldLong++;
        }
    }

    /** A logged subscriber of channel "c" asking for {@code seq}. */
    private static Logged held(Broker b, String name, Transport t, int seq, List<String> log) {
        Logged s = new Logged(name, t, log);
        b.subscribe(s, new Broker.SubscribeRequest("c", seq, null, null));
        return s;
    }

    @Test
    void aPublishWritesEveryLongPollAnswerBeforeItEndsAnyAndEndsThemInTheSameOrder() {
        Broker b = broker();
        b.publish("c", "x");
        List<String> log = new ArrayList<>();
        List<Logged> polls = new ArrayList<>();
        for (String n : List.of("a", "b", "c")) {
            Logged s = held(b, n, Transport.POLL, 2, log);
            polls.add(s);
        }
        b.publish("c", "y");
        assertEquals(6, log.size(), log.toString());
        assertTrue(log.subList(0, 3).stream().allMatch(e -> e.startsWith("answer ")), log.toString());
        List<String> answered = log.subList(0, 3).stream().map(e -> e.substring(7)).toList();
        List<String> ended = log.subList(3, 6).stream().map(e -> e.substring(4)).toList();
        assertEquals(answered, ended, "ended in the order they were answered");
        for (Logged s : polls) {
            assertTrue(s.last().contains("\"content\":\"y\""), s.sent().toString());
        }
        assertEquals(0, b.stats().held(Transport.POLL));
        assertEquals(3, b.stats().delivered());
    }

    @Test
    void aSweepWritesEveryNoopBeforeItEndsAnyLongPoll() {
        Broker b = broker("polling_timeout", "10");
        b.publish("c", "x");
        List<String> log = new ArrayList<>();
        List<Logged> polls = new ArrayList<>();
        for (String n : List.of("a", "b", "c")) {
            Logged s = held(b, n, Transport.POLL, 2, log);
            polls.add(s);
        }
        advanceMillis(10_000);
        assertEquals(6, log.size(), log.toString());
        assertTrue(log.subList(0, 3).stream().allMatch(e -> e.startsWith("answer ")), log.toString());
        assertTrue(log.subList(3, 6).stream().allMatch(e -> e.startsWith("end ")), log.toString());
        for (Logged s : polls) {
            assertTrue(s.last().startsWith("{\"type\":\"noop\""), s.sent().toString());
        }
        assertEquals(3, b.stats().noops());
        assertEquals(0, b.stats().held(Transport.POLL));
    }

    @Test
    void aStreamIsNotDeferredItIsOfferedAndFlushed() {
        Broker b = broker();
        b.publish("c", "x");
        List<String> log = new ArrayList<>();
        Logged stream = held(b, "s", Transport.STREAM, 2, log);
        b.publish("c", "y");
        assertEquals(List.of(), log, "streams stay open: nothing to defer");
        assertTrue(stream.last().contains("\"content\":\"y\""));
    }

    @Test
    void heldSubscribersAreToldOnceWhenTheyHaveBeenHeldDetectDisconnectsAfterMs() {
        Broker b = broker("detect_disconnects_after_ms", "2000");
        b.publish("c", "x");
        List<String> log = new ArrayList<>();
        Logged early = held(b, "early", Transport.POLL, 2, log);
        advanceMillis(1000);
        Logged late = held(b, "late", Transport.SSE, 2, log);
        advanceMillis(999);
        assertEquals(0, early.heldLong, "1,999 ms: not yet");
        advanceMillis(1);
        assertEquals(1, early.heldLong);
        assertEquals(0, late.heldLong, "held 1 s only");
        advanceMillis(1000);
        assertEquals(1, late.heldLong);
        advanceMillis(5000);
        assertEquals(1, early.heldLong, "told once, not at every sweep");
        assertEquals(1, late.heldLong);
    }

    @Test
    void aSubscriberAnsweredBeforeItWasHeldLongIsNeverTold() {
        Broker b = broker("detect_disconnects_after_ms", "2000");
        b.publish("c", "x");
        List<String> log = new ArrayList<>();
        Logged quick = held(b, "quick", Transport.POLL, 2, log);
        advanceMillis(1500);
        b.publish("c", "y"); // answered and gone from the timers
        Logged next = held(b, "next", Transport.POLL, 3, log); // its re-poll
        advanceMillis(1999);
        assertEquals(0, quick.heldLong);
        assertEquals(0, next.heldLong);
        advanceMillis(1);
        assertEquals(0, quick.heldLong);
        assertEquals(1, next.heldLong, "the re-poll counts from its own start");
    }

    @Test
    void theHeldLongCursorSurvivesItsSubscriberLeavingAndExpiring() {
        Broker b = broker("detect_disconnects_after_ms", "1000", "polling_timeout", "5");
        b.publish("c", "x");
        List<String> log = new ArrayList<>();
        List<Logged> subs = new ArrayList<>();
        for (int i = 0; i < 40; i++) { // several per timer stripe
            Logged s = held(b, "s" + i, i % 2 == 0 ? Transport.POLL : Transport.STREAM, 2, log);
            subs.add(s);
            advanceMillis(10);
        }
        // now: s0 held 400 ms .. s39 10 ms. Half are told at 1,000 ms of age; then the newest told leave
        advanceMillis(600);
        long told = subs.stream().filter(s -> s.heldLong == 1).count();
        assertTrue(told > 0 && told < 40, "some told: " + told);
        for (Logged s : subs) {
            if (s.heldLong == 1 && subs.indexOf(s) >= told - 8) {
                s.onClientGone(b); // the cursors of the stripes point at these
            }
        }
        advanceMillis(1000);
        for (Logged s : subs) {
            assertEquals(1, s.heldLong, s.name + " told exactly once");
        }
        advanceMillis(4000); // polling_timeout: long-polls answered noop, streams re-queued and told again later
        advanceMillis(1000);
        for (Logged s : subs) {
            boolean stayed = !s.isEnded();
            if (s.transport.streaming() && stayed) {
                assertEquals(2, s.heldLong, s.name + ": re-queued after its noop, held long again");
            }
        }
    }
}
