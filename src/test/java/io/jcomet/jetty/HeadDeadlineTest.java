package io.jcomet.jetty;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;

/**
 * A request head's deadline against the head completing at the same moment: exactly one wins,
 * and an expiry scheduled for an earlier head never closes a connection on a later one. The
 * timer is a fake that hands back the scheduled tasks, so the test decides when each fires.
 *
 * <p>Threads: JUnit's test thread, and in the race test two threads started for it.
 */
class HeadDeadlineTest {
    /** The tasks scheduled so far, fired by hand. */
    private final List<Runnable> scheduled = new ArrayList<>();
    private final List<AtomicBoolean> cancelled = new ArrayList<>();
    private final AtomicInteger closes = new AtomicInteger();

    private final HeadDeadline deadline = new HeadDeadline((task, millis) -> {
        scheduled.add(task);
        AtomicBoolean c = new AtomicBoolean();
        cancelled.add(c);
        return () -> !c.getAndSet(true);
    }, closes::incrementAndGet);

    @Test
    void aHeadThatCompletesInTimeIsHandledAndItsDeadlineCancelled() {
        deadline.arm(10_000);
        assertTrue(deadline.disarm(), "the head completed first: handle it");
        assertTrue(cancelled.get(0).get(), "the scheduled expiry is cancelled");
        scheduled.get(0).run(); // a cancel that came too late: the expiry runs anyway
        assertEquals(0, closes.get(), "an expiry that lost to the head closes nothing");
        assertFalse(deadline.hasExpired());
    }

    @Test
    void aDeadlineThatFiresFirstClosesAndTheHeadIsRefused() {
        deadline.arm(10_000);
        scheduled.get(0).run();
        assertEquals(1, closes.get());
        assertFalse(deadline.disarm(), "the connection is closing: the head that completes now must not be handled");
        deadline.arm(10_000);
        assertEquals(1, scheduled.size(), "a fired deadline is final: nothing is armed after it");
    }

    @Test
    void anEarlierHeadsExpiryNeverClosesTheNextHead() {
        deadline.arm(10_000);
        assertTrue(deadline.disarm());
        deadline.arm(10_000); // the next head begins
        scheduled.get(0).run(); // the first head's expiry, cancelled too late
        assertEquals(0, closes.get(), "the first deadline's expiry must not act on the second head");
        assertTrue(deadline.isSet());
        scheduled.get(1).run();
        assertEquals(1, closes.get(), "the second head's own deadline still applies");
    }

    @Test
    void armingWhileADeadlineRunsKeepsTheFirst() {
        deadline.arm(10_000);
        deadline.arm(5);
        assertEquals(1, scheduled.size(), "the head's deadline runs from its first byte, not from the last arm");
    }

    @Test
    void underARealRaceExactlyOneSideWins() throws Exception {
        for (int round = 0; round < 2_000; round++) {
            scheduled.clear();
            cancelled.clear();
            closes.set(0);
            HeadDeadline d = new HeadDeadline((task, millis) -> {
                scheduled.add(task);
                return () -> false;
            }, closes::incrementAndGet);
            d.arm(1);
            Runnable expiry = scheduled.get(0);
            CountDownLatch start = new CountDownLatch(1);
            AtomicBoolean handled = new AtomicBoolean();
            Thread scheduler = new Thread(() -> { await(start); expiry.run(); });
            Thread parser = new Thread(() -> { await(start); handled.set(d.disarm()); });
            scheduler.start();
            parser.start();
            start.countDown();
            scheduler.join(TimeUnit.SECONDS.toMillis(10));
            parser.join(TimeUnit.SECONDS.toMillis(10));
            assertEquals(1, closes.get() + (handled.get() ? 1 : 0),
                    "round " + round + ": closed " + closes.get() + ", handled " + handled.get());
        }
    }

    private static void await(CountDownLatch latch) {
        try {
            latch.await(10, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
