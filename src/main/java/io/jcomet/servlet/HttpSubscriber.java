package io.jcomet.servlet;

import io.jcomet.core.Broker;
import io.jcomet.core.Message;
import io.jcomet.core.Subscriber;
import io.jcomet.protocol.Framing;
import io.jcomet.protocol.Transport;
import jakarta.servlet.AsyncContext;
import jakarta.servlet.AsyncEvent;
import jakarta.servlet.AsyncListener;
import jakarta.servlet.ServletOutputStream;
import jakarta.servlet.WriteListener;
import jakarta.servlet.http.HttpServletRequest;
import jakarta.servlet.http.HttpServletResponse;
import java.io.IOException;
import java.lang.reflect.InvocationHandler;
import java.lang.reflect.Method;
import java.util.ArrayDeque;

/**
 * A subscriber held in a Servlet {@link AsyncContext}, written with non-blocking output so that no
 * client, however slow, can block a publisher or the sweeper.
 *
 * <p>Threads: {@link #send}, {@link #sendAll}, {@link #offer}, {@link #flush}, {@link #end} and
 * {@link #refuse} come from request threads (publishers, subscribers answered at once) and the
 * sweeper; {@link #onWritePossible} and {@link #onError} from container threads. All of them
 * synchronize on this object, which guards {@code pending}, {@code pendingBytes} and
 * {@code state}. Lock order is channel, then subscriber: {@link #onError} and
 * {@link #flush} release this lock before they call into the broker, which may take a channel lock.
 *
 * <p>Streams are written in two steps: the broker {@link #offer}s a message under the channel's lock
 * (which only queues the message's shared frame, so seq order is kept without a socket write under
 * the channel lock) and {@link #flush}es after releasing it (within a /batch, once at its end: then
 * the frames queued meanwhile go out joined, in one write). The queue holds at most
 * {@code max_pending_bytes} behind the message being written; past it the subscriber is reported
 * unable to take more and the broker drops it. A stream keeps its (small) queue once it has one;
 * a long-poll answer is written directly, so idle held requests carry no buffer at all.
 *
 * <p>Where the container allows it ({@link DisconnectWatch}: Jetty HTTP/1), a held subscriber also
 * watches its connection for the client closing: {@link #readable} runs on the connection's selector
 * thread (it only asks how many bytes wait, and hands a closed client to a pool thread with
 * {@link AsyncContext#start}); {@link #failed} on whichever thread closed or failed the end point.
 * {@code watched} (the end point being watched, or null) and {@code dropped} (bytes the client sent
 * while held, read away by the watch) are guarded by this object's lock; the interest is withdrawn
 * under it before the response completes, so it can never outlive the request. {@link #probeGone}
 * runs on the thread of a newcomer to a full channel, under that channel's lock (lock order
 * channel, then this), and {@link #evicted} on the same thread after the lock.
 *
 * <p>A long-poll answered by a publish ({@link #sendDeferringEnd}) stays CLOSING, its bytes out,
 * until the broker's {@link #endDeferred} after the whole fan-out. Bytes that arrive then are the
 * client's next request (it re-polls as soon as it has the answer): the watch leaves them to Jetty,
 * which reads them once this response ends. Only while a request is still held, unanswered, does the
 * watch read bytes away (no well-behaved client sends any then).
 */
