package io.jcomet.engine.redis;

import io.jcomet.core.CometException;
import io.jcomet.core.Stats;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.logging.Logger;

/**
 * The cluster's channels, as one node's table counts them: a sorted set of channel names scored by
 * when each expires unless used again ({@link RedisKeys#channelsKey}), written when a script of any
 * node made a channel and checked every second (expired names dropped, live ones rescored). It is
 * what max_channels counts and what /broadcast reaches.
 *
 * <p>Threads: request threads check and write; the engine's housekeeping thread recounts (never
 * waiting for Redis: it also sends the heartbeat); {@link #count} is written by any thread.
 */
final class ClusterChannels {
    private static final Logger LOG = Logger.getLogger("io.jcomet.redis");

    /** How many expired entries one recount looks at (one node a second for the cluster, pipelined). */
    static final int RECOUNT_BATCH = 2000;

    private final RedisLink link;
    private final RedisCalls calls;
    private final RedisKeys keys;
    private final String nodeId;
    private final long defaultTtlMillis;
    /**
     * The cluster's channels as last counted (after this node made one, and every second):
     * what max_channels is checked against. Written by any thread, read by request threads.
     */
    private volatile long count;
    /** A recount is waiting for Redis (housekeeping starts no second one meanwhile). */
    private final AtomicBoolean recounting = new AtomicBoolean();

    ClusterChannels(RedisLink link, RedisCalls calls, RedisKeys keys, String nodeId, long defaultTtlMillis) {
        this.link = link;
        this.calls = calls;
        this.keys = keys;
        this.nodeId = nodeId;
        this.defaultTtlMillis = defaultTtlMillis;
    }

    /**
     * max_channels for the cluster, as one node counts its table: a publish or /sign that would make
     * a channel while the cluster holds max_channels is refused (429). The count is this node's
     * latest (it recounts after each channel it makes, and every second), so only a channel another
     * node made in the last second may be missing from it; the existence check costs a read only
     * while the cluster is full.
     */
    void refuseNewChannelWhenFull(String cname, long cap) {
        if (count >= cap) {
            calls.await(refuseNewChannelWhenFullAsync(cname, cap), "exists");
        }
    }

    /**
     * {@link #refuseNewChannelWhenFull} without a thread waiting: completes when the channel may
     * be made, or with the same refusal (429, or 503 when Redis does not answer). Done at once while
     * the cluster is not full.
     */
    CompletableFuture<Void> refuseNewChannelWhenFullAsync(String cname, long cap) {
        if (count < cap) {
            return ROOM;
        }
        return calls.answer(link.commands().exists(RedisKeys.base(keys.prefix, cname) + ":m").toCompletableFuture(), "exists")
                .thenApply(exists -> {
                    if (exists == null || exists == 0) {
                        Stats s = calls.stats;
                        if (s != null) {
                            s.addReject(Stats.Reject.TOO_MANY_CHANNELS);
                        }
                        throw new CometException(429, Stats.Reject.TOO_MANY_CHANNELS, "Too many channels");
                    }
                    return null;
                });
    }

    private static final CompletableFuture<Void> ROOM = CompletableFuture.completedFuture(null);

    /**
     * A script of this node made the channel in Redis: it is counted (kept in the channels set until
     * it expires) and, when a publish or /sign made it, announced on every node's /psub as one node
     * announces a channel it creates (a subscriber's channel is announced by presence instead).
     */
    void created(String cname, long ttlMillis, boolean announce) {
        created(cname, ttlMillis, announce, false);
    }

