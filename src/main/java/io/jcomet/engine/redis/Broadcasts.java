package io.jcomet.engine.redis;

import io.jcomet.config.JcometConfig;
import io.lettuce.core.ScriptOutputType;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.function.Supplier;
import java.util.logging.Logger;

/**
 * /broadcast on several nodes: as one node buffers a broadcast in every channel it has, the
 * cluster buffers it in every channel it has, once each. The node that is asked publishes the
 * broadcast on the node-wide broadcast channel (every node then publishes it to the channels it
 * serves, {@link #onBroadcast}) and itself to every unexpired channel of the cluster's channels
 * set, served or not. A channel reached both ways gets it once: each publish carries the
 * broadcast's id, and the script keeps it per channel for {@link #DEDUP_MILLIS} and drops a second
 * publish of it.
 *
 * <p>Threads: {@link #broadcast} runs on a request thread and waits for Redis (each wait bounded
 * by redis_timeout); {@link #onBroadcast} runs on the Redis engine's first delivery thread and
 * never waits (its scripts are sent, their answers only logged when they fail). The served
 * channels are read from the engine's concurrent map.
 */
final class Broadcasts {
    private static final Logger LOG = Logger.getLogger("io.jcomet.redis");

    /** How long a channel remembers a broadcast id: far longer than nodes take to hear one broadcast. */
    static final long DEDUP_MILLIS = 60_000;
    /** Channels a broadcast reads from the channels set at once (one page of scripts in flight). */
    private static final int PAGE = 500;

    private final RedisLink link;
    private final RedisCalls calls;
    private final RedisKeys names;
    private final JcometConfig config;
    /** The channels this node serves now. */
    private final Supplier<Collection<String>> served;

    Broadcasts(RedisLink link, RedisCalls calls, RedisKeys names, JcometConfig config, Supplier<Collection<String>> served) {
        this.link = link;
        this.calls = calls;
        this.names = names;
        this.config = config;
        this.served = served;
    }

    /** Sends the broadcast to every node and every counted channel; returns the channels it reached from here. */
    int broadcast(String content) {
        String id = RedisEngine.epochCandidate();
        calls.await(link.publishAll(names.broadcastChannel, id + "\n" + content).toCompletableFuture(), "broadcast");
        return served.get().size() + toCounted(id, content);
    }

    /**
     * This node buffers the broadcast in every channel of the cluster's channels set that has not
     * expired, whether or not a node serves it. A channel that expired meanwhile is not made again.
     * Returns the channels it reached this way.
     */
    private int toCounted(String id, String content) {
        int reached = 0;
        long offset = 0;
        while (true) {
            List<String> page = calls.await(link.commands().zrangebyscore(names.channelsKey,
                    io.lettuce.core.Range.create((double) System.currentTimeMillis(), Double.POSITIVE_INFINITY),
                    io.lettuce.core.Limit.create(offset, PAGE)).toCompletableFuture(), "broadcast");
            List<CompletableFuture<List<Object>>> sent = new ArrayList<>(page.size());
            for (String cname : page) {
                sent.add(publish(Scripts.PUBLISH_IF_EXISTS, cname, id, content));
            }
            for (CompletableFuture<List<Object>> f : sent) {
                List<Object> r = calls.await(f, "broadcast");
                if (r != null && !r.isEmpty() && r.get(0) != null) {
                    reached++;
                }
            }
            if (page.size() < PAGE) {
                return reached;
            }
            offset += page.size();
        }
    }

    /** A broadcast heard on the node-wide channel: published to every channel this node serves. */
    void onBroadcast(String payload) {
        int nl = payload.indexOf('\n');
        if (nl < 0) {
            return;
        }
        String id = payload.substring(0, nl);
        String content = payload.substring(nl + 1);
        // one script per channel, sent without waiting: this thread also delivers channels' messages
        for (String cname : served.get()) {
            publish(Scripts.PUBLISH, cname, id, content).whenComplete((r, e) -> {
                if (e != null) {
                    LOG.warning("jcomet: broadcast to " + cname + " failed: " + e);
                }
            });
        }
    }

    /** One channel's publish of the broadcast, remembered under its id for {@link #DEDUP_MILLIS}. */
    private CompletableFuture<List<Object>> publish(Scripts.Script script, String cname, String id, String content) {
        String base = RedisKeys.base(names.prefix, cname);
        String[] keys = {base + ":m", base + ":b", base + ":i:b:" + id};
        return calls.evalAsync(script, ScriptOutputType.MULTI, keys, RedisEngine.epochCandidate(), "b", content,
                Integer.toString(config.channelBufferSize()), Long.toString(config.channelTimeoutSeconds() * 1000L), base,
                Long.toString(DEDUP_MILLIS));
    }
}
