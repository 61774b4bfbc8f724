package io.jcomet.core;

/**
 * Checks the core's lock order (stated in {@link Broker}'s class comment) while assertions are on
 * ({@code -ea}: the tests run so); with assertions off every call below is skipped, since each is
 * made as {@code assert LockOrder.x(...)}.
 *
 * <p>What is checked, per thread: at most one channel's lock is held (taken again by the same
 * thread is fine: an offer may re-enter the broker on the publishing thread); the table's lock is
 * never taken with a channel's held, nor a channel's with the table's; a {@code ...Locked} method
 * runs with its channel's lock held. A lock's section is marked by {@link #enter}/{@link #exit}
 * inside the {@code synchronized} block (the table's: {@link #enterTable}/{@link #exitTable}).
 * A violation throws {@link AssertionError} naming both locks.
 *
 * <p>Threads: the state is one small holder per thread ({@link ThreadLocal}), touched only by its thread.
 */
final class LockOrder {
    private LockOrder() {}

    /** What this thread holds now. */
    private static final class Held {
        Channel channel;
        int depth;
        boolean table;
    }

    private static final ThreadLocal<Held> HELD = ThreadLocal.withInitial(Held::new);

    /** Just inside {@code synchronized (ch)}: no other channel's lock, nor the table's, may be held. */
    static boolean enter(Channel ch) {
        Held h = HELD.get();
        if (h.table) {
            throw new AssertionError("lock order: channel " + ch.name + " locked while holding the channel table's lock");
        }
        if (h.channel != null && h.channel != ch) {
            throw new AssertionError("lock order: channel " + ch.name + " locked while holding channel "
                    + h.channel.name + " (a thread holds at most one channel lock)");
        }
        h.channel = ch;
        h.depth++;
        return true;
    }

    /** In the {@code finally} of a section {@link #enter} opened. */
    static boolean exit(Channel ch) {
        Held h = HELD.get();
        if (h.channel != ch || h.depth == 0) {
            throw new AssertionError("lock order: channel " + ch.name + " released but not entered");
        }
        if (--h.depth == 0) {
            h.channel = null;
        }
        return true;
    }

    /** Just inside the table's {@code synchronized}: no channel's lock may be held. */
    static boolean enterTable() {
        Held h = HELD.get();
        if (h.channel != null) {
            throw new AssertionError("lock order: the channel table's lock taken while holding channel "
                    + h.channel.name + " (never held together)");
        }
        h.table = true;
        return true;
    }

    static boolean exitTable() {
        HELD.get().table = false;
        return true;
    }

    /** A {@code ...Locked} method: its channel's lock is held by this thread. */
    static boolean holdsChannel(Channel ch) {
        if (!Thread.holdsLock(ch)) {
            throw new AssertionError("lock order: " + ch.name + "'s ...Locked method called without its lock");
        }
        return true;
    }

    /** Engine callbacks and other entry points: called with no channel lock held. */
    static boolean holdsNoChannel() {
        Channel c = HELD.get().channel;
        if (c != null) {
            throw new AssertionError("lock order: called while holding channel " + c.name);
        }
        return true;
    }

    /** Tests: what this thread holds, cleared (a test that provoked a violation leaves nothing behind). */
    static void resetForTest() {
        HELD.remove();
    }
}
