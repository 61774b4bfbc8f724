package io.jcomet.engine.redis;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.jcomet.config.JcometConfig;
import io.lettuce.core.cluster.ClusterClientOptions;
import io.lettuce.core.cluster.ClusterTopologyRefreshOptions;
import java.time.Duration;
import java.util.EnumSet;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** The Lettuce options of redis_cluster=true: the cluster's topology is refreshed on every adaptive trigger and periodically. */
class RedisClientOptionsTest {

    @Test
    void aClusterRefreshesItsTopologyOnEveryAdaptiveTriggerAtMostOnceASecondAndEvery5Seconds() {
        JcometConfig c = JcometConfig.from(Map.of("engine", "redis", "redis_cluster", "true"));
        ClusterTopologyRefreshOptions t = ((ClusterClientOptions) RedisEngine.options(c)).getTopologyRefreshOptions();
        assertEquals(EnumSet.allOf(ClusterTopologyRefreshOptions.RefreshTrigger.class), t.getAdaptiveRefreshTriggers());
        assertTrue(t.isPeriodicRefreshEnabled());
        assertEquals(Duration.ofSeconds(1), t.getAdaptiveRefreshTimeout(), "a failover is noticed within a second");
        assertEquals(Duration.ofSeconds(5), t.getRefreshPeriod());
    }
}
