package io.jcomet.engine.redis;

import io.lettuce.core.ClientOptions;
import io.lettuce.core.RedisURI;
import io.lettuce.core.cluster.ClusterClientOptions;
import io.lettuce.core.cluster.RedisClusterClient;
import io.lettuce.core.cluster.api.StatefulRedisClusterConnection;
import io.lettuce.core.cluster.api.async.RedisClusterAsyncCommands;
import io.lettuce.core.cluster.event.ClusterTopologyChangedEvent;
import io.lettuce.core.cluster.models.partitions.RedisClusterNode;
import io.lettuce.core.cluster.pubsub.RedisClusterPubSubAdapter;
import io.lettuce.core.cluster.pubsub.StatefulRedisClusterPubSubConnection;
import io.lettuce.core.codec.StringCodec;
import io.lettuce.core.resource.ClientResources;
import java.util.BitSet;
import java.util.List;
import java.util.concurrent.CompletionStage;

/**
 * Redis Cluster ({@code redis_cluster=true}): commands are routed by the key's slot, so a channel's
 * script runs on the master owning its hash tag; SSUBSCRIBE is routed the same way, and the master's
 * SPUBLISH reaches only the nodes subscribed on that shard. The cluster PUB/SUB connection propagates
 * what its per-node connections receive to our listener. The channels every node hears (broadcast,
 * presence, counts) are shard channels too: plain PUB/SUB would hang on the one node the PUB/SUB
 * connection happens to use, and go deaf when that node dies.
 *
 * <p>Lettuce does not move a shard subscription when its slot's master fails over: the per-node
 * connection keeps trying the dead node. So every topology change Lettuce detects (adaptive and
 * periodic refresh, see {@link RedisEngine#options}) is compared with the one before ({@link
 * SlotOwners}), the slots that changed hands are passed to {@link Sink#topologyChanged}, and the
 * engine subscribes their channels again (Lettuce routes the new SSUBSCRIBE by the refreshed slot
 * map). A change that moves no slot (a replica joining, a node's flags) re-subscribes nothing.
 */
final class ClusterLink implements RedisLink {
    private final RedisClusterClient client;
    private final StatefulRedisClusterConnection<String, String> commands;
    private final StatefulRedisClusterPubSubConnection<String, String> pubsub;
    private final reactor.core.Disposable topology;

    ClusterLink(ClientResources resources, List<String> uris, ClientOptions options, Sink sink) {
        client = RedisClusterClient.create(resources, uris.stream().map(RedisURI::create).toList());
        client.setOptions((ClusterClientOptions) options);
        try {
            commands = client.connect(StringCodec.UTF8);
            pubsub = client.connectPubSub(StringCodec.UTF8);
        } catch (RuntimeException e) {
            client.shutdown();
            throw e;
        }
        pubsub.setNodeMessagePropagation(true);
        topology = resources.eventBus().get()
                .filter(e -> e instanceof ClusterTopologyChangedEvent)
                .subscribe(e -> {
                    ClusterTopologyChangedEvent change = (ClusterTopologyChangedEvent) e;
                    BitSet moved = SlotOwners.of(change.before()).movedIn(SlotOwners.of(change.after()));
                    if (!moved.isEmpty()) {
                        sink.topologyChanged(channel -> moved.get(SlotOwners.slotOf(channel)));
                    }
                });
        pubsub.addListener(new RedisClusterPubSubAdapter<>() {
            @Override
            public void smessage(RedisClusterNode node, String channel, String message) {
                sink.message(channel, message);
            }

            @Override
            public void message(RedisClusterNode node, String channel, String message) {
                sink.message(channel, message);
            }

            @Override
            public void ssubscribed(RedisClusterNode node, String channel, long count) {
                sink.subscribed(channel);
            }
        });
    }

    @Override
    public RedisClusterAsyncCommands<String, String> commands() {
        return commands.async();
    }

    @Override
    public CompletionStage<Void> ssubscribe(String shardChannel) {
        return pubsub.async().ssubscribe(shardChannel);
    }

    @Override
    public void sunsubscribe(String shardChannel) {
        pubsub.async().sunsubscribe(shardChannel);
    }

    @Override
    public CompletionStage<Void> subscribeAll(String channel) {
        return pubsub.async().ssubscribe(channel);
    }

    @Override
    public CompletionStage<Long> publishAll(String channel, String payload) {
        return commands.async().spublish(channel, payload);
    }

    @Override
    public void close() {
        topology.dispose();
        pubsub.close();
        commands.close();
        client.shutdown();
    }
}
