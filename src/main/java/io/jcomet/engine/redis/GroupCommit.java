package io.jcomet.engine.redis;

import io.jcomet.config.JcometConfig;
import io.jcomet.core.Engine.Publish;
import io.jcomet.core.Message;
import io.lettuce.core.ScriptOutputType;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;

/**
 * The Redis engine's group commit: while a script call is on its way to Redis, the publishes that
 * arrive for the same Redis (on a Cluster, the same hash slot: a script's keys must share one) wait
 * in that group's {@link Outbox} and go together in the next call ({@link Scripts#PUBLISH_MANY}:
 * each message as if published alone, with its own seq, buffer entry, SPUBLISH and idempotency
 * key; one incarnation check per call). A lone publish goes at once; under load the node pays one
 * round trip per call instead of per message. One call in flight per group keeps each channel's
 * messages in the order they were queued.
 *
 * <p>Threads: {@link #enqueue} runs on publishing threads (request threads, the admin selector);
 * the next call is sent from the thread that queued into an idle group, then from Lettuce's I/O
 * thread when the call before it answers, which only sends and never waits. An outbox's queue and
 * flag are guarded by the outbox's monitor, held only to move publishes in or out.
 */
final class GroupCommit {
    private final RedisCalls calls;
    private final JcometConfig config;
    private final String prefix;
    private final boolean cluster;

    GroupCommit(RedisCalls calls, JcometConfig config, String prefix) {
        this.calls = calls;
        this.config = config;
        this.prefix = prefix;
        this.cluster = config.redisCluster();
    }

    /** At most this many messages go in one script call (a call blocks its shard while it runs). */
    static final int PUBLISH_MANY_LINES = 64;

    /** Publishes waiting for the call in flight on their outbox to answer. */
    private static final class Outbox {
        final ArrayDeque<Pending> waiting = new ArrayDeque<>(); // guarded by this
        boolean sending;                                        // guarded by this
    }

    /** One queued publish: {@code done} completes with its {seq, epoch, retry flag} from the call's answer. */
    static final class Pending {
        final Publish publish;
        final String base;
        final CompletableFuture<List<Object>> done = new CompletableFuture<>();
        /** The call that carried it made the channel, and this is the call's first message to it. */
        volatile boolean made;

        Pending(Publish publish, String base) {
            this.publish = publish;
            this.base = base;
        }
    }

    /**
     * One outbox for a Redis server, one per hash slot used on a Cluster (a script's keys must share
     * a slot). Never removed (at most 16,384): one outbox per group keeps one call in flight for it,
     * so the messages of a channel reach Redis in the order they were queued.
     */
    private final ConcurrentHashMap<Integer, Outbox> outboxes = new ConcurrentHashMap<>();

    /**
     * Queues a publish; it goes in the call now if none is in flight for its group, else in the
     * next. Its {@link Pending#done} completes when that call answers.
     */
    Pending enqueue(Publish publish) {
        String base = RedisKeys.base(prefix, publish.cname());
        Pending p = new Pending(publish, base);
        int group = cluster ? io.lettuce.core.cluster.SlotHash.getSlot(base) : 0;
        Outbox box = outboxes.computeIfAbsent(group, k -> new Outbox());
        boolean send;
        synchronized (box) {
            box.waiting.add(p);
            send = !box.sending;
            box.sending |= send;
        }
        if (send) {
            sendNext(group, box);
        }
        return p;
    }

    /**
     * Sends what waits in the outbox as one call, and again when it answers, until the outbox is
     * empty. Runs on a publishing request thread first, then on Lettuce's I/O thread, which only
     * sends and never waits.
     */
    private void sendNext(int group, Outbox box) {
        List<Pending> batch;
        synchronized (box) {
            if (box.waiting.isEmpty()) {
                box.sending = false; // the next publish sends itself
                return;
            }
            batch = new ArrayList<>(Math.min(box.waiting.size(), PUBLISH_MANY_LINES));
            while (!box.waiting.isEmpty() && batch.size() < PUBLISH_MANY_LINES) {
                batch.add(box.waiting.poll());
            }
        }
        // the call's messages by channel, each channel's in the order they came
        Map<String, List<Integer>> byChannel = new LinkedHashMap<>();
        for (int i = 0; i < batch.size(); i++) {
            byChannel.computeIfAbsent(batch.get(i).publish.cname(), k -> new ArrayList<>()).add(i);
        }
        List<String> keys = new ArrayList<>(3 * batch.size());
        List<String> args = new ArrayList<>(4 + 3 * byChannel.size() + 3 * batch.size());
        args.add(Integer.toString(config.channelBufferSize()));
        args.add(Long.toString(config.channelTimeoutSeconds() * 1000L));
        args.add(Long.toString(config.idempotencyWindowSeconds() * 1000L));
        args.add(Integer.toString(byChannel.size()));
        int[] order = new int[batch.size()]; // position in the answer -> position in batch
        String[] candidates = new String[batch.size()];
        int at = 0;
        for (List<Integer> these : byChannel.values()) {
            String base = batch.get(these.get(0)).base;
            String candidate = RedisEngine.epochCandidate();
            keys.add(base + ":m");
            keys.add(base + ":b");
            args.add(candidate);
            args.add(base);
            args.add(Integer.toString(these.size()));
            for (int i : these) {
                Publish pub = batch.get(i).publish;
                boolean keyed = pub.idempotencyKey() != null && !pub.idempotencyKey().isEmpty();
                keys.add(keyed ? RedisKeys.idempotencyKey(base, pub.idempotencyKey()) : base + ":i");
                args.add(pub.kind() == Message.Kind.BROADCAST ? "b" : "d");
                args.add(pub.content());
                args.add(keyed ? "1" : "0");
                order[at] = i;
                candidates[at++] = candidate;
            }
        }
        CompletableFuture<List<Object>> f;
        try {
            f = calls.evalAsync(Scripts.PUBLISH_MANY, ScriptOutputType.MULTI, keys.toArray(new String[0]), args.toArray(new String[0]));
        } catch (RuntimeException e) {
            // never sent: awaitPublish answers "not published"
            f = CompletableFuture.failedFuture(new IllegalStateException("not connected: " + e.getMessage()));
        }
        f.whenComplete((r, e) -> {
            // the next call first: Redis works on it while this one's publishers are answered
            // (an asynchronous /push writes its answer on this thread)
            sendNext(group, box);
            String madeBy = null;
            for (int j = 0; j < batch.size(); j++) {
                Pending p = batch.get(order[j]);
                if (e != null) {
                    p.done.completeExceptionally(e);
                    continue;
                }
                if (candidates[j].equals(r.get(3 * j + 1)) && !candidates[j].equals(madeBy)) {
                    p.made = true; // before done completes: its request thread reads it after
                    madeBy = candidates[j];
                }
                p.done.complete(r.subList(3 * j, 3 * j + 3));
            }
        });
    }
}
