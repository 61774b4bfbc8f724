package io.jcomet.core;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.jcomet.config.JcometConfig;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/** The core's lock order (Broker's class comment) is checked while assertions are on. */
class LockOrderTest {

    @AfterEach
    void clear() {
        LockOrder.resetForTest();
    }

    @Test
    void theTestsRunWithTheChecksOn() {
        boolean on = false;
        assert on = true;
        assertTrue(on, "surefire and failsafe run with -ea: the core's lock checks are live in every test");
    }

    @Test
    void aSecondChannelLockIsRefused() {
        ChannelTable t = new ChannelTable(4);
        Channel a = t.getOrCreate("a", 1000, 0);
        Channel b = t.getOrCreate("b", 1000, 0);
        synchronized (a) {
            LockOrder.enter(a);
            AssertionError e = assertThrows(AssertionError.class, () -> LockOrder.enter(b));
            assertTrue(e.getMessage().contains("holding channel a"), e.getMessage());
        }
    }

    @Test
    void theSameChannelMayBeTakenAgainByItsThread() {
        ChannelTable t = new ChannelTable(4);
        Channel a = t.getOrCreate("a", 1000, 0);
        Channel b = t.getOrCreate("b", 1000, 0);
        LockOrder.enter(a);
        LockOrder.enter(a); // an offer that re-enters the broker on the publishing thread
        LockOrder.exit(a);
        LockOrder.exit(a);
        LockOrder.enter(b); // and once released, another channel is fine
        LockOrder.exit(b);
    }

    @Test
    void theTableIsNeverLockedUnderAChannel() {
        // the shape of a resync that found its channel removed and looked again under its lock
        ChannelTable t = new ChannelTable(4);
        Channel a = t.getOrCreate("a", 1000, 0);
        synchronized (a) {
            assert LockOrder.enter(a);
            try {
                AssertionError e = assertThrows(AssertionError.class, () -> t.getOrCreate("other", 1000, 0));
                assertTrue(e.getMessage().contains("channel table's lock taken while holding channel a"), e.getMessage());
                assertThrows(AssertionError.class, () -> t.remove(a));
            } finally {
                assert LockOrder.exit(a);
            }
        }
        assertEquals(1, t.size(), "nothing was created under the channel's lock");
    }

    @Test
    void aChannelIsNeverLockedUnderTheTable() {
        ChannelTable t = new ChannelTable(4);
        Channel a = t.getOrCreate("a", 1000, 0);
        LockOrder.enterTable();
        AssertionError e = assertThrows(AssertionError.class, () -> LockOrder.enter(a));
        assertTrue(e.getMessage().contains("while holding the channel table's lock"), e.getMessage());
        LockOrder.exitTable();
    }

    @Test
    void aLockedHelperWithoutItsLockIsRefused() {
        ChannelTable t = new ChannelTable(4);
        Channel a = t.getOrCreate("a", 1000, 0);
        assertThrows(AssertionError.class, () -> LockOrder.holdsChannel(a));
        synchronized (a) {
            assertTrue(LockOrder.holdsChannel(a));
        }
    }

    @Test
    void aResyncOfARemovedChannelMakesASubscribersChannelAgainWithNoLockHeld() throws Exception {
        // a resync (the engine's callback) of a channel the table no longer holds makes a
        // subscriber-made channel again, as before: nothing published, no token, no ttl
        try (Broker b = new Broker(JcometConfig.from(Map.of("channel_timeout", "30")), System::nanoTime, false)) {
            EngineEvents events = eventsOf(b);
            assertTrue(events.resync("c", new Engine.SharedState(1, "e1", null, 0, List.of())));
            Channel c = b.tableForTest().get("c");
            assertTrue(c.madeByFront, "made for subscribers: goes with its last one");
            assertEquals(1000, c.timeoutMillis, "min(1000, channel_timeout)");
            b.close("c");
            assertTrue(events.resync("c", new Engine.SharedState(3, "e1", null, 0,
                    List.of(new Engine.Stored(2, Message.Kind.DATA, "two")))));
            Channel again = b.tableForTest().get("c");
            assertTrue(again != c && !again.removed, "made again");
            assertEquals(3, again.nextSeq);
            assertEquals(30_000, again.timeoutMillis, "published to: kept for channel_timeout");
        }
    }

    @Test
    void aResyncThatFindsItsChannelRemovedLooksAgainWithNoLockHeld() throws Exception {
        // the race made certain: the resync's thread waits on the channel's lock while this thread
        // removes the channel (as a close does), so it finds it removed once it gets the lock
        try (Broker b = new Broker(JcometConfig.from(Map.of()), System::nanoTime, false)) {
            EngineEvents events = eventsOf(b);
            Engine.SharedState state = new Engine.SharedState(1, "e1", null, 0, List.of());
            assertTrue(events.resync("race", state));
            Channel first = b.tableForTest().get("race");
            java.util.concurrent.CompletableFuture<Boolean> resync;
            synchronized (first) {
                java.util.concurrent.atomic.AtomicReference<Thread> worker = new java.util.concurrent.atomic.AtomicReference<>();
                resync = java.util.concurrent.CompletableFuture.supplyAsync(() -> {
                    worker.set(Thread.currentThread());
                    return events.resync("race", state);
                });
                Waits.await("the resync waits for the channel's lock", () -> worker.get() != null
                        && worker.get().getState() == Thread.State.BLOCKED);
                first.removed = true;
                b.tableForTest().remove(first);
            }
            // before the fix it looked again under the lock: the table's lock under a channel's, an AssertionError
            assertTrue(resync.get(10, java.util.concurrent.TimeUnit.SECONDS));
            Channel again = b.tableForTest().get("race");
            assertTrue(again != first && !again.removed && again.madeByFront, "made again for subscribers");
        }
    }

    /** Bounded waits without a server. */
    private static final class Waits {
        static void await(String what, java.util.function.BooleanSupplier condition) throws InterruptedException {
            long until = System.nanoTime() + java.util.concurrent.TimeUnit.SECONDS.toNanos(5);
            while (!condition.getAsBoolean()) {
                if (System.nanoTime() - until > 0) {
                    throw new AssertionError("timed out waiting: " + what);
                }
                Thread.sleep(1);
            }
        }
    }

    /** The broker's EngineEvents, as its engine was given them. */
    private static EngineEvents eventsOf(Broker b) throws Exception {
        MemoryEngine m = (MemoryEngine) b.engine();
        java.lang.reflect.Field f = MemoryEngine.class.getDeclaredField("events");
        f.setAccessible(true);
        return (EngineEvents) f.get(m);
    }
}
