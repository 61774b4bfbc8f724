package io.jcomet.jetty;

import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.LongAdder;
import org.eclipse.jetty.http.HttpParser;
import org.eclipse.jetty.io.Connection;
import org.eclipse.jetty.io.EndPoint;
import org.eclipse.jetty.server.Connector;
import org.eclipse.jetty.server.HttpConfiguration;
import org.eclipse.jetty.server.HttpConnectionFactory;
import org.eclipse.jetty.server.internal.HttpConnection;
import org.eclipse.jetty.util.thread.Scheduler;

/**
 * HTTP/1.1 with a deadline for request heads (the slowloris defence Jetty does not have): a
 * connection's first request head must arrive whole within {@code timeoutMillis} of the connection
 * opening, and every later head within {@code timeoutMillis} of its first byte, however slowly
 * the bytes trickle (each byte resets the idle timeout, never this deadline). A connection that
 * misses it is closed and counted. Between requests a kept-alive connection is bounded by the
 * connector's idle timeout as before.
 *
 * <p>Cost: one scheduled task per connection from its opening to its first request's head (a
 * schedule and a cancel), and one per LATER head only when that head does not arrive in one read.
 * Nothing is scheduled while a request is held (a long-poll after its head), and the connection
 * keeps one reference field.
 *
 * <p>Threads: a connection arms and disarms its task on the thread that parses it (the selector or
 * the thread that handles it, one at a time); the task runs on the connector's scheduler thread
 * and only reads the volatile field and closes the end point.
 */
public final class HeadDeadlineConnectionFactory extends HttpConnectionFactory {
    private final long timeoutMillis;
    private final LongAdder timedOut;

    /** {@code like}'s configuration and buffer choices, plus the deadline; timeouts are added to {@code timedOut}. */
    public HeadDeadlineConnectionFactory(HttpConnectionFactory like, long timeoutMillis, LongAdder timedOut) {
        super(like.getHttpConfiguration());
        setUseInputDirectByteBuffers(like.isUseInputDirectByteBuffers());
        setUseOutputDirectByteBuffers(like.isUseOutputDirectByteBuffers());
        this.timeoutMillis = timeoutMillis;
        this.timedOut = timedOut;
    }

    @Override
    public Connection newConnection(Connector connector, EndPoint endPoint) {
        HeadDeadlineConnection c = new HeadDeadlineConnection(getHttpConfiguration(), connector, endPoint, this);
        c.setUseInputDirectByteBuffers(isUseInputDirectByteBuffers());
        c.setUseOutputDirectByteBuffers(isUseOutputDirectByteBuffers());
        return configure(c, connector, endPoint);
    }

    /** An HTTP/1.1 connection whose request heads have a deadline. */
    static final class HeadDeadlineConnection extends HttpConnection {
        private final HeadDeadlineConnectionFactory factory;
        /** The armed deadline, or null while no head is awaited past its first read. */
        private volatile Scheduler.Task headTask;

        HeadDeadlineConnection(HttpConfiguration config, Connector connector, EndPoint endPoint,
                HeadDeadlineConnectionFactory factory) {
            super(config, connector, endPoint);
            this.factory = factory;
        }

        @Override
        public void onOpen() {
            // before super.onOpen(): once it has asked for bytes, the head may be parsed on another thread
            arm(factory.timeoutMillis);
            super.onOpen();
        }

        @Override
        public void fillInterested() {
            // about to wait for more bytes: if a head has begun and is not whole, it gets a deadline
            if (headTask == null) {
                HttpParser p = getParser();
                if (!p.isStart() && p.inHeaderState()) {
                    long elapsed = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - p.getBeginNanoTime());
                    arm(Math.max(1, factory.timeoutMillis - elapsed));
                }
            }
            super.fillInterested();
        }

        @Override
        protected RequestHandler newRequestHandler() {
            return new RequestHandler() {
                @Override
                public boolean headerComplete() {
                    disarm();
                    return super.headerComplete();
                }
            };
        }

        @Override
        public void onClose(Throwable cause) {
            disarm();
            super.onClose(cause);
        }

        private void arm(long millis) {
            headTask = getConnector().getScheduler().schedule(this::expired, millis, TimeUnit.MILLISECONDS);
        }

        private void disarm() {
            Scheduler.Task t = headTask;
            if (t != null) {
                headTask = null;
                t.cancel();
            }
        }

        private void expired() {
            if (headTask != null && getEndPoint().isOpen()) {
                headTask = null;
                factory.timedOut.increment();
                getEndPoint().close();
            }
        }
    }
}
