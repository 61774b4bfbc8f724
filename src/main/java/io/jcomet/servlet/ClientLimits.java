package io.jcomet.servlet;

import io.jcomet.config.JcometConfig;
import jakarta.servlet.http.HttpServletRequest;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicIntegerArray;
import java.util.concurrent.atomic.AtomicLongArray;

/**
 * Per-client-address limits on the front: held subscribers at once ({@code max_held_per_client})
 * and channels created by subscribing per second ({@code max_new_channels_per_client}).
 *
 * <p>Memory is fixed whatever the number of clients: counters live in preallocated arrays indexed by
 * a hash of the address (2^20 buckets, 4 MB for held counts, 0.5 MB for the creation rate), with no
 * map entry per client, so a million addresses cost nothing extra. Two addresses may share a
 * bucket and then share its allowance; with a million buckets and limits in the hundreds that
 * refuses no real client.
 *
 * <p>The client address is the TCP peer, or the last address of {@code X-Forwarded-For} when the
 * peer is one of {@code trusted_proxies} (the header is ignored from anyone else, so a client
 * cannot pick its own bucket). Addresses in {@code client_limits_exempt} are not limited.
 *
 * <p>Threads: any request thread; every counter is updated with atomic array operations.
 */
final class ClientLimits {
    static final int NOT_LIMITED = -1;
    private static final int HELD_BUCKETS = 1 << 20;
    private static final int RATE_BUCKETS = 1 << 16;

    private final int maxHeld;
    private final int maxNewPerSecond;
    private final List<String> exempt;
    private final List<String> trustedProxies;
    private final AtomicIntegerArray held;
    private final AtomicLongArray created; // (second << 32) | count, per bucket
    private final long startNanos = System.nanoTime();

    ClientLimits(JcometConfig c) {
        maxHeld = c.maxHeldPerClient();
        maxNewPerSecond = c.maxNewChannelsPerClient();
        exempt = c.clientLimitsExempt();
        trustedProxies = c.trustedProxies();
        held = new AtomicIntegerArray(maxHeld > 0 ? HELD_BUCKETS : 1);
        created = new AtomicLongArray(maxNewPerSecond > 0 ? RATE_BUCKETS : 1);
    }

    /** The client's address as the limits see it. */
    String client(HttpServletRequest req) {
        String peer = AdminGuard.normalize(req.getRemoteAddr());
        if (!trustedProxies.isEmpty() && matches(trustedProxies, peer)) {
            String xff = req.getHeader("X-Forwarded-For");
            if (xff != null) {
                int comma = xff.lastIndexOf(',');
                String last = AdminGuard.normalize(xff.substring(comma + 1).trim());
                if (!last.isEmpty() && last.length() <= 45 && last.chars().allMatch(ch -> ch == '.' || ch == ':' || Character.digit(ch, 16) >= 0)) {
                    return last;
                }
            }
        }
        return peer;
    }

    /** The counter bucket of a client, or {@link #NOT_LIMITED}. */
    int bucket(String client) {
        if ((maxHeld <= 0 && maxNewPerSecond <= 0) || matches(exempt, client)) {
            return NOT_LIMITED;
        }
        int h = client.hashCode() * 0x9E3779B9;
        return (h ^ (h >>> 15)) & (HELD_BUCKETS - 1);
    }

    /** Counts one more held subscriber for the bucket; false (nothing counted) when at the limit. */
    boolean acquireHeld(int bucket) {
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

    void releaseHeld(int bucket) {
        if (bucket != NOT_LIMITED && maxHeld > 0) {
            held.decrementAndGet(bucket);
        }
    }

    int held(int bucket) {
        return bucket == NOT_LIMITED || maxHeld <= 0 ? 0 : held.get(bucket);
    }

    /** Counts one channel creation for the bucket in this second; false when over the rate. */
    boolean allowNewChannel(int bucket) {
        if (bucket == NOT_LIMITED || maxNewPerSecond <= 0) {
            return true;
        }
        int i = bucket & (RATE_BUCKETS - 1);
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

    private static boolean matches(List<String> prefixes, String ip) {
        for (String p : prefixes) {
            if (p.equals("all") || ip.startsWith(p)) {
                return true;
            }
        }
        return false;
    }
}
