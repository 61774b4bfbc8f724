package io.jcomet.core;

import io.jcomet.protocol.Transport;
import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;

/**
 * One held request, as the core sees it. The servlet layer subclasses it to write to an
 * {@code AsyncContext}; tests subclass it to record what was sent.
 *
 * <p>The core links subscribers intrusively (no map or list node per subscriber): {@code prev/next}
 * in their channel's list, guarded by the channel's lock; {@code timerPrev/timerNext} in one stripe
 * of {@link HeldTimers}, guarded by that stripe's lock. {@link #state} is claimed once by compare
 * and set, by whichever thread ends the subscription first (publisher, sweeper, I/O error, close),
 * so a one-shot subscriber is answered exactly once. {@code flushStamp} ({@link FlushScope}: a
 * /batch flushes each stream once) is guarded by the channel's lock. This object plus the
 * subclass's fields is the whole per-connection state of the application (see docs/BENCHMARKS.md
 * for its measured size).
 */
public abstract class Subscriber {
    private static final VarHandle STATE;

    static {
        try {
            STATE = MethodHandles.lookup().findVarHandle(Subscriber.class, "state", int.class);
        } catch (ReflectiveOperationException e) {
            throw new ExceptionInInitializerError(e);
        }
    }

    private static final int HELD = 0;
    private static final int ENDED = 1;

    // channel list links: guarded by channel's lock
    Subscriber prev;
    Subscriber next;
    Channel channel;
    // timer links: guarded by the lock of stripe timerStripe (-1: not queued)
    Subscriber timerPrev;
    Subscriber timerNext;
    int deadline;
    byte timerStripe = -1;
    // the stamp of the last FlushScope that held this stream for its end: guarded by channel's lock
    int flushStamp;

    @SuppressWarnings("unused") // via STATE
    private volatile int state;

    /** The noop counter the client sent; echoed in noop messages as icomet does. */
    protected int noopSeq;

    protected Subscriber(int noopSeq) {
        this.noopSeq = noopSeq;
    }

    public abstract Transport transport();

    /**
     * Sends one message. A long-poll subscriber sends it as its whole response and ends; a
     * streaming one frames it and stays. Returns false when the subscriber cannot take it (gone, or
     * over its pending-output limit); the core then drops it.
     */
    protected abstract boolean send(Message m);

    /**
     * Long-poll fan-out, step one: sends {@code m} as {@link #send} does but leaves ending the
     * response to {@link #endDeferred}, which the broker calls once every held request of the
     * channel was answered. Why: a container resumes a connection whose response another thread
     * completed on a pool thread; completing after the whole walk gives the clients, which see a
     * whole answer as soon as its bytes are out, time to send their next request, and that thread
     * then reads it at once instead of waiting for it through the selector (docs/BENCHMARKS.md,
     * "Where the CPU goes"). Default: {@link #send}, for subscribers with nothing to defer.
     */
    protected boolean sendDeferringEnd(Message m) {
        return send(m);
    }

    /** Ends what {@link #sendDeferringEnd} answered; no channel lock held. Default: nothing. */
    protected void endDeferred() {
    }

    /**
     * Called once the subscriber has been held {@code detect_disconnects_after_ms} (by the sweeper
     * thread, no lock held; maybe racing an answer): the point from which watching the connection
     * for the client closing is worth its cost. Default: nothing.
     */
    protected void onHeldLong() {
    }

    /** Sends several messages: long-poll as one JSON array response, streams one after another. */
    protected abstract boolean sendAll(Message[] ms, int count);

    /**
     * Streams: takes {@code m} for sending without writing it. The broker calls it under the
     * channel's lock, so messages are taken in seq order, and calls {@link #flush} once the lock is
     * released, so no client's socket is written while the channel is locked. Must not block; false
     * as {@link #send}. The default sends at once (for subscribers whose send is itself a bounded
     * enqueue).
     */
    protected boolean offer(Message m) {
        return send(m);
    }

    /** Writes what {@link #offer} took, in order. Called with no channel lock held; any thread. */
    protected void flush() {
    }

    /**
     * {@link #sendAll} for a stream whose {@link #offer} only queues: offers {@code ms[0..count)} in
     * order up to the first refused, then writes what was taken with one {@link #flush}.
     */
    protected final boolean offerAllThenFlush(Message[] ms, int count) {
        boolean taken = true;
        for (int i = 0; i < count && taken; i++) {
            taken = offer(ms[i]);
        }
        flush();
        return taken;
    }

    /**
     * Answers with an icomet status message (401, 404, 429) and ends. Transports that can show the
     * HTTP status to the client use {@code status}; those a browser would discard on a 4xx (JSONP
     * script tags, EventSource) answer 200 with the message, as icomet does.
     */
    protected abstract void refuse(int status, Message m);

    /** Sends {@code last} (if not null) and ends the response. */
    protected abstract void end(Message last);

    /**
     * Admission pressure (the subscriber's channel is full): is this holder's client certainly gone
     * (its connection closed) though nobody has noticed yet? Called under the channel's lock; must
     * not block or call into the broker. Default: false (only the transport's own signals count).
     */
    protected boolean probeGone() {
        return false;
    }

    /**
     * The broker removed this subscriber because {@link #probeGone} said its client is gone; the
     * transport releases what it holds (closes the connection). No channel lock held. Default: nothing.
     */
    protected void evicted() {
    }

    /** True when the last failed send failed because the client had gone (not because it was slow). */
    protected boolean clientGone() {
        return false;
    }

    /** Claims the right to end this subscriber; true for exactly one caller. */
    final boolean claim() {
        return STATE.compareAndSet(this, HELD, ENDED);
    }

    final boolean isEnded() {
        return state == ENDED;
    }

    /**
     * The container saw the client go away or the response fail. Removes the subscriber from its
     * channel and timers. Safe from any thread, any number of times.
     */
    public final void onClientGone(Broker broker) {
        broker.forget(this, true);
    }

    /**
     * The client dropped this subscription on purpose (a WebSocket {@code unsub}): like
     * {@link #onClientGone} but not counted as a disconnect. Any thread, any number of times.
     */
    public final void unsubscribe(Broker broker) {
        broker.forget(this, false);
    }

    /** The channel this subscriber is linked to, or null. Only meaningful under the channel's lock. */
    Channel channel() {
        return channel;
    }
}
