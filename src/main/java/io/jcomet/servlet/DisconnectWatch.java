package io.jcomet.servlet;

import jakarta.servlet.ServletRequest;
import jakarta.servlet.http.HttpServletRequest;
import java.io.IOException;
import java.lang.reflect.Constructor;
import java.lang.reflect.InvocationHandler;
import java.lang.reflect.Method;
import java.lang.reflect.Proxy;
import java.nio.ByteBuffer;
import java.nio.channels.SocketChannel;
import java.util.concurrent.CancellationException;
import java.util.logging.Logger;

/**
 * Notices that the client of a held request closed its connection (FIN or RST), on Jetty 12 HTTP/1,
 * plain or over TLS.
 *
 * <p>Why: the Servlet API has no "client went away" event for a request that is neither read nor
 * written, and Jetty 12 stops reading a connection while a request on it is being handled, so a
 * vanished long-poll client would hold its file descriptor (and a place in its channel) until the
 * next write or the timeout. icomet frees it at once.
 *
 * <p>How: once a subscriber has been held {@code detect_disconnects_after_ms} (or from the start
 * when that is 0), jcomet registers its own read interest on the connection's
 * Jetty {@code EndPoint} ({@code tryFillInterested}): the connection's selector, which already
 * watches the socket, calls back when it becomes readable; no thread and no extra selector per
 * connection. Then {@link #drain} reads the socket without blocking: end of stream or reset means
 * the client is gone, and the end point is closed, which frees the fd. Bytes sent while the request
 * is held (a byte of junk, or a request pipelined after the held one started: no browser
 * pipelines) are read and dropped, the watch is armed again, and the answer closes the connection
 * ({@code Connection: close}); leaving them unread would hide a close behind them until the
 * polling timeout. Bytes that arrived with the held request are Jetty's (already in its buffer) and
 * are served after it as usual. Before a watched response completes, the interest is withdrawn
 * ({@link #cancel}), so Jetty's own read interest for the next request never meets ours. The same
 * {@link #drain} answers the broker's probe of a full channel's holders
 * ({@link HttpSubscriber#probeGone}).
 *
 * <p>Over TLS (HTTP/1.1) the watched end point is Jetty's decrypted view of the connection
 * ({@code SslEndPoint}): the same read interest, and {@link #drain} fills from it, so the TLS layer
 * reads and decrypts: a close_notify, end of stream or reset reads as closed; records that carry no
 * application bytes (an alert before the close_notify) read as 0, and the watch is armed again.
 *
 * <p>Everything Jetty-specific is reached by reflection on the objects the container hands over,
 * so the WAR stays standard Servlet: on another container (Tomcat) or HTTP/2 (where Jetty reads every
 * connection itself and fails a stream the client resets or abandons), {@link #endPointOf}
 * returns null and jcomet relies on the container's own error callbacks and the polling timeout
 * (docs/DEPLOY.md).
 *
 * <p>Threads: resolved once (the first request), then immutable; any thread may call any method.
 * The per-connection state (is it watched?) lives in {@link HttpSubscriber}, guarded by its lock.
 */
final class DisconnectWatch {
    private static final Logger LOG = Logger.getLogger("io.jcomet");
    /** Passed to the callback when jcomet withdraws its interest itself; the subscriber ignores it. */
    static final Throwable CANCELLED = new CancellationException("jcomet withdrew its read interest");

    private static volatile DisconnectWatch instance;
    private static volatile boolean unavailable;

    private final Method contextRequestOf;     // static ServletContextRequest.getServletContextRequest(ServletRequest)
    private final Method connectionMetaData;   // Request.getConnectionMetaData()
    private final Method connection;           // ConnectionMetaData.getConnection()
    private final Method endPoint;             // Connection.getEndPoint()
    private final Class<?> http1Connection;    // server.internal.HttpConnection
    private final Class<?> socketEndPoint;     // io.SocketChannelEndPoint
    private final Method socketChannel;        // SocketChannelEndPoint.getChannel()
    private final Method tryFillInterested;    // EndPoint.tryFillInterested(Callback)
    private final Method fillInterest;         // AbstractEndPoint.getFillInterest()
    private final Method failInterest;         // FillInterest.onFail(Throwable)
    private final Method close;                // EndPoint.close()
    private final Class<?> sslEndPoint;        // io.ssl.SslConnection$SslEndPoint (TLS, decrypted view)
    private final Method fill;                 // EndPoint.fill(ByteBuffer)
    private final Method connectionOf;         // EndPoint.getConnection()
    private final Method serverOf;             // server.internal.HttpConnection.getServer()
    private final Method threadPoolOf;         // Server.getThreadPool()
    private final Constructor<?> callbackProxy;
    private final Object nonBlocking;          // Invocable.InvocationType.NON_BLOCKING

