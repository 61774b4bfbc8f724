package io.jcomet.ws;

import io.jcomet.core.Broker;
import java.util.Locale;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.LongAdder;
import java.util.logging.Logger;

/**
 * What every WebSocket of one web app shares: the broker, the open sockets (for pings), the
 * WebSocket counters, and one small thread ({@code jcomet-ws}) that sends pings and closes sockets
 * the broker dropped (a close may block on some containers, so publishers never do it).
 * Published as the context attribute {@code io.jcomet.ws.WsHub} so that {@code /metrics} reads it.
 *
 * <p>Threads: counters are {@link LongAdder}s written from any thread; the socket set is
 * concurrent; the ping pass runs on {@code jcomet-ws} only.
 */
public final class WsHub implements AutoCloseable {
    public static final String ATTRIBUTE = WsHub.class.getName();
    /** Where the WebSocket endpoint is deployed (the servlet's route table names the same path). */
    public static final String PATH = "/ws";
    private static final Logger LOG = Logger.getLogger("io.jcomet");

    /** Why a WebSocket, or one of its frames, was refused. Each has a counter (metrics, /metrics). */
    public enum Reject {
        /** Origin header not in ws_allowed_origins: handshake answered 403. */
        ORIGIN,
        /** /ws on the admin port (where the container says which port it is). */
        WRONG_PORT,
        /** A client frame larger than ws_max_frame_bytes: socket closed 1009. */
        FRAME_TOO_LARGE,
        /** More frames than ws_max_frames_per_second: error frame, frame ignored. */
        RATE,
        /** A sub past ws_max_channels: error frame. */
        TOO_MANY_CHANNELS,
        /** A frame that is not a valid op (bad JSON, unknown op, bad cname or seq): error frame. */
        BAD_FRAME,
        /** A binary frame: socket closed 1003. */
        BINARY;

        public String key() {
            return "ws_" + name().toLowerCase(Locale.ROOT);
        }
    }

    final Broker broker;
    private final Set<WsConnection> open = ConcurrentHashMap.newKeySet();
    private final LongAdder[] rejects = new LongAdder[Reject.values().length];
    private final LongAdder opened = new LongAdder();
    private final LongAdder framesIn = new LongAdder();
    private final LongAdder pingTimeouts = new LongAdder();
    private final ScheduledExecutorService worker;

    WsHub(Broker broker) {
        this.broker = broker;
        for (int i = 0; i < rejects.length; i++) {
            rejects[i] = new LongAdder();
        }
        worker = Executors.newSingleThreadScheduledExecutor(r -> {
            Thread t = new Thread(r, "jcomet-ws");
            t.setDaemon(true);
            return t;
        });
        int ping = broker.config().wsPingIntervalSeconds();
        if (ping > 0) {
            worker.scheduleWithFixedDelay(this::pingAll, ping, ping, TimeUnit.SECONDS);
        }
    }

    public void reject(Reject r) {
        rejects[r.ordinal()].increment();
    }

    public long rejected(Reject r) {
        return rejects[r.ordinal()].sum();
    }

    /** WebSockets open now. */
    public long openSockets() {
        return open.size();
    }

    public long openedTotal() {
        return opened.sum();
    }

    public long framesIn() {
        return framesIn.sum();
    }

    public long pingTimeouts() {
        return pingTimeouts.sum();
    }

    void opened(WsConnection c) {
        opened.increment();
        open.add(c);
    }

    void closed(WsConnection c) {
        open.remove(c);
    }

    void frameIn() {
        framesIn.increment();
    }

    /** Runs {@code r} on the hub's thread (closing a socket must not block a publisher). */
    void later(Runnable r) {
        try {
            worker.execute(r);
        } catch (java.util.concurrent.RejectedExecutionException stopping) {
            r.run();
        }
    }

    /** One ping pass: a socket that did not answer the previous ping is closed, the others pinged. */
    private void pingAll() {
        try {
            for (WsConnection c : open) {
                if (!c.ping()) {
                    pingTimeouts.increment();
                }
            }
        } catch (RuntimeException e) {
            LOG.warning("jcomet: WebSocket ping pass failed: " + e);
        }
    }

    @Override
    public void close() {
        worker.shutdownNow();
    }
}
