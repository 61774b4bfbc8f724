package io.jcomet.engine.redis;

import io.jcomet.core.EngineEvents;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;

/**
 * The nodes of the cluster and the questions asked of all of them: each node's heartbeat keeps its
 * id in {@link RedisKeys#nodesKey} (a sorted set scored by time), and /info?cname= asks every node
 * alive for its count on {@link RedisKeys#askChannel}, gathering the answers on this node's reply
 * channel. Threads: housekeeping beats; request threads ask and wait at most redis_timeout; a
 * delivery thread answers others' questions ({@link #onAsk}); Lettuce's I/O thread counts answers.
 */
final class NodeDirectory {
    private final RedisLink link;
    private final RedisCalls calls;
    private final RedisKeys keys;
    private final String nodeId;
    private final ConcurrentHashMap<String, Gather> gathers = new ConcurrentHashMap<>();

    NodeDirectory(RedisLink link, RedisCalls calls, RedisKeys keys, String nodeId) {
        this.link = link;
        this.calls = calls;
        this.keys = keys;
        this.nodeId = nodeId;
    }

    /** Nodes alive in the last few seconds keep their id in a sorted set scored by time. */
    void heartbeat() {
        long now = System.currentTimeMillis();
        link.commands().zadd(keys.nodesKey, (double) now, nodeId);
        link.commands().zremrangebyscore(keys.nodesKey, io.lettuce.core.Range.create(0d, (double) (now - 10_000)));
        link.commands().pexpire(keys.nodesKey, 60_000);
    }

    /** Answers to one /info?cname= question asked of every node. */
    private static final class Gather {
        final int expected;
        final AtomicLong sum = new AtomicLong();
        final AtomicInteger answers = new AtomicInteger();
        final AtomicBoolean anyHas = new AtomicBoolean();
        final CompletableFuture<Void> done = new CompletableFuture<>();

        Gather(int expected) {
            this.expected = expected;
        }
    }

    /**
     * Asks every live node (the nodes set, heartbeat in the last 3 s) for its count and sums the
     * answers that arrive within redis_timeout; a node that died a moment ago simply does not count.
     * Completes without a thread waiting (on Lettuce's thread, or the timer's when a node is late);
     * each step is bounded by redis_timeout.
     */
    CompletableFuture<Integer> subscribers(String cname) {
        long now = System.currentTimeMillis();
        return calls.answer(link.commands().zrangebyscore(keys.nodesKey,
                io.lettuce.core.Range.create((double) (now - 3000), Double.POSITIVE_INFINITY)).toCompletableFuture(), "nodes")
                .thenCompose(live -> {
                    String id = RedisEngine.epochCandidate();
                    Gather g = new Gather(Math.max(1, live.size()));
                    gathers.put(id, g);
                    return calls.answer(link.publishAll(keys.askChannel, id + "\n" + nodeId + "\n" + cname).toCompletableFuture(), "ask")
                            .thenCompose(sent -> g.done.completeOnTimeout(null, calls.timeoutMillis, TimeUnit.MILLISECONDS)) // count what arrived
                            .whenComplete((done, e) -> gathers.remove(id))
                            .thenCompose(done -> g.anyHas.get()
                                    ? CompletableFuture.completedFuture((int) g.sum.get())
                                    // no node serves it now: it still exists (as on one node) while Redis keeps its data
                                    : calls.answer(link.commands().exists(RedisKeys.base(keys.prefix, cname) + ":m").toCompletableFuture(), "exists")
                                            .thenApply(exists -> exists != null && exists > 0 ? 0 : -1));
                });
    }

    /** A delivery thread: another node asks for this node's count. */
    void onAsk(String payload, EngineEvents broker) {
        String[] p = payload.split("\n", 3);
        if (p.length < 3) {
            return;
        }
        int n = broker.localSubscribers(p[2]);
        link.publishAll(keys.replyChannel(p[1]), p[0] + "\n" + n);
    }

    /** Lettuce's I/O thread: one node's answer. */
    void onReply(String payload) {
        int nl = payload.indexOf('\n');
        Gather g = nl < 0 ? null : gathers.get(payload.substring(0, nl));
        if (g == null) {
            return;
        }
        int n = Integer.parseInt(payload.substring(nl + 1));
        if (n >= 0) {
            g.anyHas.set(true);
            g.sum.addAndGet(n);
        }
        if (g.answers.incrementAndGet() >= g.expected) {
            g.done.complete(null);
        }
    }
}