    private DisconnectWatch(ClassLoader l) throws ReflectiveOperationException {
        Class<?> ctxRequest = Class.forName("org.eclipse.jetty.ee10.servlet.ServletContextRequest", false, l);
        contextRequestOf = ctxRequest.getMethod("getServletContextRequest", ServletRequest.class);
        Class<?> request = Class.forName("org.eclipse.jetty.server.Request", false, l);
        connectionMetaData = request.getMethod("getConnectionMetaData");
        connection = connectionMetaData.getReturnType().getMethod("getConnection");
        endPoint = connection.getReturnType().getMethod("getEndPoint");
        http1Connection = Class.forName("org.eclipse.jetty.server.internal.HttpConnection", false, l);
        socketEndPoint = Class.forName("org.eclipse.jetty.io.SocketChannelEndPoint", false, l);
        socketChannel = socketEndPoint.getMethod("getChannel");
        Class<?> ep = endPoint.getReturnType();
        Class<?> callback = Class.forName("org.eclipse.jetty.util.Callback", false, l);
        tryFillInterested = ep.getMethod("tryFillInterested", callback);
        fillInterest = Class.forName("org.eclipse.jetty.io.AbstractEndPoint", false, l).getMethod("getFillInterest");
        failInterest = fillInterest.getReturnType().getMethod("onFail", Throwable.class);
        close = ep.getMethod("close");
        sslEndPoint = Class.forName("org.eclipse.jetty.io.ssl.SslConnection$SslEndPoint", false, l);
        fill = ep.getMethod("fill", ByteBuffer.class);
        connectionOf = ep.getMethod("getConnection");
        serverOf = http1Connection.getMethod("getServer");
        threadPoolOf = serverOf.getReturnType().getMethod("getThreadPool");
        Class<?> invocationType = Class.forName("org.eclipse.jetty.util.thread.Invocable$InvocationType", false, l);
        nonBlocking = invocationType.getField("NON_BLOCKING").get(null);
        Object probe = Proxy.newProxyInstance(callback.getClassLoader(), new Class<?>[] {callback}, (p, m, a) -> null);
        callbackProxy = probe.getClass().getConstructor(InvocationHandler.class);
    }

    /** The watch for this container, or null when it is not Jetty 12 ee10 (resolved once). */
    static DisconnectWatch get(HttpServletRequest req) {
        DisconnectWatch w = instance;
        if (w != null || unavailable) {
            return w;
        }
        synchronized (DisconnectWatch.class) {
            if (instance == null && !unavailable) {
                try {
                    instance = new DisconnectWatch(req.getClass().getClassLoader());
                    LOG.info("jcomet: closed connections of held requests are noticed (Jetty end point read interest, from detect_disconnects_after_ms of holding)");
                } catch (ReflectiveOperationException | LinkageError | RuntimeException e) {
                    unavailable = true;
                    LOG.info("jcomet: this container gives no way to notice a held request's client closing ("
                            + e.getClass().getSimpleName() + "); such clients are freed by the container's error callback or polling_timeout");
                }
            }
            return instance;
        }
    }

    /** The watch once resolved by {@link #get}, or null (not yet, or not Jetty). */
    static DisconnectWatch resolved() {
        return instance;
    }

    /** The HTTP/1 socket (or TLS) end point behind {@code req}, or null when this connection cannot be watched. */
    Object endPointOf(HttpServletRequest req) {
        try {
            Object core = contextRequestOf.invoke(null, req);
            if (core == null) {
                return null;
            }
            Object c = connection.invoke(connectionMetaData.invoke(core));
            if (!http1Connection.isInstance(c)) {
                return null; // HTTP/2 streams share one socket, which Jetty reads itself
            }
            Object ep = endPoint.invoke(c);
            return socketEndPoint.isInstance(ep) || sslEndPoint.isInstance(ep) ? ep : null;
        } catch (ReflectiveOperationException | RuntimeException e) {
            return null;
        }
    }

    /**
     * A Jetty {@code Callback} whose calls go to {@code handler}, which passes them to
     * {@link #dispatch}: one 16-byte proxy object per watched request.
     */
    Object callback(InvocationHandler handler) {
        try {
            return callbackProxy.newInstance(handler);
        } catch (ReflectiveOperationException e) {
            throw new IllegalStateException(e);
        }
    }

    /** Turns a call on a {@link #callback} proxy into a {@link Listener} call. */
    Object dispatch(Listener listener, Object proxy, Method m, Object[] args) throws Throwable {
        switch (m.getName()) {
            case "succeeded": listener.readable(); return null;
            case "failed": listener.failed((Throwable) args[0]); return null;
            // run by the selector itself, no hand-off: the listener only asks the kernel how many bytes
            // wait (one ioctl) and hands what may block (a client gone) to a pool thread
            case "getInvocationType": return nonBlocking;
            case "hashCode": return System.identityHashCode(proxy);
            case "equals": return proxy == args[0];
            case "toString": return "jcomet-disconnect-watch";
            default: return InvocationHandler.invokeDefault(proxy, m, args);
        }
    }

