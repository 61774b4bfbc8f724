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
 * <p>Threads: {@link #send}, {@link #sendAll}, {@link #end} and {@link #refuse} come from request
 * threads (publishers, subscribers answered at once) and the sweeper; {@link #onWritePossible} and
 * {@link #onError} from container threads. All of them synchronize on this object, which guards
 * {@code pending}, {@code pendingBytes} and {@code completeWhenDrained}. Lock order is channel, then
 * subscriber: {@link #onError} releases this lock before it calls into the broker, which may take a
 * channel lock.
 *
 * <p>Output the socket cannot take yet is queued in {@code pending} (allocated only when needed) up
 * to {@code max_pending_bytes}; past it the subscriber is reported unable to take more and the
 * broker drops it. Idle held requests carry no buffer at all.
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
                    write(head);
                } else {
                    flushIfReady();
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
    protected synchronized boolean send(Message m) {
        if (gone) {
            return false;
        }
        byte[] frame = framing.frame(m.json(), m.eventId());
        if (!transport.streaming()) {
            finish(frame);
            return true;
        }
        return write(frame);
    }

    @Override
    protected synchronized boolean sendAll(Message[] ms, int count) {
        if (gone) {
            return false;
        }
        if (!transport.streaming()) {
            byte[][] jsons = new byte[count][];
            long[] ids = new long[count];
            for (int i = 0; i < count; i++) {
                jsons[i] = ms[i].json();
                ids[i] = ms[i].eventId();
            }
            finish(framing.batch(jsons, ids, count));
            return true;
        }
        for (int i = 0; i < count; i++) {
            if (!write(framing.frame(ms[i].json(), ms[i].eventId()))) {
                return false;
            }
        }
        return true;
    }

    @Override
    protected synchronized void refuse(int status, Message m) {
        // JSONP and streams answer 200: a browser drops a script or event stream with a 4xx status
        boolean showStatus = !transport.streaming() && framing.contentType().startsWith("application/json");
        finish(framing.frame(m.json(), m.eventId()), showStatus ? status : 200);
    }

    @Override
    protected synchronized void end(Message last) {
        if (last == null) {
            finish(null);
        } else {
            finish(framing.frame(last.json(), last.eventId()));
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
        if (!transport.streaming() && pending == null && !gone) {
            headers(status);
            if (bytes != null) {
                ctx.getResponse().setContentLength(bytes.length);
            }
        }
        if (bytes != null && !gone) {
            writeRaw(bytes);
        }
        if (pending == null || gone) {
            complete();
        } else {
            completeWhenDrained = true;
        }
    }

    private boolean write(byte[] bytes) {
        if (pending != null) {
            if (pendingBytes + (long) bytes.length > broker.config().maxPendingBytes()) {
                return false;
            }
            pending.add(bytes);
            pendingBytes += bytes.length;
            return true;
        }
        if (!writeRaw(bytes)) {
            return false;
        }
        if (transport.streaming()) {
            flushIfReady();
        }
        return true;
    }

    /** Writes now if the container can take it, else queues. False once the client is gone. */
    private boolean writeRaw(byte[] bytes) {
        try {
            if (pending == null && out.isReady()) {
                out.write(bytes);
                return true;
            }
            if (pending == null) {
                pending = new ArrayDeque<>(4);
            }
            pending.add(bytes);
            pendingBytes += bytes.length;
            return true;
        } catch (IOException | IllegalStateException e) {
            gone = true;
            return false;
        }
    }

    private void flushIfReady() {
        try {
            if (pending == null && out.isReady()) {
                out.flush();
            }
        } catch (IOException | IllegalStateException e) {
            gone = true;
        }
    }

    @Override
    public void onWritePossible() {
        synchronized (this) {
            try {
                while (pending != null && out.isReady()) {
                    byte[] b = pending.poll();
                    if (b == null) {
                        pending = null;
                        pendingBytes = 0;
                        break;
                    }
                    pendingBytes -= b.length;
                    out.write(b);
                }
                if (pending != null && pending.isEmpty() && out.isReady()) {
                    pending = null;
                    pendingBytes = 0;
                }
                if (pending == null) {
                    if (completeWhenDrained) {
                        complete();
                    } else if (transport.streaming() && out.isReady()) {
                        out.flush();
                    }
                }
                return;
            } catch (IOException | IllegalStateException e) {
                gone = true;
            }
        }
        onClientGone(broker);
        complete();
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
