package io.jcomet.core;

import io.jcomet.config.AddressMatcher;
import io.jcomet.config.JcometConfig;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicIntegerArray;
import java.util.concurrent.atomic.AtomicLongArray;
import java.util.function.Predicate;

/**
 * The one admission decision of the front door, for every transport (long-poll, stream, SSE,
 * iframe, JSONP, WebSocket, admin /psub): may this client address hold one more subscription,
 * create this channel now, open one more WebSocket, within the memory budget? (CometD's
 * {@code SecurityPolicy} is the model: transports ask, the core decides.) Each refusal is counted
 * here, once, in {@link Stats}; the transport only frames it (HTTP 429/503 + Retry-After,
 * a WebSocket error frame or close code). The per-channel cap ({@code max_subscribers_per_channel})
 * and the channel table's cap are decided by the {@link Broker} under the channel's lock, the same
 * for every transport.
 *
 * <ul>
 * <li>{@code max_held_per_client}: subscriptions one address holds at once, whatever the transport
 * (a WebSocket {@code sub} counts as one, until its {@code unsub} or the socket's close);</li>
 * <li>{@code max_new_channels_per_client}: channels one address causes to be created per second by
 * subscribing (so sub/unsub churn on fresh names is capped too);</li>
 * <li>{@code ws_max_sockets_per_client}: WebSockets one address has open at once;</li>
 * <li>{@code memory_budget_percent}: above it (heap in use after the last collection) new
 * subscriptions and sockets are refused ({@link MemoryBudget}).</li>
 * </ul>
 *
 * <p>Memory is fixed whatever the number of clients: counters live in preallocated arrays indexed by
 * a hash of the address (2^20 buckets, 4 MB, for held counts; 2^16 for the creation rate and the
 * socket counts), with no map entry per client, so a million addresses cost nothing extra. Two
 * addresses may share a bucket and then share its allowance; with a million buckets and limits in
 * the hundreds that refuses no real client.
 *
 * <p>The client address is the TCP peer, or the last address of {@code X-Forwarded-For} when the
 * peer is one of {@code trusted_proxies} (the header is ignored from anyone else, so a client cannot
 * pick its own bucket); HTTP requests and WebSocket upgrades alike. Addresses in
 * {@code client_limits_exempt} are not limited per address (the memory budget still applies).
 *
 * <p>Threads: any thread; every counter is updated with atomic array operations; the memory flag is
 * a volatile read.
 */
public final class Admission {
    /** The bucket of a client the per-address limits do not apply to. */
    public static final int NOT_LIMITED = -1;
    private static final int HELD_BUCKETS = 1 << 20;
    private static final int SMALL_BUCKETS = 1 << 16;

    /** Why a client was turned away, framed by its transport: HTTP status, Retry-After, counter, reason. */
    public record Refusal(int httpStatus, int retryAfterSeconds, Stats.Reject reject, String reason) {
        /** True for the memory budget (503, WebSocket 1013), false for a per-client cap (429, 1008). */
        public boolean overloaded() {
            return httpStatus == 503;
        }
    }

    private final JcometConfig config;
    private final Stats stats;
    private final Predicate<String> channelExists;
    private final MemoryBudget memory;
    private final int maxHeld;
    private final int maxNewPerSecond;
    private final int maxSockets;
    private final AddressMatcher exempt;
    private final AddressMatcher trustedProxies;
    private final AtomicIntegerArray held;
    private final AtomicLongArray created; // (second << 32) | count, per bucket
    private final AtomicIntegerArray sockets;
    private final long startNanos = System.nanoTime();

    Admission(JcometConfig c, Stats stats, Predicate<String> channelExists, MemoryBudget memory) {
        this.config = c;
        this.stats = stats;
        this.channelExists = channelExists;
        this.memory = memory;
        maxHeld = c.maxHeldPerClient();
        maxNewPerSecond = c.maxNewChannelsPerClient();
        maxSockets = c.wsMaxSocketsPerClient();
        exempt = c.clientLimitsExempt();
        trustedProxies = c.trustedProxies();
        held = new AtomicIntegerArray(maxHeld > 0 ? HELD_BUCKETS : 1);
        created = new AtomicLongArray(maxNewPerSecond > 0 ? SMALL_BUCKETS : 1);
        sockets = new AtomicIntegerArray(maxSockets > 0 ? SMALL_BUCKETS : 1);
    }

    /**
     * The client's address as the limits see it: {@code peer}, or the last address of
     * {@code forwardedFor} (an X-Forwarded-For header, may be null) when the peer is a trusted proxy.
     */
    public String client(String peer, String forwardedFor) {
        String p = normalize(peer);
        if (forwardedFor != null && !trustedProxies.isEmpty() && trustedProxies.matches(p)) {
            int comma = forwardedFor.lastIndexOf(',');
            String last = normalize(forwardedFor.substring(comma + 1).trim());
            if (!last.isEmpty() && last.length() <= 45 && last.chars().allMatch(ch -> ch == '.' || ch == ':' || Character.digit(ch, 16) >= 0)) {
                return last;
            }
        }
        return p;
    }

    /** The counter bucket of a client address, or {@link #NOT_LIMITED}. */
    public int bucket(String client) {
        if ((maxHeld <= 0 && maxNewPerSecond <= 0 && maxSockets <= 0) || exempt.matches(client)) {
            return NOT_LIMITED;
        }
        int h = client.hashCode() * 0x9E3779B9;
        return (h ^ (h >>> 15)) & (HELD_BUCKETS - 1);
    }