    /** Asks to be called back when the connection becomes readable; false if someone already reads it. */
    boolean watch(Object endPoint, Object callback) {
        try {
            return (Boolean) tryFillInterested.invoke(endPoint, callback);
        } catch (ReflectiveOperationException | RuntimeException e) {
            return false;
        }
    }

    /** Withdraws the read interest registered by {@link #watch}; its callback sees {@link #CANCELLED}. */
    void cancel(Object endPoint) {
        try {
            failInterest.invoke(fillInterest.invoke(endPoint), CANCELLED);
        } catch (ReflectiveOperationException | RuntimeException e) {
            // the end point is gone: nothing registered any more
        }
    }

    /** Scratch space for {@link #drain}: what a client sends while held is read away and dropped. */
    private static final ThreadLocal<ByteBuffer> SCRATCH = ThreadLocal.withInitial(() -> ByteBuffer.allocate(4096));
    /** At most this much is read per {@link #drain} call (more waits for the next readiness event). */
    static final int DRAIN_LIMIT = 16 * 1024;

    /**
     * Reads (and drops) whatever the client sent while its request is held, without blocking, to
     * learn whether it is still there: -1 when the client closed (end of stream, reset or error),
     * otherwise the number of bytes dropped (0: nothing waiting, the client is still connected).
     * Only end of stream tells a closed client from an idle one, and it lies behind any byte sent
     * before it, so the bytes are read; the caller then closes the connection after its answer,
     * since the next request on it lost its beginning.
     */
    int drain(Object endPoint) {
        if (sslEndPoint.isInstance(endPoint)) {
            return drainTls(endPoint);
        }
        try {
            SocketChannel ch = (SocketChannel) socketChannel.invoke(endPoint);
            if (!ch.isOpen()) {
                return -1;
            }
            ByteBuffer buf = SCRATCH.get();
            int total = 0;
            while (total < DRAIN_LIMIT) {
                buf.clear();
                int n = ch.read(buf);
                if (n < 0) {
                    return -1;
                }
                if (n == 0) {
                    break;
                }
                total += n;
            }
            return total;
        } catch (IOException e) {
            return -1; // reset, shut down or closed
        } catch (ReflectiveOperationException | RuntimeException e) {
            return 0;
        }
    }

    /** {@link #drain} over TLS: fills from the decrypted end point (Jetty's buffer convention: flush mode). */
    private int drainTls(Object endPoint) {
        ByteBuffer buf = SCRATCH.get();
        int total = 0;
        try {
            while (total < DRAIN_LIMIT) {
                buf.clear().limit(0); // empty, all of it space to fill
                int n = (Integer) fill.invoke(endPoint, buf);
                if (n < 0) {
                    return -1;
                }
                if (n == 0) {
                    break;
                }
                total += n;
            }
            return total;
        } catch (java.lang.reflect.InvocationTargetException e) {
            return e.getCause() instanceof IOException ? -1 : 0; // reset, or a broken TLS stream
        } catch (ReflectiveOperationException | RuntimeException e) {
            return 0;
        }
    }

    /**
     * Runs {@code task} on the server's thread pool (the connection's server); false when there is
     * none, and the caller hands it over another way. Not {@code AsyncContext.start}: Jetty looks the
     * request up again when a pool thread picks a started task, and if the request completed in
     * between (a publish or the noop answered it while the departure was being handed over) the task
     * never runs and the pool logs "Job failed ... AsyncContext completed and/or Request lifecycle
     * recycled" with a stack trace. The server's pool has no such window.
     */
    boolean execute(Object endPoint, Runnable task) {
        try {
            Object c = connectionOf.invoke(endPoint);
            Object executor = http1Connection.isInstance(c) ? threadPoolOf.invoke(serverOf.invoke(c)) : null;
            if (executor instanceof java.util.concurrent.Executor e) {
                e.execute(task);
                return true;
            }
        } catch (ReflectiveOperationException | RuntimeException e) {
            // no executor, or the pool is stopping: the caller runs it another way
        }
        return false;
    }

    /** Closes the connection now, which frees its file descriptor. */
    void close(Object endPoint) {
        try {
            close.invoke(endPoint);
        } catch (ReflectiveOperationException | RuntimeException e) {
            // already closed
        }
    }

    /** What a watched subscriber hears. */
    interface Listener {
        void readable();

        void failed(Throwable cause);
    }
}