final class HttpSubscriber extends Subscriber
        implements WriteListener, AsyncListener, DisconnectWatch.Listener, InvocationHandler {
    /**
     * Where the response is. Only {@link #moveTo} changes it, forward only (in declaration order):
     * OPEN -> CLOSING -> DONE when the last bytes go out, OPEN/CLOSING -> GONE -> DONE when the
     * client or the container fails the response, OPEN -> DONE when the answer went out at once.
     */
    enum State {
        /** Writing (a stream) or held (a long-poll not yet answered). */
        OPEN,
        /** The last bytes are queued; the response completes once the socket took them. */
        CLOSING,
        /** The client went away or a write failed: nothing more is written; completing is all that is left. */
        GONE,
        /** The response completed; the per-client count and the disconnect watch were released. */
        DONE
    }

    private final Broker broker;
    private final Framing framing;
    private final AsyncContext ctx;
    private final ServletOutputStream out;
    private ArrayDeque<byte[]> pending;
    private int pendingBytes;
    private State state = State.OPEN;
    /** A long-poll answered by {@link #sendDeferringEnd}: CLOSING does not end until {@link #endDeferred}. */
    private boolean endHeldBack;
    private boolean lostClient; // set by the move to GONE: why it ended, for the broker's counters
    private DisconnectWatch watch;
    private Object watched;
    /** Bytes the client sent while held, read and dropped by the watch: the answer then closes the connection. */
    private int dropped;
    // the per-client bucket counted in the broker's admission (NOT_LIMITED: not counted); the
    // admission itself is the broker's, so it is not kept here (every field is paid per held request)
    private int limitBucket = io.jcomet.core.Admission.NOT_LIMITED;

    HttpSubscriber(Broker broker, Framing framing, AsyncContext ctx, ServletOutputStream out, int noopSeq) {
        super(noopSeq);
        this.broker = broker;
        this.framing = framing;
        this.ctx = ctx;
        this.out = out;
    }

    /** Registers for non-blocking output and, for streams, writes the head so the client sees 200 at once. */
    void start() {
        ctx.addListener(this); // container errors, timeouts and completions reach the subscriber
        out.setWriteListener(this);
        if (framing.transport().streaming()) {
            synchronized (this) {
                headers(200);
                byte[] head = framing.head();
                if (head.length > 0) {
                    enqueue(head);
                    drain();
                } else {
                    try {
                        if (out.isReady()) {
                            out.flush(); // commits the headers: the client sees 200 now
                        }
                    } catch (IOException | IllegalStateException e) {
                        moveTo(State.GONE);
                    }
                }
            }
        }
    }

    /**
     * The per-client held count (in the broker's admission) this subscriber holds; released once:
     * when the client is known gone, else when the response completes.
     */
    synchronized void countedIn(int bucket) {
        limitBucket = bucket;
    }

    /** Gives the per-client count back, once. Caller holds this lock. */
    private void releaseHeld() {
        int bucket = limitBucket;
        if (bucket != io.jcomet.core.Admission.NOT_LIMITED) {
            limitBucket = io.jcomet.core.Admission.NOT_LIMITED;
            broker.admission().releaseHeld(bucket);
        }
    }

    /**
     * Starts watching the connection for the client closing, unless the request is already being
     * answered or the container offers no way to. The servlet calls it at once when
     * {@code detect_disconnects_after_ms} is 0; otherwise the sweeper does, through {@link #onHeldLong},
     * for requests held that long: subscribers of busy channels are answered before and never pay
     * for a watch (its registration and every readiness event cost the selector a wake-up).
     */
    synchronized void watchDisconnect() {
        if (state != State.OPEN || watched != null || !broker.config().detectDisconnects()) {
            return;
        }
        HttpServletRequest req = (HttpServletRequest) ctx.getRequest();
        DisconnectWatch w = DisconnectWatch.get(req);
        Object endPoint = w == null ? null : w.endPointOf(req);
        if (endPoint == null) {
            return;
        }
        // set first: the callback may run on another thread before tryFillInterested returns
        watch = w;
        watched = endPoint;
        if (!w.watch(endPoint, w.callback(this))) {
            watched = null;
        }
    }

    @Override
    protected void onHeldLong() {
        try {
            watchDisconnect();
        } catch (IllegalStateException completed) {
            // the container ended the request meanwhile
        }
    }

    @Override
    public Object invoke(Object proxy, Method m, Object[] args) throws Throwable {
        return watch.dispatch(this, proxy, m, args);
    }

    /**
     * The connection became readable while held: end of stream or reset, or bytes the client sent
     * meanwhile, which are read away while the request is unanswered (and the watch armed again) so
     * that a close behind them is still seen, and left to Jetty once the answer is out (the next
     * request). Runs on the selector: nothing here blocks.
     */
    @Override
    public void readable() {
        Object ep;
        synchronized (this) {
            ep = watched;
            if (ep == null) {
                return;
            }
            watched = null; // the callback fired: Jetty no longer holds our interest
            if (state != State.OPEN) {
                // answered meanwhile (CLOSING: the bytes are out, the end waits for the fan-out): what
                // arrives now is the client's next request, Jetty's to read once this response ends
                return;
            }
            int n = watch.drain(ep);
            if (n >= 0 && (dropped += n) <= MAX_DROPPED_BYTES) {
                watched = ep;
                if (!watch.watch(ep, watch.callback(this))) {
                    watched = null;
                }
                return;
            }
        }
        // closed, or more junk than any client sends while it waits: gone
        // this runs on the selector: what follows takes locks and completes the request, so a pool thread
        // does it, from the server's thread pool: a started AsyncContext task would be dropped if the
        // request completed before it ran (DisconnectWatch#execute)
        if (watch.execute(ep, () -> clientClosed(ep))) {
            return;
        }
        try {
            ctx.start(() -> clientClosed(ep));
        } catch (IllegalStateException alreadyCompleted) {
            clientClosed(ep);
        }
    }

    /** Past this many bytes sent while held, a client is treated as gone (its connection is closed). */
    static final int MAX_DROPPED_BYTES = 64 * 1024;

    /**
     * The broker found the channel full: is this holder's client already gone? Reads the connection
     * as the watch does ({@link DisconnectWatch#drain}), without blocking. Called under the channel's
     * lock (lock order channel, then this).
     */
    @Override
    protected synchronized boolean probeGone() {
        if (state != State.OPEN || !broker.config().detectDisconnects()) {
            return false;
        }
        Object ep = endPoint();
        if (ep == null) {
            return false;
        }
        int n = DisconnectWatch.resolved().drain(ep);
        if (n >= 0 && (dropped += n) <= MAX_DROPPED_BYTES) {
            return false;
        }
        moveTo(State.GONE);
        return true;
    }

    /** The broker removed this subscriber as gone ({@link #probeGone}): close the connection and complete. No lock held. */
    @Override
    protected void evicted() {
        Object ep;
        synchronized (this) {
            ep = watched != null ? watched : endPoint();
        }
        if (ep != null) {
            DisconnectWatch.resolved().close(ep); // frees the file descriptor now
        }
        complete();
    }

    /** The Jetty end point of this request, or null (another container, HTTP/2, TLS, completed). Caller holds this lock. */
    private Object endPoint() {
        try {
            HttpServletRequest req = (HttpServletRequest) ctx.getRequest();
            DisconnectWatch w = DisconnectWatch.get(req);
            return w == null ? null : w.endPointOf(req);
        } catch (IllegalStateException completed) {
            return null;
        }
    }

    @Override
    public void failed(Throwable cause) {
        Object ep;
        synchronized (this) {
            ep = watched;
            if (ep == null) {
                return; // our own cancel (CANCELLED), or the watch already fired
            }
            watched = null;
        }
        clientClosed(ep); // the end point closed or failed under us
    }

    private void clientClosed(Object ep) {
        synchronized (this) {
            if (writable()) {
                moveTo(State.GONE); // unless the container reported it first (onError): the socket still closes below
            }
        }
        // outside our lock: the broker takes the channel lock (lock order channel -> subscriber)
        onClientGone(broker);
        watch.close(ep); // frees the file descriptor now, not at the next write
        complete();
    }

    @Override
    public Transport transport() {
        return framing.transport();
    }

    @Override
    protected boolean send(Message m) {
        if (!framing.transport().streaming()) {
            synchronized (this) {
                if (!writable()) {
                    return false;
                }
                finish(framing.frame(m));
                return true;
            }
        }
        boolean taken = offer(m);
        flush();
        return taken;
    }

    @Override
    protected boolean sendDeferringEnd(Message m) {
        if (framing.transport().streaming()) {
            return send(m);
        }
        synchronized (this) {
            if (!writable()) {
                return false;
            }
            endHeldBack = true;
            finish(framing.frame(m));
            return true;
        }
    }

    @Override
    protected synchronized void endDeferred() {
        endHeldBack = false;
        if (state == State.CLOSING && !queued()) {
            moveTo(State.DONE); // written meanwhile: end now (otherwise drain ends it once written)
        }
    }

    @Override
    protected boolean sendAll(Message[] ms, int count) {
        if (!framing.transport().streaming()) {
            synchronized (this) {
                if (!writable()) {
                    return false;
                }
                finish(framing.batch(ms, count));
                return true;
            }
        }
        return offerAllThenFlush(ms, count);
    }

    /** Streams: queues the message's shared frame (bounded by max_pending_bytes); nothing is written here. */
    @Override
    protected synchronized boolean offer(Message m) {
        if (state != State.OPEN) {
            return false;
        }
        return enqueue(framing.frame(m));
    }

    /** Streams: writes what {@link #offer} queued, as far as the socket takes it; the rest on {@link #onWritePossible}. */
    @Override
    protected void flush() {
        if (drain()) {
            onClientGone(broker);
            complete();
        }
    }

    @Override
    protected synchronized void refuse(int status, Message m) {
        finish(framing.frame(m), framing.refusalCarriesStatus() ? status : 200);
    }

    @Override
    protected synchronized void end(Message last) {
        if (last == null) {
            finish(null);
        } else {
            finish(framing.frame(last));
        }
    }

    /**
     * Sets the response headers. Done when the answer is written (long-poll) or the stream starts,
     * never while a long-poll is held, so an idle held request carries no header objects.
     */
    private void headers(int status) {
        HttpServletResponse r = (HttpServletResponse) ctx.getResponse();
        if (r.isCommitted()) {
            return;
        }
        r.setStatus(status);
        r.setContentType(framing.contentType());
        r.setHeader("Cache-Control", "no-cache");
        r.setHeader("Expires", "0");
        String origin = broker.config().corsAllowOrigin();
        if (!origin.isEmpty()) {
            r.setHeader("Access-Control-Allow-Origin", origin);
        }
        if (framing.transport() == Transport.SSE) {
            r.setHeader("X-Accel-Buffering", "no"); // a proxy in front must not hold events back
        }
        if (dropped > 0) {
            r.setHeader("Connection", "close"); // what followed the request was read away while it was held
        }
    }

    /** Writes the last bytes and completes once they are out. */
    private void finish(byte[] bytes) {
        finish(bytes, 200);
    }

    private void finish(byte[] bytes, int status) {
        if (!writable()) {
            moveTo(State.DONE); // the client is gone: nothing to write, the response still completes
            return;
        }
        if (!framing.transport().streaming() && !queued()) {
            headers(status);
            if (bytes != null) {
                ctx.getResponse().setContentLength(bytes.length);
            }
        }
        if (bytes != null && !(queued() ? enqueue(bytes) : writeNow(bytes))) {
            enqueue(bytes); // not ready: queued; a slow stream over its limit loses its goodbye, not its end
        }
        if (state == State.OPEN) {
            moveTo(State.CLOSING);
        }
        drain();
        if (state == State.GONE) {
            moveTo(State.DONE);
        }
    }

    /** Writes at once when the container can take it (a long-poll answer needs no queue); false when not ready. */
    private boolean writeNow(byte[] bytes) {
        try {
            if (out.isReady()) {
                out.write(bytes);
                return true;
            }
            return false;
        } catch (IOException | IllegalStateException e) {
            if (writable()) {
                moveTo(State.GONE);
            }
            return true;
        }
    }

    /** OPEN or CLOSING: the response can still take bytes. */
    private boolean writable() {
        return state.compareTo(State.GONE) < 0;
    }

    private boolean queued() {
        return pending != null && !pending.isEmpty();
    }

    /**
     * Queues {@code bytes} for {@link #drain}; false when the queue already holds max_pending_bytes'
     * worth (one message always fits an empty queue, however large). Caller holds this lock.
     */
    private boolean enqueue(byte[] bytes) {
        if (pendingBytes > 0 && pendingBytes + (long) bytes.length > broker.config().maxPendingBytes()) {
            return false;
        }
        if (pending == null) {
            pending = new ArrayDeque<>(4); // kept while the stream lives: a queue per message would be garbage per subscriber
        }
        pending.add(bytes);
        pendingBytes += bytes.length;
        return true;
    }

    @Override
    public void onWritePossible() {
        if (drain()) {
            onClientGone(broker);
            complete();
        }
    }

    /**
     * Writes queued bytes while the container takes them, then completes (if asked to) or flushes a
     * stream. Returns true when the write failed: the client is gone and the caller, holding no
     * lock, tells the broker.
     */
    private synchronized boolean drain() {
        if (!writable()) {
            return false;
        }
        try {
            boolean wrote = false;
            while (queued() && out.isReady()) {
                byte[] b = pending.size() == 1 ? pending.poll() : joinQueued();
                pendingBytes -= b.length;
                out.write(b);
                wrote = true;
            }
            if (!queued()) {
                if (state == State.CLOSING) {
                    if (!endHeldBack) {
                        moveTo(State.DONE);
                    }
                } else if (wrote && writable() && framing.transport().streaming() && out.isReady()) {
                    out.flush(); // not once a write re-entered us and ended the response: its output is closed
                }
            }
            return false;
        } catch (IOException | IllegalStateException e) {
            if (!writable()) {
                return false; // the response ended during the write (a departure or close it set off)
            }
            moveTo(State.GONE);
            return true;
        }
    }

    /** Most bytes {@link #joinQueued} puts in one write. */
    static final int JOIN_LIMIT = 32 * 1024;

    /**
     * Several queued frames (a /batch's messages for this stream, or what queued while the socket
     * was busy) taken off the queue as one array, so they go out in one write and one chunk: the
     * container aggregates nothing (outputAggregationSize 1), so each write is a socket write. At
     * least one frame, then whole frames up to {@link #JOIN_LIMIT} bytes. A new array: the
     * container may keep it until a non-blocking write completes. Caller holds this lock.
     */
    private byte[] joinQueued() {
        int n = 0;
        int len = 0;
        for (byte[] b : pending) {
            if (n > 0 && len + b.length > JOIN_LIMIT) {
                break;
            }
            len += b.length;
            n++;
        }
        if (n == 1) {
            return pending.poll();
        }
        byte[] joined = new byte[len];
        for (int i = 0, at = 0; i < n; i++) {
            byte[] b = pending.poll();
            System.arraycopy(b, 0, joined, at, b.length);
            at += b.length;
        }
        return joined;
    }

    /**
     * A container error or timeout on this response (from {@link #onError}, or the
     * {@code AsyncListener} the servlet registers): the client is gone.
     */
    @Override
    public void onError(Throwable t) {
        synchronized (this) {
            if (!writable()) {
                return;
            }
            moveTo(State.GONE);
        }
        // outside our lock: the broker takes the channel lock (lock order channel -> subscriber)
        onClientGone(broker);
        complete();
    }

    // AsyncListener: what the container saw happen to the request. Our own complete() moves to DONE
    // before it calls ctx.complete(), so onComplete only acts when the container ended it first.

    @Override
    public void onError(AsyncEvent event) {
        onError(event.getThrowable());
    }

    @Override
    public void onTimeout(AsyncEvent event) {
        onError(event.getThrowable());
    }

    @Override
    public void onComplete(AsyncEvent event) {
        onError(event.getThrowable());
    }

    @Override
    public void onStartAsync(AsyncEvent event) {
        // not re-dispatched: nothing to do
    }

    private synchronized void complete() {
        if (state != State.DONE) {
            moveTo(State.DONE);
        }
    }

    /** The one place the state changes, forward only, with what each move implies. Caller holds this lock. */
    private void moveTo(State next) {
        if (next.compareTo(state) <= 0) {
            if (next == state) {
                return;
            }
            throw new IllegalStateException(state + " -> " + next);
        }
        state = next;
        switch (next) {
            case GONE:
                lostClient = true;
                pending = null; // nothing more goes out: let the bytes go now
                pendingBytes = 0;
                // the client's place is free the moment it is gone, before the broker drops this
                // subscriber: a client that reconnects at once is not refused for its own old request
                releaseHeld();
                break;
            case DONE:
                pending = null;
                pendingBytes = 0;
                releaseHeld();
                if (watched != null) {
                    // before the container reads the next request on this connection, withdraw our interest
                    Object ep = watched;
                    watched = null;
                    watch.cancel(ep);
                }
                try {
                    ctx.complete();
                } catch (IllegalStateException alreadyCompleted) {
                    // the container ended the request first (client gone, server stopping)
                }
                break;
            default:
                break;
        }
    }

    /** Where the response is (tests). */
    synchronized State state() {
        return state;
    }

    @Override
    protected synchronized boolean clientGone() {
        return lostClient;
    }
}