    /**
     * May the client of {@code bucket} hold one more subscription to {@code cname}? {@code mayCreate}:
     * the request would create the channel if it did not exist. Null when admitted: the caller then
     * holds one count of the bucket and gives it back with {@link #releaseHeld} exactly once when
     * the subscription ends. Otherwise the refusal, already counted.
     */
    public Refusal admitSubscription(int bucket, String cname, boolean mayCreate) {
        Refusal r = memoryRefusal();
        if (r != null) {
            return r;
        }
        if (!acquireHeld(bucket)) {
            stats.addReject(Stats.Reject.CLIENT_HELD_LIMIT);
            return new Refusal(429, 5, Stats.Reject.CLIENT_HELD_LIMIT,
                    "this client address holds max_held_per_client (" + maxHeld + ") subscribers already");
        }
        if (mayCreate && config.auth() == JcometConfig.Auth.NONE && !channelExists.test(cname) && !allowNewChannel(bucket)) {
            releaseHeld(bucket);
            stats.addReject(Stats.Reject.CLIENT_CHANNEL_RATE);
            return new Refusal(429, 1, Stats.Reject.CLIENT_CHANNEL_RATE,
                    "this client address created max_new_channels_per_client (" + maxNewPerSecond + ") channels this second");
        }
        return null;
    }

    /** Gives back one count taken by an admitted {@link #admitSubscription}. */
    public void releaseHeld(int bucket) {
        if (bucket != NOT_LIMITED && maxHeld > 0) {
            held.decrementAndGet(bucket);
        }
    }

    /**
     * May the client of {@code bucket} open one more WebSocket? Null when admitted (give it back with
     * {@link #releaseSocket} once, when the socket closes); otherwise the refusal, already counted.
     */
    public Refusal admitSocket(int bucket) {
        Refusal r = memoryRefusal();
        if (r != null) {
            return r;
        }
        if (bucket != NOT_LIMITED && maxSockets > 0) {
            int i = bucket & (SMALL_BUCKETS - 1);
            while (true) {
                int n = sockets.get(i);
                if (n >= maxSockets) {
                    stats.addReject(Stats.Reject.CLIENT_SOCKET_LIMIT);
                    return new Refusal(429, 5, Stats.Reject.CLIENT_SOCKET_LIMIT,
                            "this client address has ws_max_sockets_per_client (" + maxSockets + ") WebSockets open already");
                }
                if (sockets.compareAndSet(i, n, n + 1)) {
                    break;
                }
            }
        }
        return null;
    }

    public void releaseSocket(int bucket) {
        if (bucket != NOT_LIMITED && maxSockets > 0) {
            sockets.decrementAndGet(bucket & (SMALL_BUCKETS - 1));
        }
    }

    /**
     * The memory budget alone (for connections that hold no subscription, e.g. admin /psub): null
     * when within it, else the refusal, counted.
     */
    public Refusal memoryRefusal() {
        if (!memory.exhausted()) {
            return null;
        }
        stats.addReject(Stats.Reject.MEMORY_BUDGET);
        return new Refusal(503, 5, Stats.Reject.MEMORY_BUDGET,
                "server memory is short (memory_budget_percent): try again later");
    }

    /** Held subscriptions counted for a bucket (tests, diagnostics). */
    public int held(int bucket) {
        return bucket == NOT_LIMITED || maxHeld <= 0 ? 0 : held.get(bucket);
    }

    /** At least half of {@code max_held_per_client} in use: worth watching each new holder for leaving at once. */
    public boolean nearHeldLimit(int bucket) {
        return bucket != NOT_LIMITED && maxHeld > 0 && held.get(bucket) * 2 >= maxHeld;
    }

    public MemoryBudget memory() {
        return memory;
    }

    private boolean acquireHeld(int bucket) {
        if (bucket == NOT_LIMITED || maxHeld <= 0) {
            return true;
        }
        while (true) {
            int n = held.get(bucket);
            if (n >= maxHeld) {
                return false;
            }
            if (held.compareAndSet(bucket, n, n + 1)) {
                return true;
            }
        }
    }

    /** Counts one channel creation for the bucket in this second; false when over the rate. */
    private boolean allowNewChannel(int bucket) {
        if (bucket == NOT_LIMITED || maxNewPerSecond <= 0) {
            return true;
        }
        int i = bucket & (SMALL_BUCKETS - 1);
        long second = TimeUnit.NANOSECONDS.toSeconds(System.nanoTime() - startNanos);
        while (true) {
            long v = created.get(i);
            long next = (v >>> 32) == second ? v + 1 : (second << 32) | 1;
            if ((next & 0xffffffffL) > maxNewPerSecond) {
                return false;
            }
            if (created.compareAndSet(i, v, next)) {
                return true;
            }
        }
    }

    /** IPv6 loopback and IPv4-mapped addresses in their IPv4 form; brackets dropped. */
    public static String normalize(String addr) {
        if (addr == null) {
            return "";
        }
        String a = addr;
        if (a.startsWith("[") && a.endsWith("]")) {
            a = a.substring(1, a.length() - 1);
        }
        if (a.equals("::1") || a.equals("0:0:0:0:0:0:0:1")) {
            return "127.0.0.1";
        }
        String lower = a.toLowerCase(java.util.Locale.ROOT);
        if (lower.startsWith("::ffff:")) {
            return a.substring(7);
        }
        if (lower.startsWith("0:0:0:0:0:ffff:")) {
            return a.substring(15);
        }
        return a;
    }
}
