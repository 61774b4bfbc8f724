package io.jcomet.engine.redis;

import io.lettuce.core.RedisClient;
import io.lettuce.core.RedisURI;
import io.lettuce.core.api.StatefulRedisConnection;
import io.lettuce.core.cluster.api.async.RedisClusterAsyncCommands;
import io.lettuce.core.codec.StringCodec;
import io.lettuce.core.pubsub.RedisPubSubAdapter;
import io.lettuce.core.pubsub.StatefulRedisPubSubConnection;
import io.lettuce.core.resource.ClientResources;
import java.util.concurrent.CompletionStage;

/** One Redis, or a Sentinel-managed master ({@code redis-sentinel://} URI): two connections. */
final class StandaloneLink implements RedisLink {
    private final RedisClient client;
    private final StatefulRedisConnection<String, String> commands;
    private final StatefulRedisPubSubConnection<String, String> pubsub;

    StandaloneLink(ClientResources resources, String uri, io.lettuce.core.ClientOptions options, Sink sink) {
        client = RedisClient.create(resources, RedisURI.create(uri));
        client.setOptions(options);
        try {
            commands = client.connect(StringCodec.UTF8);
            pubsub = client.connectPubSub(StringCodec.UTF8);
        } catch (RuntimeException e) {
            client.shutdown();
            throw e;
        }
        pubsub.addListener(new RedisPubSubAdapter<>() {
            @Override
            public void smessage(String channel, String message) {
                sink.message(channel, message);
            }

            @Override
            public void message(String channel, String message) {
                sink.message(channel, message);
            }

            @Override
            public void ssubscribed(String channel, long count) {
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
        return pubsub.async().subscribe(channel);
    }

    @Override
    public CompletionStage<Long> publishAll(String channel, String payload) {
        return commands.async().publish(channel, payload);
    }

    @Override
    public void close() {
        pubsub.close();
        commands.close();
        client.shutdown();
    }
}
