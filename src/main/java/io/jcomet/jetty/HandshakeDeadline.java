package io.jcomet.jetty;

import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.LongAdder;
import javax.net.ssl.SSLEngine;
import org.eclipse.jetty.io.Connection;
import org.eclipse.jetty.io.ssl.SslConnection;
import org.eclipse.jetty.io.ssl.SslHandshakeListener;
import org.eclipse.jetty.util.thread.Scheduler;

/**
 * A deadline for TLS handshakes, the part of a connection's opening that
 * {@link HeadDeadlineConnectionFactory} cannot see: with ALPN (every https connector jcomet makes)
 * the HTTP connection, and so its head deadline, exists only once the handshake is over, and a
 * handshake that trickles in one byte at a time resets the idle timeout as a trickled head does. A
 * TLS connection whose handshake has not succeeded within {@code timeoutMillis} of its opening is
 * closed and counted with the head timeouts (the same setting, {@code request_head_timeout_ms}: from
 * the connection's opening to its first request, the handshake and then the head each get it).
 *
 * <p>A bean of each TLS connector: Jetty hands it every connection the connector opens; it arms a
 * task for an {@link SslConnection} only. Cost: one small object and one scheduled task per
 * connection, from its opening to its handshake's end.
 *
 * <p>Threads: {@link #onOpened} runs on the thread that opens the connection; the handshake
 * listener on the thread that completes the handshake; the expiry on the connector's scheduler
 * thread. A connection's deadline is one volatile field, cleared by whichever comes first.
 */
final class HandshakeDeadline implements Connection.Listener {
    private final Scheduler scheduler;
    private final long timeoutMillis;
    private final LongAdder timedOut;

    HandshakeDeadline(Scheduler scheduler, long timeoutMillis, LongAdder timedOut) {
        this.scheduler = scheduler;
        this.timeoutMillis = timeoutMillis;
        this.timedOut = timedOut;
    }

    @Override
    public void onOpened(Connection connection) {
        if (connection instanceof SslConnection ssl) {
            Armed armed = new Armed(ssl);
            ssl.addHandshakeListener(armed);
            ssl.addEventListener(armed);
            armed.task = scheduler.schedule(armed, timeoutMillis, TimeUnit.MILLISECONDS);
            if (armed.done) {
                armed.end(); // ended before the task was stored
            }
        }
    }

    /** One connection's deadline: cancelled when its handshake ends or it closes, else it closes it. */
    private final class Armed implements Runnable, SslHandshakeListener, Connection.Listener {
        private final SslConnection connection;
        private volatile Scheduler.Task task;
        private volatile boolean done;

        Armed(SslConnection connection) {
            this.connection = connection;
        }

        @Override
        public void run() {
            if (!done && connection.getEndPoint().isOpen() && !handshakeOver(connection.getSSLEngine())) {
                done = true;
                timedOut.increment();
                connection.getEndPoint().close();
            }
        }

        @Override
        public void handshakeSucceeded(Event event) {
            end();
        }

        @Override
        public void handshakeFailed(Event event, Throwable failure) {
            end();
        }

        @Override
        public void onClosed(Connection c) {
            end();
        }

        private void end() {
            done = true;
            Scheduler.Task t = task;
            if (t != null) {
                t.cancel();
            }
        }
    }

    /**
     * Whether the engine's first handshake is over: until then its session reports the cipher suite
     * SSL_NULL_WITH_NULL_NULL (SSLEngine.getSession's contract); the check covers a handshake that
     * ended between the task firing and reading the flag.
     */
    private static boolean handshakeOver(SSLEngine engine) {
        return !"SSL_NULL_WITH_NULL_NULL".equals(engine.getSession().getCipherSuite());
    }
}
