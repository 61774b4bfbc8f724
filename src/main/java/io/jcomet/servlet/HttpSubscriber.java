package io.jcomet.servlet;

import io.jcomet.core.Broker;
import io.jcomet.core.Message;
import io.jcomet.core.Subscriber;
import io.jcomet.protocol.Framing;
import io.jcomet.protocol.Transport;
import jakarta.servlet.AsyncContext;
import jakarta.servlet.ServletOutputStream;
import jakarta.servlet.WriteListener;
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
 * {@code completeWhenDrained}. Lock order is channel, then subscriber: {@link #onError} and
 * {@link #flush} release this lock before they call into the broker, which may take a channel lock.
 *
 * <p>Streams are written in two steps: the broker {@link #offer}s a message under the channel's lock
 * (which only queues the message's shared frame, so seq order is kept without a socket write under
 * the channel lock) and {@link #flush}es after releasing it. The queue holds at most
 * {@code max_pending_bytes} behind the message being written; past it the subscriber is reported
 * unable to take more and the broker drops it. A stream keeps its (small) queue once it has one;
 * a long-poll answer is written directly, so idle held requests carry no buffer at all.
 *
 * <p>Where the container allows it ({@link DisconnectWatch}: Jetty HTTP/1), a held subscriber also
 * watches its connection for the client closing: {@link #readable} and {@link #failed} come from a
 * container pool thread. {@code watched} (the end point being watched, or null) and {@code completed}
 * are guarded by this object's lock; the interest is withdrawn under it before the response
 * completes, so it can never outlive the request.
 */
final class HttpSubscriber extends Subscriber implements WriteListener, DisconnectWatch.Listener, InvocationHandler {
    private final Broker broker;
    private final Transport transport;
    private final Framing framing;
    private final AsyncContext ctx;
    private final ServletOutputStream out;
    private ArrayDeque<byte[]> pending;
    private int pendingBytes;
    private boolean completeWhenDrained;
    private boolean gone;
    private boolean completed;
    private DisconnectWatch watch;
    private Object watched;
    private ClientLimits limits;
    private int limitBucket = ClientLimits.NOT_LIMITED;

    HttpSubscriber(Broker broker, Transport transport, Framing framing, AsyncContext ctx, ServletOutputStream out, int noopSeq) {
        super(noopSeq);
        this.broker = broker;
        this.transport = transport;
        this.framing = framing;
        this.ctx = ctx;
        this.out = out;
    }

    /** Registers for non-blocking output and, for streams, writes the head so the client sees 200 at once. */
    void start() {
        out.setWriteListener(this);
        if (transport.streaming()) {
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
                        gone = true;
                    }
                }
            }
        }
    }

    /** The per-client held count this subscriber holds; released once, when the response completes. */
    synchronized void countedIn(ClientLimits l, int bucket) {
        limits = l;
        limitBucket = bucket;
    }

    /**
     * Starts watching the connection for the client closing, unless the response already completed
     * (answered at once) or the container offers no way to (then {@code watch} is null).
     */
    synchronized void watchDisconnect(DisconnectWatch w, Object endPoint) {
        if (w == null || endPoint == null || completed || gone || watched != null) {
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
    public Object invoke(Object proxy, Method m, Object[] args) throws Throwable {
        return watch.dispatch(this, proxy, m, args);
    }

    /** The connection became readable while held: end of stream or reset, or a pipelined request. */
    @Override
    public void readable() {
        Object ep;
        synchronized (this) {
            ep = watched;
            if (ep == null) {
                return;
            }
            watched = null; // the callback fired: Jetty no longer holds our interest
        }
        if (!watch.clientClosed(ep)) {
            return; // the next request's bytes: left for Jetty, read after this response
        }
        clientClosed(ep);
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
            gone = true;
            pending = null;
        }
        // outside our lock: the broker takes the channel lock (lock order channel -> subscriber)
        onClientGone(broker);
        watch.close(ep); // frees the file descriptor now, not at the next write
        complete();
    }

    @Override
    public Transport transport() {
        return transport;
    }

    @Override
    protected boolean send(Message m) {
        if (!transport.streaming()) {
            synchronized (this) {
                if (gone) {
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
    protected boolean sendAll(Message[] ms, int count) {
        if (!transport.streaming()) {
            synchronized (this) {
                if (gone) {
                    return false;
                }
                finish(framing.batch(ms, count));
                return true;
            }
        }
        boolean taken = true;
        for (int i = 0; i < count && taken; i++) {
            taken = offer(ms[i]);
        }
        flush();
        return taken;
    }

    /** Streams: queues the message's shared frame (bounded by max_pending_bytes); nothing is written here. */
    @Override
    protected synchronized boolean offer(Message m) {
        if (gone) {
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
        // JSONP and streams answer 200: a browser drops a script or event stream with a 4xx status
        boolean showStatus = !transport.streaming() && framing.contentType().startsWith("application/json");
        finish(framing.frame(m), showStatus ? status : 200);
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
        if (transport == Transport.SSE) {
            r.setHeader("X-Accel-Buffering", "no"); // a proxy in front must not hold events back
        }
    }

    /** Writes the last bytes and completes once they are out. */
    private void finish(byte[] bytes) {
        finish(bytes, 200);
    }

    private void finish(byte[] bytes, int status) {
        if (!gone && !transport.streaming() && !queued()) {
            headers(status);
            if (bytes != null) {
                ctx.getResponse().setContentLength(bytes.length);
            }
        }
        if (bytes != null && !gone && !(queued() ? enqueue(bytes) : writeNow(bytes))) {
            enqueue(bytes); // not ready: queued; a slow stream over its limit loses its goodbye, not its end
        }
        completeWhenDrained = true;
        drain();
        if (gone) {
            complete();
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
            gone = true;
            return true;
        }
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
        if (gone) {
            return false;
        }
        try {
            boolean wrote = false;
            while (pending != null && !pending.isEmpty() && out.isReady()) {
                byte[] b = pending.poll();
                pendingBytes -= b.length;
                out.write(b);
                wrote = true;
            }
            if (pending == null || pending.isEmpty()) {
                if (completeWhenDrained) {
                    complete();
                } else if (wrote && transport.streaming() && out.isReady()) {
                    out.flush();
                }
            }
            return false;
        } catch (IOException | IllegalStateException e) {
            gone = true;
            return true;
        }
    }

    @Override
    public void onError(Throwable t) {
        synchronized (this) {
            gone = true;
            pending = null;
        }
        // outside our lock: the broker takes the channel lock (lock order channel -> subscriber)
        onClientGone(broker);
        complete();
    }

    private synchronized void complete() {
        if (!completed && limits != null) {
            limits.releaseHeld(limitBucket);
        }
        completed = true;
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
    }

    @Override
    protected synchronized boolean clientGone() {
        return gone;
    }
}
