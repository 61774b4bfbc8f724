package io.jcomet.core;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import io.jcomet.protocol.Transport;
import io.jcomet.servlet.HttpWire;
import io.jcomet.support.JsonFrames;
import io.jcomet.support.Wire;
import io.jcomet.ws.WsWire;
import java.lang.management.ManagementFactory;
import java.lang.management.ThreadInfo;
import java.lang.management.ThreadMXBean;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Supplier;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Races made deterministic in CometD's style, on every transport with its real subscriber class
 * (long-poll, JSONP long-poll, stream, SSE, iframe, WebSocket) over a scripted output: the
 * racing event is run from inside a write, or a thread is parked on a latch at the exact point
 * where the other one must land. No sleeps; time is a test clock swept by hand.
 *
 * <p>Each race checks what users rely on: nothing escapes to the caller, every held count (Stats,
 * the channel, the timer lists, the wire's own subscription) goes back to 0, a response is
 * completed exactly once, and the message involved is either received or still readable by its
 * seq, never lost silently.
 */
class TransportRacesTest extends ClockedBrokerTest {
    private static final long BOUND_SECONDS = 10;
    private final AtomicLong nanos = new AtomicLong(1_000_000_000L);
    private final List<Wire> wires = new ArrayList<>();

    static Stream<Arguments> wires() {
        List<Supplier<Wire>> kinds = List.of(HttpWire::longPoll, HttpWire::jsonpLongPoll, HttpWire::stream, HttpWire::sse,
                HttpWire::iframe, WsWire::new);
        return kinds.stream().map(k -> Arguments.of(new Named(k)));
    }

    /** A wire factory that prints as its transport in the test report. */
    record Named(Supplier<Wire> make) {
        @Override
        public String toString() {
            return make.get().toString();
        }
    }

    private Wire wire(Named kind) {
        Wire w = kind.make().get();
        wires.add(w);
        return w;
    }

    @Override
    protected Map<String, String> defaults() {
        return Map.of("max_subscribers_per_channel", "100", "polling_timeout", "10",
                "channel_timeout", "60");
    }

    @AfterEach
    void closeWires() {
        wires.forEach(Wire::close);
    }

    /** Nothing is held anywhere: counts, channel lists, timers, and the wire's own subscription. */
    private void assertNothingHeld(Broker b, Wire w) {
        for (Transport t : Transport.values()) {
            assertEquals(0, b.stats().held(t), w + ": held " + t);
        }
        int subs = b.subscribers("c");
        assertTrue(subs <= 0, w + ": the channel still lists " + subs);
        assertEquals(0, b.timersQueued(), w + ": a subscriber left in the timer lists");
        assertEquals(0, w.open(), w + ": the client's subscription is still open");
        assertTrue(w.finished(), w + ": the client never saw its request end");
        assertTrue(w.completions() <= 1, w + ": completed " + w.completions() + " times");
    }

    /** The message is readable by its seq from the channel's buffer, as a client that missed it re-reads it. */
    private static void assertRereadable(Broker b, int seq, String content) {
        RecordingSubscriber late = RecordingSubscriber.poll();
        b.subscribe(late, new Broker.SubscribeRequest("c", seq, null, null));
        JsonNode m = late.json().get(0);
        assertEquals("data", JsonFrames.type(m), m.toString());
        assertEquals(seq, m.get("seq").asInt(), m.toString());
        assertEquals(content, m.get("content").asText(), m.toString());
    }

    private static List<String> contents(Wire w) {
        return w.received("data").stream().map(m -> m.get("seq").asInt() + ":" + m.get("content").asText()).toList();
    }

    // ------------------------------------------------------------------ (a) a send that makes its own subscriber leave

    @ParameterizedTest(name = "{0}")
    @MethodSource("wires")
    void aClientThatLeavesWhileItsMessageIsWrittenGetsItAndIsCountedOnce(Named kind) {
        Broker b = broker();
        b.publish("c", "x");
        Wire w = wire(kind);
        w.subscribe(b, "c", 2);
        assertEquals(1, b.subscribers("c"));
        w.duringNextWrite(w::clientLeaves); // the bytes went out, then the client closed
        assertEquals(2, b.publish("c", "y"));
        assertEquals(List.of("2:y"), contents(w), "the bytes taken before it left");
        assertNothingHeld(b, w);
        assertEquals(w.transport().streaming() ? 1 : 0, b.stats().disconnected(),
                "a stream left; a long-poll was answered first, which is not a disconnect");
        assertEquals(3, b.publish("c", "z"), "the channel goes on without it");
        assertEquals(List.of("2:y"), contents(w), "nothing is written after it left");
        assertNothingHeld(b, w);
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("wires")
    void aWriteThatFailsEndsTheSubscriberAndTheMessageStaysReadableBySeq(Named kind) {
        Broker b = broker();
        b.publish("c", "x");
        Wire w = wire(kind);
        w.subscribe(b, "c", 2);
        w.failWrites(); // the client reset the connection: its message is not received
        assertEquals(2, b.publish("c", "y"));
        assertEquals(List.of(), contents(w));
        if (w.transport() != Transport.WS) {
            assertNothingHeld(b, w); // the failed write ended the response at once
        }
        // a WebSocket learns of a failed send in the send's callback: the broker drops it at its next
        // message to the socket (or when the container reports the close)
        b.publish("c", "z");
        assertNothingHeld(b, w);
        assertEquals(w.transport().streaming() ? 1 : 0, b.stats().disconnected(), "a stream is counted gone once");
        assertRereadable(b, 2, "y");
        assertRereadable(b, 3, "z");
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("wires")
    void aClientThatLeavesWhileItsNoopIsWrittenLeavesNoTimerBehind(Named kind) {
        Broker b = broker();
        b.publish("c", "x");
        Wire w = wire(kind);
        w.subscribe(b, "c", 2);
        w.duringNextWrite(w::clientLeaves);
        advanceMillis(10_000); // polling_timeout: the sweeper writes a noop
        assertEquals(1, w.received("noop").size(), w.received().toString());
        assertNothingHeld(b, w);
        assertEquals(w.transport().streaming() ? 1 : 0, b.stats().disconnected(),
                "a stream is counted gone once; a long-poll was answered by the noop first");
        advanceMillis(10_000);
        assertEquals(1, w.received("noop").size(), "no second noop to a client that left");
        assertNothingHeld(b, w);
    }

    // ------------------------------------------------------------------ (b) a channel closed or expired while it is swept

    @ParameterizedTest(name = "{0}")
    @MethodSource("wires")
    void aChannelClosedWhileTheSweeperWritesANoopEndsEachSubscriberOnce(Named kind) {
        Broker b = broker();
        b.publish("c", "x");
        Wire w = wire(kind);
        w.subscribe(b, "c", 2);
        long[] closed = {0};
        w.duringNextWrite(() -> closed[0] = b.close("c")); // admin /close lands while the noop is written
        advanceMillis(10_000);
        assertEquals(2, closed[0], "the close found the channel and answered its next seq");
        assertEquals(0, b.channels());
        List<String> types = w.received().stream().map(JsonFrames::type).filter(t -> !t.equals("sub_ok")).toList();
        if (w.transport().streaming()) {
            assertEquals(List.of("noop", "close"), types, "the noop, then the close once");
            JsonNode close = w.received("close").get(0);
            assertEquals(2, close.get("seq").asInt(), "close tells the next seq");
        } else {
            assertEquals(List.of("noop"), types, "a long-poll is answered once: the noop went first");
        }
        assertNothingHeld(b, w);
        advanceMillis(60_000);
        assertNothingHeld(b, w);
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("wires")
    void aCloseAndASubscribeThatReachAChannelWhileItExpiresSeeItGone(Named kind) throws Exception {
        Broker b = broker();
        List<String> presence = new CopyOnWriteArrayList<>();
        CountDownLatch expiring = new CountDownLatch(1);
        CountDownLatch proceed = new CountDownLatch(1);
        b.addPresenceListener((cname, online) -> {
            presence.add((online ? "1 " : "0 ") + cname);
            if (!online && expiring.getCount() > 0) {
                expiring.countDown(); // the sweeper holds the channel's lock, and waits here
                await(proceed);
            }
        });
        b.publish("c", "x");
        advanceClockOnly(60_000); // channel_timeout passed: the next sweep expires it
        List<Throwable> escaped = new CopyOnWriteArrayList<>();
        Thread sweeper = start("sweeper", () -> b.sweepOnce(new Subscriber[16]), escaped);
        await(expiring);
        long[] closeResult = {0};
        Wire w = wire(kind);
        Thread closer = start("closer", () -> closeResult[0] = b.close("c"), escaped);
        Thread subscriber = start("subscriber", () -> w.subscribe(b, "c", 2), escaped);
        awaitBlockedByOrDone(closer, sweeper);
        awaitBlockedByOrDone(subscriber, sweeper);
        proceed.countDown();
        for (Thread t : List.of(sweeper, closer, subscriber)) {
            t.join(TimeUnit.SECONDS.toMillis(BOUND_SECONDS));
            assertFalse(t.isAlive(), t.getName() + " still running");
        }
        assertEquals(List.of(), escaped);
        assertEquals(-1, closeResult[0], "the close came after the expiry: nothing left to close");
        // the subscriber asked for seq 2 of a channel that is gone: it learns the channel starts again at 1
        JsonNode where = w.received("next_seq").get(0);
        assertEquals(1, where.get("seq").asInt(), where.toString());
        if (w.transport().streaming()) {
            assertEquals(List.of("1 c", "0 c", "1 c"), presence, "the stream made a new channel, announced after the old one's end");
            assertEquals(1, b.subscribers("c"));
            assertEquals(1, b.stats().held(w.transport()));
            b.close("c");
            assertEquals(1, w.received("close").size());
        } else {
            assertEquals(List.of("1 c", "0 c"), presence, "a long-poll asking where the channel is creates nothing");
            assertEquals(0, b.channels());
        }
        assertNothingHeld(b, w);
    }

    // ------------------------------------------------------------------ (c) a publish racing a disconnect

    @ParameterizedTest(name = "{0}")
    @MethodSource("wires")
    void aDisconnectWhileThePublishHoldsTheChannelLockMeansNoDeliveryAndTheMessageStaysReadable(Named kind) throws Exception {
        Broker b = broker();
        b.publish("c", "x");
        Wire w = wire(kind);
        w.subscribe(b, "c", 2);
        CountDownLatch inPublish = new CountDownLatch(1);
        CountDownLatch release = new CountDownLatch(1);
        RecordingSubscriber blocker = new RecordingSubscriber(Transport.STREAM) {
            @Override
            protected boolean offer(Message m) {
                inPublish.countDown(); // called under the channel lock
                await(release);
                return super.offer(m);
            }
        };
        b.subscribe(blocker, new Broker.SubscribeRequest("c", 2, null, null)); // linked last: walked first
        List<Throwable> escaped = new CopyOnWriteArrayList<>();
        int[] seq = {0};
        Thread publisher = start("publisher", () -> seq[0] = b.publish("c", "y"), escaped);
        await(inPublish);
        Thread leaver = start("leaver", w::clientLeaves, escaped);
        awaitBlockedByOrDone(leaver, publisher); // a stream waits for the channel lock to unlink; a detached long-poll does not
        release.countDown();
        for (Thread t : List.of(publisher, leaver)) {
            t.join(TimeUnit.SECONDS.toMillis(BOUND_SECONDS));
            assertFalse(t.isAlive(), t.getName() + " still running");
        }
        assertEquals(List.of(), escaped);
        assertEquals(2, seq[0]);
        assertEquals(List.of(), contents(w), "it left before the message reached it");
        assertEquals(List.of("data"), blocker.types());
        assertEquals(1, b.stats().disconnected(), "counted once, by whoever ended it");
        assertEquals(1, b.stats().delivered(), "only the blocker got it");
        blocker.onClientGone(b);
        assertNothingHeld(b, w);
        assertRereadable(b, 2, "y");
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("wires")
    void aDisconnectDuringTheFanOutOfAPublishEndsTheSubscriberOnce(Named kind) {
        Broker b = broker();
        b.publish("c", "x");
        Wire w = wire(kind);
        w.subscribe(b, "c", 2);
        Wire first = wire(new Named(HttpWire::stream)); // another client, written first (linked last)
        first.subscribe(b, "c", 2);
        first.duringNextWrite(w::clientLeaves); // w goes while the publish is writing to the others
        assertEquals(2, b.publish("c", "y"));
        assertEquals(List.of("2:y"), contents(first));
        assertEquals(List.of(), contents(w), "it left before its turn came");
        assertEquals(1, b.stats().disconnected());
        assertEquals(1, b.stats().held(Transport.STREAM), "the other client stays");
        first.clientLeaves();
        assertNothingHeld(b, w);
        assertNothingHeld(b, first);
        assertRereadable(b, 2, "y");
    }

    // ------------------------------------------------------------------ threads

    private static void await(CountDownLatch l) {
        try {
            if (!l.await(BOUND_SECONDS, TimeUnit.SECONDS)) {
                throw new AssertionError("latch not reached in " + BOUND_SECONDS + " s");
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new AssertionError(e);
        }
    }

    private static Thread start(String name, Runnable r, List<Throwable> escaped) {
        Thread t = new Thread(() -> {
            try {
                r.run();
            } catch (Throwable e) {
                escaped.add(e);
            }
        }, "race-" + name);
        t.setDaemon(true);
        t.start();
        return t;
    }

    /**
     * Waits (bounded) until {@code t} is queued for a lock {@code owner} holds (the channel's: the
     * owner is parked inside it on a latch), or has finished without needing it.
     */
    private static void awaitBlockedByOrDone(Thread t, Thread owner) {
        ThreadMXBean mx = ManagementFactory.getThreadMXBean();
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(BOUND_SECONDS);
        while (t.isAlive()) {
            ThreadInfo info = mx.getThreadInfo(t.getId());
            if (info != null && info.getThreadState() == Thread.State.BLOCKED && info.getLockOwnerId() == owner.getId()) {
                return;
            }
            assertTrue(System.nanoTime() < deadline, t.getName() + " neither blocked by " + owner.getName() + " nor done: " + t.getState());
            Thread.onSpinWait();
        }
    }
}
