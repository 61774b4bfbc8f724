package io.jcomet.core;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.jcomet.config.JcometConfig;
import java.net.URL;
import java.net.URLClassLoader;
import org.junit.jupiter.api.Test;

/** engine=memory (the default) is the single-node broker: nothing of the Redis engine is loaded. */
class MemoryEngineTest {

    /** Loads jcomet and Lettuce afresh, so it can tell which classes a broker made it load. */
    private static final class Probe extends URLClassLoader {
        Probe(URL... urls) {
            super(urls, ClassLoader.getPlatformClassLoader());
        }

        boolean loaded(String name) {
            return findLoadedClass(name) != null;
        }
    }

    @Test
    void aMemoryBrokerLoadsNoRedisClass() throws Exception {
        URL jcomet = Broker.class.getProtectionDomain().getCodeSource().getLocation();
        URL lettuce = io.lettuce.core.RedisClient.class.getProtectionDomain().getCodeSource().getLocation();
        try (Probe probe = new Probe(jcomet, lettuce)) {
            Object config = probe.loadClass(JcometConfig.class.getName()).getMethod("defaults").invoke(null);
            Class<?> brokerClass = probe.loadClass(Broker.class.getName());
            AutoCloseable broker = (AutoCloseable) brokerClass.getConstructor(config.getClass()).newInstance(config);
            try {
                Object engine = brokerClass.getMethod("engine").invoke(broker);
                assertTrue(engine.getClass().getName().endsWith("MemoryEngine"));
                assertFalse(probe.loaded("io.jcomet.engine.redis.RedisEngine"));
                assertFalse(probe.loaded("io.lettuce.core.RedisClient"));
                // the probe can load them: their absence above is the broker's doing, not the class path's
                assertTrue(probe.loadClass("io.jcomet.engine.redis.RedisEngine") != null);
            } finally {
                broker.close();
            }
        }
    }

    @Test
    void theSingleNodeBrokerUsesTheMemoryEngine() {
        try (Broker b = new Broker(JcometConfig.defaults())) {
            assertTrue(b.engine() instanceof MemoryEngine);
        }
    }
}