    /**
     * With {@code wait} (a request thread, after a publish or /sign) the count is read before the
     * answer, so this node's next publish sees the channel it just made; the message is published
     * either way, so a slow count is no failure.
     */
    void created(String cname, long ttlMillis, boolean announce, boolean wait) {
        CompletableFuture<Long> counted = count(cname, ttlMillis, announce);
        if (wait) {
            try {
                counted.get(calls.timeoutMillis, TimeUnit.MILLISECONDS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            } catch (ExecutionException | TimeoutException e) {
                LOG.fine("jcomet: counting the cluster's channels after " + cname + ": " + e);
            }
        }
    }

    /**
     * {@link #created} for a caller that must not block (a publish answered on Lettuce's thread):
     * completes, never exceptionally, once the count is read or failed (bounded by redis_timeout).
     */
    CompletableFuture<Void> createdAsync(String cname, long ttlMillis, boolean announce) {
        return count(cname, ttlMillis, announce).handle((n, e) -> {
            if (e != null) {
                LOG.fine("jcomet: counting the cluster's channels after " + cname + ": " + e);
            }
            return null;
        });
    }

    private CompletableFuture<Long> count(String cname, long ttlMillis, boolean announce) {
        if (announce) {
            link.publishAll(keys.presenceChannel, "1\n" + cname);
        }
        link.commands().zadd(keys.channelsKey, (double) (System.currentTimeMillis() + ttlMillis), cname);
        return link.commands().zcard(keys.channelsKey).toCompletableFuture().thenApply(n -> {
            if (n != null) {
                count = n;
            }
            return n;
        });
    }

    /** The channel is gone (closed, or went with its last subscriber): no longer counted. */
    void removed(String cname) {
        link.commands().zrem(keys.channelsKey, cname);
    }

    /** The cluster's channels now (one read); also refreshes the count publishes check. */
    long countNow() {
        Long n = calls.await(link.commands().zcard(keys.channelsKey).toCompletableFuture(), "count channels");
        long c = n == null ? 0 : n;
        count = c;
        return c;
    }

    /**
     * Housekeeping, every second: entries whose expiry passed are checked against Redis (a publish
     * extends a channel's life without touching the set): a channel still there is kept with its
     * remaining time, a gone one (expired, flushed) is dropped; then the count is read. One node a
     * second does the checks (whichever takes the recount key first); the others only read the count.
     */
    void recount() {
        if (!recounting.compareAndSet(false, true)) {
            return; // the last pass is still waiting for Redis
        }
        long now = System.currentTimeMillis();
        // asynchronous throughout: the housekeeping thread also sends the heartbeat, which must not wait
        link.commands().set(keys.recountKey, nodeId, io.lettuce.core.SetArgs.Builder.nx().px(900)).toCompletableFuture()
                .thenCompose(won -> "OK".equals(won)
                        ? link.commands().zrangebyscore(keys.channelsKey, io.lettuce.core.Range.create(Double.NEGATIVE_INFINITY, (double) now),
                                io.lettuce.core.Limit.create(0, RECOUNT_BATCH)).toCompletableFuture()
                        : CompletableFuture.completedFuture(List.<String>of()))
                .thenCompose(due -> {
                    List<CompletableFuture<Long>> ttls = new ArrayList<>(due.size());
                    for (String cname : due) {
                        ttls.add(link.commands().pttl(RedisKeys.base(keys.prefix, cname) + ":m").toCompletableFuture());
                    }
                    return CompletableFuture.allOf(ttls.toArray(new CompletableFuture<?>[0])).thenCompose(all -> {
                        for (int i = 0; i < due.size(); i++) {
                            Long ttl = ttls.get(i).join();
                            if (ttl != null && ttl > 0) {
                                link.commands().zadd(keys.channelsKey, (double) (now + ttl), due.get(i));
                            } else if (ttl != null && ttl == -1) {
                                link.commands().zadd(keys.channelsKey, (double) (now + defaultTtlMillis), due.get(i));
                            } else {
                                link.commands().zrem(keys.channelsKey, due.get(i));
                            }
                        }
                        return link.commands().zcard(keys.channelsKey).toCompletableFuture();
                    });
                }).orTimeout(3 * calls.timeoutMillis, TimeUnit.MILLISECONDS).whenComplete((n, e) -> {
                    if (n != null) {
                        count = n;
                    } else if (e != null) {
                        LOG.fine("jcomet: counting the cluster's channels: " + e); // Redis away: the last count stands
                    }
                    recounting.set(false);
                });
    }
}
