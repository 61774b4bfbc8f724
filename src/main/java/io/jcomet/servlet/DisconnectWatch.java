package io.jcomet.servlet;

import jakarta.servlet.ServletRequest;
import jakarta.servlet.http.HttpServletRequest;
import java.io.IOException;
import java.lang.reflect.Constructor;
import java.lang.reflect.InvocationHandler;
import java.lang.reflect.Method;
import java.lang.reflect.Proxy;
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
 * connection. Readable with nothing to read ({@code FIONREAD} 0 via {@link java.io.InputStream#available})
 * means end of stream or reset: the client is gone, and the end point is closed, which frees the fd.
 * Readable with bytes means the client pipelined its next request: the bytes are left where they are
 * (nothing is read), and Jetty reads them after this response as usual. Before a watched response
 * completes, the interest is withdrawn ({@link #cancel}), so Jetty's own read interest for the next
 * request never meets ours.
 *
 * <p>Over TLS the watched end point is Jetty's decrypted view of the connection ({@code SslEndPoint}):
 * the same read interest, and when it fires, a fill with no room ({@link #clientClosed}) lets the TLS
 * layer decrypt what arrived without handing it over: a close_notify, end of stream or reset reads as
 * closed; the bytes of a pipelined request stay in Jetty's decrypted buffer for the next request.
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
    private final Class<?> sslEndPoint;        // io.ssl.SslConnection$SslEndPoint (TLS, decrypted view)
    private final Method fill;                 // EndPoint.fill(ByteBuffer)
    private final Method sslConnection;        // SslEndPoint.getSslConnection()
    /** SslConnection._decryptedInput (private): null when not reachable, then a TLS watch is not renewed. */
    private final java.lang.reflect.Field decryptedInput;
    private final Method hasRemaining;         // RetainableByteBuffer.hasRemaining()
    private final Method tryFillInterested;    // EndPoint.tryFillInterested(Callback)
    private final Method fillInterest;         // AbstractEndPoint.getFillInterest()
    private final Method failInterest;         // FillInterest.onFail(Throwable)
    private final Method close;                // EndPoint.close()
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
        sslEndPoint = Class.forName("org.eclipse.jetty.io.ssl.SslConnection$SslEndPoint", false, l);
        fill = ep.getMethod("fill", java.nio.ByteBuffer.class);
        sslConnection = sslEndPoint.getMethod("getSslConnection");
        hasRemaining = Class.forName("org.eclipse.jetty.io.RetainableByteBuffer", false, l).getMethod("hasRemaining");
        java.lang.reflect.Field f = null;
        try {
            f = sslConnection.getReturnType().getDeclaredField("_decryptedInput");
            f.setAccessible(true);
        } catch (ReflectiveOperationException | RuntimeException e) {
            f = null;
        }
        decryptedInput = f;
        Class<?> callback = Class.forName("org.eclipse.jetty.util.Callback", false, l);
        tryFillInterested = ep.getMethod("tryFillInterested", callback);
        fillInterest = Class.forName("org.eclipse.jetty.io.AbstractEndPoint", false, l).getMethod("getFillInterest");
        failInterest = fillInterest.getReturnType().getMethod("onFail", Throwable.class);
        close = ep.getMethod("close");
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

    /**
     * Called after the socket became readable: true when the client closed (end of stream or reset:
     * nothing to read), false when bytes of a next request wait (left unread for Jetty).
     */
    boolean clientClosed(Object endPoint) {
        if (sslEndPoint.isInstance(endPoint)) {
            try {
                // decrypts what arrived into Jetty's own buffer, hands nothing over: -1 = close_notify or end of stream
                return (Integer) fill.invoke(endPoint, java.nio.ByteBuffer.allocate(0)) < 0;
            } catch (java.lang.reflect.InvocationTargetException e) {
                return e.getCause() instanceof IOException; // reset, or a broken TLS stream
            } catch (ReflectiveOperationException | RuntimeException e) {
                return false;
            }
        }
        try {
            SocketChannel ch = (SocketChannel) socketChannel.invoke(endPoint);
            return !ch.isOpen() || ch.socket().getInputStream().available() == 0;
        } catch (IOException e) {
            return true; // reset, shut down or closed
        } catch (ReflectiveOperationException | RuntimeException e) {
            return false;
        }
    }

    /**
     * After {@link #clientClosed} said "not closed": true when the readable bytes were TLS records
     * only (an alert such as user_canceled before the close_notify, a key update), so the watch
     * must be renewed to see what follows; false for plain HTTP/1 and when application bytes (a
     * pipelined request) wait decrypted for Jetty, which renewing would report again at once.
     */
    boolean watchAgain(Object endPoint) {
        if (decryptedInput == null || !sslEndPoint.isInstance(endPoint)) {
            return false;
        }
        try {
            Object buffer = decryptedInput.get(sslConnection.invoke(endPoint));
            return buffer == null || !(Boolean) hasRemaining.invoke(buffer);
        } catch (ReflectiveOperationException | RuntimeException e) {
            return false;
        }
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
