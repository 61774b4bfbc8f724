package io.jcomet.jetty;

import java.util.Set;
import java.util.concurrent.Executor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.LongAdder;
import org.eclipse.jetty.http.HttpException;
import org.eclipse.jetty.http.HttpHeader;
import org.eclipse.jetty.http.HttpParser;
import org.eclipse.jetty.http.HttpStatus;
import org.eclipse.jetty.http.MetaData;
import org.eclipse.jetty.io.Connection;
import org.eclipse.jetty.io.EndPoint;
import org.eclipse.jetty.server.Connector;
import org.eclipse.jetty.server.HttpChannel;
import org.eclipse.jetty.server.HttpConfiguration;
import org.eclipse.jetty.server.HttpConnectionFactory;
import org.eclipse.jetty.server.Server;
import org.eclipse.jetty.server.internal.HttpChannelState;
import org.eclipse.jetty.server.internal.HttpConnection;
import org.eclipse.jetty.util.Callback;

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
 * keeps one small {@link HeadDeadline} object.
 *
 * <p><b>Inline handling</b> (the admin connector, {@code admin_inline}, on by default): a
 * connection whose bytes arrive is read, parsed and, for the admin API's short requests without a
 * body ({@link FrontDoor} chooses the paths), handled on the connector's selector thread itself,
 * as icomet's one event loop does, instead of being handed to a pool thread that then hands the
 * connection back to the selector for its next request: no thread wake-up per request. Other
 * requests are handed to the pool as before: a body is read with blocking reads, which on the
 * selector thread would wait for the selector itself. What runs inline must not block: the memory
 * engine's operations do not (their writes to subscribers are non-blocking); on the Redis engine
 * they are answered asynchronously when Redis answers, no thread waiting; and the answer is
 * buffered and sent without blocking as the request completes, so a back end that stops reading
 * its answers holds up only its own connection. While
 * one request runs, the other connections of its selector wait (as in icomet): each inline
 * request is short.
 *
 * <p>An inline connection whose answer completes on another thread (the Redis engine's I/O thread
 * answering a /push when Redis answers, or a pool thread that ran a request handed to it) goes
 * back to its selector's watch from that thread, instead of through a pool thread
 * ({@link HeadDeadlineConnection#getExecutor}).
 *
 * <p>Threads: a connection arms and disarms its deadline on the thread that parses it (the selector
 * or the thread that handles it, one at a time); the expiry runs on the connector's scheduler
 * thread and closes the end point. A head that completes as its deadline fires is either handled
 * or refused, never handled on a connection the deadline closed ({@link HeadDeadline}).
 * {@code onSelector} is written and read by the thread that runs the connection's read callback,
 * one at a time. The completing
 * thread only reads whether the request buffer is empty, after Jetty's hand-over of the
 * connection (its {@code _handling} flag), and asks for fill interest.
 */
public final class HeadDeadlineConnectionFactory extends HttpConnectionFactory {
    private final long timeoutMillis;
    private final LongAdder timedOut;
    /** The paths handled on the selector thread when they come without a body; empty: none. */
    private final Set<String> inlinePaths;

    /** {@code like}'s configuration and buffer choices, plus the deadline; timeouts are added to {@code timedOut}. */
    public HeadDeadlineConnectionFactory(HttpConnectionFactory like, long timeoutMillis, LongAdder timedOut) {
        this(like, timeoutMillis, timedOut, Set.of());
    }

    /**
     * The same, and requests without a body to one of {@code inlinePaths} are handled on the
     * selector thread (see the class comment); {@code timeoutMillis} 0 sets no deadline.
     */
    public HeadDeadlineConnectionFactory(HttpConnectionFactory like, long timeoutMillis, LongAdder timedOut,
            Set<String> inlinePaths) {
        super(like.getHttpConfiguration());
        setUseInputDirectByteBuffers(like.isUseInputDirectByteBuffers());
        setUseOutputDirectByteBuffers(like.isUseOutputDirectByteBuffers());
        this.timeoutMillis = timeoutMillis;
        this.timedOut = timedOut;
        this.inlinePaths = Set.copyOf(inlinePaths);
    }

    /** Whether this factory's connections handle requests without a body on the selector thread. */
    public boolean isInline() {
        return !inlinePaths.isEmpty();
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
        /** The head deadline, or null when the factory sets none. */
        private final HeadDeadline headDeadline;
        /** The read callback, declared non-blocking when inline: the selector then runs it itself. */
        private final Callback fillable;
        /** Inline only: where Jetty hands this connection to read on after an answer completed elsewhere. */
        private final Executor resume;
        /** True while the selector thread runs this connection (inline only). */
        private boolean onSelector;

        HeadDeadlineConnection(HttpConfiguration config, Connector connector, EndPoint endPoint,
                HeadDeadlineConnectionFactory factory) {
            super(config, connector, endPoint);
            this.factory = factory;
            this.headDeadline = factory.timeoutMillis > 0
                    ? new HeadDeadline((task, millis) -> connector.getScheduler().schedule(task, millis, TimeUnit.MILLISECONDS),
                            this::expired)
                    : null;
            this.fillable = factory.isInline() ? new InlineFillable() : null;
            this.resume = factory.isInline() ? this::resumeHere : null;
        }

        /**
         * Inline only: the pool for every task but one. When an answer completes on a thread other
         * than the one reading the connection (the Redis engine's I/O thread answering a /push, or a
         * pool thread that ran a request handed to it), Jetty hands the connection itself to this
         * executor to read on; a pool thread woken for that would mostly find nothing to read yet
         * and ask the selector to watch the socket. With nothing buffered, the selector is asked
         * to watch it at once, from the completing thread: no thread woken, no read that finds
         * nothing; the next request is then read on the selector as any other. Bytes already
         * buffered (a pipelined request) go to the pool as before. Measured on the Redis engine's
         * /push: the hand-off cost about a third of the node's CPU per push (docs/BENCHMARKS.md).
         * Front connections keep Jetty's hand-off: there one push completes thousands of held
         * requests, and asking their selectors one by one from the pushing thread measured dearer
         * per delivery than the pool threads (same page).
         */
        @Override
        protected Executor getExecutor() {
            return resume != null ? resume : super.getExecutor();
        }

        private void resumeHere(Runnable task) {
            if (task == this && isRequestBufferEmpty()) {
                fillInterested();
            } else {
                super.getExecutor().execute(task);
            }
        }

        @Override
        protected HttpChannel newHttpChannel(Server server, HttpConfiguration configuration) {
            // called by HttpConnection's constructor, before this class's fields are set; onSelector
            // is only ever true on an inline connection
            return new HttpChannelState(this) {
                @Override
                public Runnable onRequest(MetaData.Request request) {
                    Runnable handle = super.onRequest(request);
                    if (handle == null || !onSelector || runsInline(request, factory.inlinePaths)) {
                        return handle;
                    }
                    // a body read with blocking reads, a long answer or a long job: not on the selector thread
                    return () -> HeadDeadlineConnection.super.getExecutor().execute(handle);
                }
            };
        }

        /**
         * Whether an inline connection handles this request on the selector thread: a request
         * without a body, to one of the paths {@link FrontDoor} chose (those whose handler does
         * bounded work without waiting and answers with one small buffered write). Everything else
         * goes to the pool: a body is read with blocking reads, which on the selector thread
         * would wait for the selector itself.
         */
        static boolean runsInline(MetaData.Request request, Set<String> inlinePaths) {
            String path = request.getHttpURI().getPath();
            return path != null && !hasBody(request) && inlinePaths.contains(path); // Set.copyOf refuses null
        }

        /** Whether the request's head announces a body. */
        static boolean hasBody(MetaData.Request request) {
            return request.getContentLength() > 0 || request.getHttpFields().contains(HttpHeader.TRANSFER_ENCODING);
        }

        @Override
        public void onOpen() {
            // before super.onOpen(): once it has asked for bytes, the head may be parsed on another thread
            if (headDeadline != null) {
                headDeadline.arm(factory.timeoutMillis);
            }
            super.onOpen();
        }

        @Override
        public void fillInterested(Callback callback) {
            // HttpConnection asks for bytes through this method, with its own read callback
            if (headDeadline != null) {
                armIfHeadBegun();
            }
            super.fillInterested(fillable != null ? fillable : callback);
        }

        private void armIfHeadBegun() {
            // about to wait for more bytes: if a head has begun and is not whole, it gets a deadline
            if (!headDeadline.isSet()) {
                HttpParser p = getParser();
                if (!p.isStart() && p.inHeaderState()) {
                    long elapsed = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - p.getBeginNanoTime());
                    headDeadline.arm(Math.max(1, factory.timeoutMillis - elapsed));
                }
            }
        }

        /** AbstractConnection's read callback, but non-blocking: the selector runs it on its own thread. */
        private final class InlineFillable implements Callback {
            @Override
            public void succeeded() {
                onSelector = true;
                try {
                    onFillable();
                } finally {
                    onSelector = false;
                }
            }

            @Override
            public void failed(Throwable x) {
                onFillInterestedFailed(x);
            }

            @Override
            public InvocationType getInvocationType() {
                return InvocationType.NON_BLOCKING;
            }
        }

        @Override
        protected RequestHandler newRequestHandler() {
            return new RequestHandler() {
                @Override
                public boolean headerComplete() {
                    if (headDeadline != null && !headDeadline.disarm()) {
                        // the deadline fired as this head completed and is closing the connection:
                        // the client may already have seen the close, so the request must not run
                        throw new HttpException.RuntimeException(HttpStatus.REQUEST_TIMEOUT_408, "request head deadline passed");
                    }
                    return super.headerComplete();
                }
            };
        }

        @Override
        public void onClose(Throwable cause) {
            if (headDeadline != null) {
                headDeadline.disarm();
            }
            super.onClose(cause);
        }

        /** The head deadline fired (on the scheduler thread): close the connection and count it. */
        private void expired() {
            if (getEndPoint().isOpen()) {
                factory.timedOut.increment();
                getEndPoint().close();
            }
        }
    }
}
