package io.jcomet.support;

import io.jcomet.redis.RedisProcess;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * The deployment a protocol test runs against, written once for both engines: {@code memory} is one
 * node; {@code redis} is two nodes on one real redis-server. Tests send admin requests (publish,
 * sign, close, ...) to {@link #pub} and front requests (subscribe) to {@link #sub}: one node for the
 * memory engine, two different nodes on Redis, so every answer that must hold for the cluster is
 * checked across nodes. A test class starts one deployment per engine and shares it between its
 * tests (channel names differ per test); {@link #with} adds nodes with other settings on the same
 * Redis under their own key prefix, so they share nothing with the class's pair.
 */
public final class Engines implements AutoCloseable {
    /** The engines a protocol test runs on, as {@code @ValueSource(strings = ...)} takes them. */
    public static final String MEMORY = "memory";
    public static final String REDIS = "redis";
    private static final AtomicInteger PREFIXES = new AtomicInteger();

    public final String engine;
    /** Where admin requests go. */
    public final TestServer pub;
    /** Where front requests go: another node than {@link #pub} on Redis. */
    public final TestServer sub;
    private final RedisProcess redis;
    private final boolean ownsRedis;

    private Engines(String engine, TestServer pub, TestServer sub, RedisProcess redis, boolean ownsRedis) {
        this.engine = engine;
        this.pub = pub;
        this.sub = sub;
        this.redis = redis;
        this.ownsRedis = ownsRedis;
    }

    /** One memory node, or a new redis-server and two nodes on it, each with these settings. */
    public static Engines start(String engine, String... keyValues) throws Exception {
        if (MEMORY.equals(engine)) {
            TestServer one = TestServer.start(2, keyValues);
            return new Engines(engine, one, one, null, false);
        }
        if (!REDIS.equals(engine)) {
            throw new IllegalArgumentException("engine " + engine);
        }
        RedisProcess.assumeAvailable();
        RedisProcess redis = RedisProcess.launch();
        try {
            return pair(redis, true, keyValues);
        } catch (Exception | Error e) {
            redis.close();
            throw e;
        }
    }

    /** Another deployment on the same engine (and the same redis-server) with other settings; close it. */
    public Engines with(String... keyValues) throws Exception {
        if (redis == null) {
            return start(engine, keyValues);
        }
        List<String> kv = new ArrayList<>(List.of(keyValues));
        kv.addAll(List.of("redis_key_prefix", "jcomet" + PREFIXES.incrementAndGet() + ":"));
        return pair(redis, false, kv.toArray(new String[0]));
    }

    private static Engines pair(RedisProcess redis, boolean ownsRedis, String... keyValues) throws Exception {
        List<String> kv = new ArrayList<>(List.of(keyValues));
        kv.addAll(List.of("engine", REDIS, "redis_uri", redis.uri()));
        String[] settings = kv.toArray(new String[0]);
        TestServer a = TestServer.start(2, settings);
        try {
            return new Engines(REDIS, a, TestServer.start(2, settings), redis, ownsRedis);
        } catch (Exception | Error e) {
            a.close();
            throw e;
        }
    }

    public boolean shared() {
        return redis != null;
    }

    /** The redis-server (engine redis only). */
    public RedisProcess redis() {
        if (redis == null) {
            throw new IllegalStateException("the memory engine has no Redis");
        }
        return redis;
    }

    @Override
    public void close() throws Exception {
        pub.close();
        if (sub != pub) {
            sub.close();
        }
        if (ownsRedis) {
            redis.close();
        }
    }
}
