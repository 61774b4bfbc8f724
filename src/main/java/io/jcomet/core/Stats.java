package io.jcomet.core;

import io.jcomet.protocol.Transport;
import java.util.concurrent.atomic.LongAdder;

/**
 * Counters for /info and /stats. Written from request, I/O and sweeper threads with
 * {@link LongAdder}s (no contention on the hot path); read by whoever asks, as a snapshot that is
 * consistent per counter, not across counters.
 *
 * <p>Every counter has one writer method named {@code addX} and one reader named {@code x}. Held
 * subscribers of the front transports are added and removed by {@link Channel} only, as it links
 * and unlinks them (admin /psub watchers, which no channel holds, by their hub).
 */
public final class Stats {
    /** Why a request or subscriber was refused or dropped; every limit has its counter. */
    public enum Reject {
        BAD_REQUEST, METHOD_NOT_ALLOWED, TOO_LARGE, TOO_MANY_CHANNELS, TOO_MANY_SUBSCRIBERS,
        TOKEN, NOT_FOUND, FORBIDDEN, WRONG_PORT, CLIENT_HELD_LIMIT, CLIENT_CHANNEL_RATE,
        /** A WebSocket past ws_max_sockets_per_client: closed 1008. */
        CLIENT_SOCKET_LIMIT,
        /** Heap in use above memory_budget_percent: 503 + Retry-After, WebSocket 1013 or an error frame. */
        MEMORY_BUDGET,
        /** engine=redis: Redis did not answer within redis_timeout (503). */
        ENGINE_UNAVAILABLE,
        /** engine=redis: a live message dropped because redis_delivery_queue was full (its channel is re-read from Redis). */
        REDIS_DELIVERY_OVERFLOW,
        /** A connection closed because its request head did not arrive whole within request_head_timeout_ms. */
        HEAD_TIMEOUT,
        /** A connection closed at once because its address had max_connections_per_client open. */
        CONNECTIONS_PER_CLIENT,
        /** Front connections closed at accept to keep admin_fd_reserve open files free. */
        FRONT_FD_LIMIT,
        /** engine=memory: a keyed publish refused because max_idempotency_keys keys are remembered (429). */
        TOO_MANY_IDEMPOTENCY_KEYS;

        public String key() {
            return name().toLowerCase(java.util.Locale.ROOT);
        }
    }

    private final LongAdder[] held = adders(Transport.values().length);
    private final LongAdder[] rejects = adders(Reject.values().length);
    /** Counts kept below the web app (by the Jetty connectors), read through {@link #addExternal}; null when none. */
    private final java.util.function.LongSupplier[] external = new java.util.function.LongSupplier[Reject.values().length];
    private final LongAdder published = new LongAdder();
    private final LongAdder delivered = new LongAdder();
    private final LongAdder droppedSlow = new LongAdder();
    private final LongAdder disconnected = new LongAdder();
    private final LongAdder noops = new LongAdder();
    private final LongAdder evictedGhosts = new LongAdder();

    /**
     * Upper bounds (microseconds) of the publish-to-delivery buckets: the time from a publish
     * entering the broker until its message was handed to the last subscriber's socket. One sample
     * per published message (and per channel of a broadcast); the last bucket is +Inf.
     */
    private static final long[] FANOUT_BOUNDS_MICROS = {
        10, 25, 50, 100, 250, 500, 1_000, 2_500, 5_000, 10_000, 25_000, 50_000, 100_000, 250_000, 1_000_000};
    private final LongAdder[] fanout = adders(FANOUT_BOUNDS_MICROS.length + 1);
    private final LongAdder fanoutNanos = new LongAdder();

    private static LongAdder[] adders(int n) {
        LongAdder[] a = new LongAdder[n];
        for (int i = 0; i < n; i++) {
            a[i] = new LongAdder();
        }
        return a;
    }

    public void addHeld(Transport t, int delta) {
        held[t.ordinal()].add(delta);
    }

    /**
     * Adds a count that is kept outside the web app (the connection-level limits, counted by the
     * server's connectors) to {@link #rejected}; set once at start, before any reader.
     */
    public void addExternal(Reject r, java.util.function.LongSupplier count) {
        external[r.ordinal()] = count;
    }

    public void addReject(Reject r) {
        rejects[r.ordinal()].increment();
    }

    public void addPublished() {
        published.increment();
    }

    /** Published messages handed to subscribers (control messages are not counted). */
    public void addDelivered(int n) {
        delivered.add(n);
    }

    public void addDroppedSlow() {
        droppedSlow.increment();
    }

    public void addDisconnected() {
        disconnected.increment();
    }

    /** A holder found gone when a channel was full, freed before a newcomer was refused. */
    public void addEvictedGhost() {
        evictedGhosts.increment();
    }

    public void addNoop() {
        noops.increment();
    }

    /** Records one publish's fan-out time. */
    public void addFanout(long nanos) {
        long micros = nanos / 1000;
        int i = 0;
        while (i < FANOUT_BOUNDS_MICROS.length && micros > FANOUT_BOUNDS_MICROS[i]) {
            i++;
        }
        fanout[i].increment();
        fanoutNanos.add(nanos);
    }

    /** Bucket upper bounds in microseconds (the +Inf bucket is implied). */
    public static long[] fanoutBoundsMicros() { return FANOUT_BOUNDS_MICROS.clone(); }
    /** Non-cumulative sample counts per bucket; the last is above the largest bound. */
    public long[] fanoutCounts() {
        long[] c = new long[fanout.length];
        for (int i = 0; i < c.length; i++) {
            c[i] = fanout[i].sum();
        }
        return c;
    }
    public long fanoutNanosSum() { return fanoutNanos.sum(); }

    public long held(Transport t) { return held[t.ordinal()].sum(); }
    public long rejected(Reject r) {
        java.util.function.LongSupplier e = external[r.ordinal()];
        return rejects[r.ordinal()].sum() + (e == null ? 0 : e.getAsLong());
    }
    public long published() { return published.sum(); }
    public long delivered() { return delivered.sum(); }
    public long droppedSlow() { return droppedSlow.sum(); }
    public long disconnected() { return disconnected.sum(); }
    public long noops() { return noops.sum(); }
    public long evictedGhosts() { return evictedGhosts.sum(); }
}
