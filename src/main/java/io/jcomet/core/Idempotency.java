package io.jcomet.core;

import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.function.IntSupplier;
import java.util.function.LongSupplier;

/**
 * {@code engine=memory}: publishes with an idempotency key. The first publish with a key on a
 * channel runs; another with the same key on the same channel within {@code idempotency_window}
 * answers the first one's seq and publishes nothing (a publisher's retry after a lost answer).
 * At most {@code max_idempotency_keys} keys are remembered; past it a keyed publish is refused
 * (429, counted) rather than one being forgotten early, which would let a retry publish twice.
 * (The Redis engine keeps the keys in Redis, inside its publish script.)
 *
 * <p>Threads: any request thread. A key's first publish runs on its caller's thread, outside any
 * lock of this class; a concurrent retry waits for it (at most {@link #WAIT_MILLIS}).
 */
final class Idempotency {
    static final long WAIT_MILLIS = 5_000;

    private record Entry(String id, long expiresNanos, CompletableFuture<Integer> seq) {}

    private final ConcurrentHashMap<String, Entry> keys = new ConcurrentHashMap<>();
    /** Entries in the order they expire (one window for all). */
    private final ConcurrentLinkedQueue<Entry> order = new ConcurrentLinkedQueue<>();
    private final long windowNanos;
    private final int max;
    private final LongSupplier nanoClock;
    private final Stats stats;

    Idempotency(int windowSeconds, int max, LongSupplier nanoClock, Stats stats) {
        this.windowNanos = TimeUnit.SECONDS.toNanos(windowSeconds);
        this.max = max;
        this.nanoClock = nanoClock;
        this.stats = stats;
    }

    /** Runs {@code publish} unless {@code key} was used on {@code cname} within the window; answers the seq. */
    int publish(String cname, String key, IntSupplier publish) {
        long now = nanoClock.getAsLong();
        expire(now);
        String id = cname + '\n' + key;
        Entry mine = new Entry(id, now + windowNanos, new CompletableFuture<>());
        while (true) {
            Entry had = keys.get(id);
            if (had != null && had.expiresNanos - now > 0) {
                return first(had);
            }
            if (had == null) {
                if (keys.size() >= max) {
                    stats.addReject(Stats.Reject.TOO_MANY_IDEMPOTENCY_KEYS);
                    throw new CometException(429, Stats.Reject.TOO_MANY_IDEMPOTENCY_KEYS,
                            "Too many idempotency keys (max_idempotency_keys)");
                }
                if (keys.putIfAbsent(id, mine) == null) {
                    break;
                }
            } else if (keys.replace(id, had, mine)) {
                break; // the old one expired
            }
            // lost a race: look again
        }
        order.add(mine);
        try {
            int seq = publish.getAsInt();
            mine.seq.complete(seq);
            return seq;
        } catch (RuntimeException | Error e) {
            keys.remove(id, mine); // not published: a retry may publish
            mine.seq.completeExceptionally(e);
            throw e;
        }
    }

    private static int first(Entry had) {
        try {
            return had.seq.get(WAIT_MILLIS, TimeUnit.MILLISECONDS);
        } catch (ExecutionException e) {
            if (e.getCause() instanceof CometException ce) {
                throw ce;
            }
            throw new CometException(503, Stats.Reject.ENGINE_UNAVAILABLE, "the first publish with this idempotency_key failed");
        } catch (TimeoutException e) {
            throw new CometException(503, Stats.Reject.ENGINE_UNAVAILABLE,
                    "the first publish with this idempotency_key is still running; the outcome is unknown");
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new CometException(503, Stats.Reject.ENGINE_UNAVAILABLE, "interrupted");
        }
    }

    private void expire(long now) {
        for (Entry e = order.peek(); e != null && e.expiresNanos - now <= 0; e = order.peek()) {
            if (order.remove(e)) {
                keys.remove(e.id, e);
            }
        }
    }

    /** Keys remembered now (tests, diagnostics). */
    int size() {
        return keys.size();
    }
}
