package io.jcomet.engine.redis;

import io.lettuce.core.cluster.api.async.RedisClusterAsyncCommands;
import java.util.concurrent.CompletionStage;

/**
 * The two Redis connections a node needs, over one Redis (or Sentinel) or a Redis Cluster: one for
 * commands (scripts, reads), one for sharded PUB/SUB. Lettuce reconnects both by itself and
 * re-subscribes the shard channels it had; {@link Sink#subscribed} then tells the engine to resync.
 * Thread-safe (Lettuce connections are).
 */
interface RedisLink extends AutoCloseable {

    /** What the PUB/SUB connection reports; called on Lettuce's I/O threads: must not block. */
    interface Sink {
        void message(String shardChannel, String payload);

        /** A shard channel is (again) subscribed: after a reconnect messages may have been missed. */
        void subscribed(String shardChannel);

        /**
         * Redis Cluster: the slot map changed (failover, resharding, a node added). Shard
         * subscriptions are not moved by Lettuce: the engine subscribes again the channels for
         * which {@code moved} is true (their slot changed hands, see {@link SlotOwners}), routed by
         * the new map.
         */
        default void topologyChanged(java.util.function.Predicate<String> moved) {}
    }

    /** Commands: routed by key slot on a cluster. */
    RedisClusterAsyncCommands<String, String> commands();

    CompletionStage<Void> ssubscribe(String shardChannel);

    void sunsubscribe(String shardChannel);

    /**
     * A channel every node listens to (broadcast, presence, counts). One Redis: plain PUB/SUB. Redis
     * Cluster: a shard channel, so it moves with its slot on failover like a channel's own.
     */
    CompletionStage<Void> subscribeAll(String channel);

    CompletionStage<Long> publishAll(String channel, String payload);

    @Override
    void close();
}
