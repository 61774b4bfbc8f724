package io.jcomet.engine.redis;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;

import io.jcomet.config.ConfigException;
import io.jcomet.config.JcometConfig;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** Key naming (one hash tag per channel, whatever its name) and the engine settings. */
class RedisKeysTest {

    /** The hash tag Redis Cluster hashes: the text between the first '{' and the next '}'. */
    private static String hashTag(String key) {
        int open = key.indexOf('{');
        int close = key.indexOf('}', open + 1);
        return key.substring(open + 1, close);
    }

    @Test
    void aChannelsKeysAndShardChannelShareOneHashTagEvenWithBracesInTheName() {
        for (String cname : List.of("room1", "a}b", "}x", "{y}", "100%", "x{}")) {
            String base = RedisKeys.base("jcomet:", cname);
            String[] keys = RedisKeys.keys(base);
            assertEquals(hashTag(base), hashTag(keys[0]), cname);
            assertEquals(hashTag(base), hashTag(keys[1]), cname);
            org.junit.jupiter.api.Assertions.assertFalse(hashTag(base).isEmpty(), "an empty tag would hash the whole key: " + cname);
            assertEquals(cname, RedisKeys.cnameOf("jcomet:", base), "round trip of " + cname);
        }
        assertArrayEquals(new String[] {"p:{c}:m", "p:{c}:b"}, RedisKeys.keys(RedisKeys.base("p:", "c")));
        assertNull(RedisKeys.cnameOf("jcomet:", "other:{c}"));
    }

    @Test
    void bufferEntriesCarryTheirSeqKindAndContentVerbatim() {
        assertEquals(new io.jcomet.core.Engine.Stored(12, io.jcomet.core.Message.Kind.DATA, "hello world\n 7 b"),
                RedisKeys.entry("12 dhello world\n 7 b"));
        assertEquals(new io.jcomet.core.Engine.Stored(3, io.jcomet.core.Message.Kind.BROADCAST, ""), RedisKeys.entry("3 b"));
        assertEquals(List.of(1, 2), RedisKeys.entries(List.of("1 da", "2 d")).stream().map(io.jcomet.core.Engine.Stored::seq).toList());
    }

    @Test
    void engineSettingsAreValidatedAndMemoryIsTheDefault() {
        JcometConfig d = JcometConfig.defaults();
        assertEquals("memory", d.engine());
        assertEquals(List.of("redis://127.0.0.1:6379"), d.redisUris());
        JcometConfig c = JcometConfig.from(Map.of("engine", "REDIS", "redis_uri", "redis://h1:7000, redis://h2:7001",
                "redis_cluster", "true", "redis_timeout", "1500"));
        assertEquals("redis", c.engine());
        assertEquals(List.of("redis://h1:7000", "redis://h2:7001"), c.redisUris());
        assertEquals(1500, c.redisTimeoutMillis());
        assertEquals(List.of("redis-sentinel://s1:26379,s2:26379/0#mymaster"),
                JcometConfig.from(Map.of("redis_uri", "redis-sentinel://s1:26379,s2:26379/0#mymaster")).redisUris());
        assertThrows(ConfigException.class, () -> JcometConfig.from(Map.of("engine", "mysql")));
        assertThrows(ConfigException.class, () -> JcometConfig.from(Map.of("redis_uri", "http://h:1")));
        assertThrows(ConfigException.class, () -> JcometConfig.from(Map.of("redis_timeout", "10")));
        assertThrows(ConfigException.class, () -> JcometConfig.from(Map.of("redis_key_prefix", "a{b")));
    }
}
