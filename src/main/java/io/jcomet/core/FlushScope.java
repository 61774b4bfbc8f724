package io.jcomet.core;

import java.util.concurrent.atomic.AtomicInteger;

/**
 * Deferred flushes: while a thread has a scope open ({@link Broker#publishAll}, a /batch on this
 * node's engine), the streams its publishes offer a message to are not {@link Subscriber#flush
 * flushed} after each publish but once, at the scope's end. A batch that puts ten messages in one
 * channel then reaches each of that channel's streams in one write (and one socket flush) instead of
 * ten; what each stream is sent, and in which order, does not change (offers still queue under the
 * channel's lock, in seq order).
 *
 * <p>Held streams are deduplicated without allocating per message: a scope has a stamp (unique
 * among the scopes open at once), and a stream is added to the scope's list only when its
 * {@link Subscriber#flushStamp} is not that stamp yet. The list is a reusable array.
 *
 * <p>A stream's unsent queue counts against {@code max_pending_bytes} (a stream over it is dropped
 * as slow, as always), and what a scope holds back sits in that queue. So that a stream which keeps
 * up is never dropped because of the holding back, a scope flushes early (before the publish that
 * would take it past) once the messages it holds back add up to half of {@code max_pending_bytes}:
 * a batch of large messages is written in a few flushes rather than one.
 *
 * <p>Threads: one instance per thread ({@link #CURRENT}), whose fields only that thread touches.
 * {@link Subscriber#flushStamp} is read and written only under the stream's channel lock (by
 * {@link Broker}'s publish). Two threads' scopes may both hold one stream (two batches to the same
 * channel at once): each flushes it at its own end (and a scope may then list it twice), the later flush finding
 * nothing or only what was offered since (a flush of an empty queue writes nothing). Flushes run with no channel lock held.
 */
final class FlushScope {
    /** Frame overhead allowed per message beyond its JSON (SSE's {@code id:} and {@code data:}, iframe's script tag). */
    static final int FRAME_SLACK = 128;

    private static final AtomicInteger STAMPS = new AtomicInteger();
    private static final ThreadLocal<FlushScope> CURRENT = ThreadLocal.withInitial(FlushScope::new);

    private int depth;
    private int stamp;
    private int limitBytes;
    /** Bytes of the messages offered while holding since the last flush (a bound on any held stream's share). */
    private long heldBytes;
    private Subscriber[] held = new Subscriber[16];
    private int count;

    private FlushScope() {
    }

    /** Opens (or, when already open on this thread, enters) the calling thread's scope. */
    static FlushScope open(int maxPendingBytes) {
        FlushScope s = CURRENT.get();
        if (s.depth++ == 0) {
            s.limitBytes = Math.max(1, maxPendingBytes / 2);
            s.stamp = nextStamp();
        }
        return s;
    }

    /** The calling thread's open scope, or null when its publishes flush at once. */
    static FlushScope active() {
        FlushScope s = CURRENT.get();
        return s.depth > 0 ? s : null;
    }

    /** Leaves the scope; the outermost close flushes every stream it holds. No channel lock held. */
    void close() {
        if (--depth == 0) {
            flushNow();
            stamp = 0;
        }
    }

    private static int nextStamp() {
        int s;
        do {
            s = STAMPS.incrementAndGet();
        } while (s == 0); // 0: a stream no scope has held
        return s;
    }

    /**
     * Before a publish whose message is about {@code bytes} long: flushes first when holding it too
     * would take the held bytes past the limit. No channel lock held.
     */
    void makeRoom(int bytes) {
        if (heldBytes > 0 && heldBytes + bytes > limitBytes) {
            flushNow();
        }
    }

    /** Under {@code s}'s channel lock, after it took a message: hold it for the scope's flush (once). */
    void hold(Subscriber s) {
        if (s.flushStamp == stamp) {
            return;
        }
        s.flushStamp = stamp;
        if (count == held.length) {
            Subscriber[] bigger = new Subscriber[held.length * 2];
            System.arraycopy(held, 0, bigger, 0, count);
            held = bigger;
        }
        held[count++] = s;
    }

    /** After the lock of a publish that held at least one stream: its message counts {@code bytes}. */
    void held(int bytes) {
        heldBytes += bytes;
    }

    /**
     * Flushes every held stream, in the order they were first held. A flush may re-enter the broker
     * (a failed write unlinks the stream); anything held meanwhile is flushed by the same loop, under
     * a new stamp so that streams already flushed are held again.
     */
    private void flushNow() {
        assert LockOrder.holdsNoChannel();
        stamp = nextStamp();
        heldBytes = 0;
        try {
            for (int i = 0; i < count; i++) {
                Subscriber s = held[i];
                held[i] = null;
                s.flush();
            }
        } finally {
            java.util.Arrays.fill(held, 0, count, null); // a flush that threw leaves none behind
            count = 0;
        }
    }
}
