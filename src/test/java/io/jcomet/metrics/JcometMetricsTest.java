package io.jcomet.metrics;

import static org.junit.jupiter.api.Assertions.assertEquals;

import io.jcomet.config.JcometConfig;
import io.jcomet.core.Broker;
import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.Test;

/** The latency histogram is exposed cumulatively, in seconds, with every sample counted once. */
class JcometMetricsTest {

    @Test
    void fanoutSamplesLandInCumulativeBucketsInSeconds() throws Exception {
        try (Broker broker = new Broker(JcometConfig.defaults())) {
            broker.stats().addFanout(5_000);          // 5 us: the first bucket (<= 10 us)
            broker.stats().addFanout(300_000);        // 300 us: <= 500 us
            broker.stats().addFanout(2_000_000_000L); // 2 s: only +Inf
            ByteArrayOutputStream out = new ByteArrayOutputStream();
            new JcometMetrics(broker, () -> null).write(out);
            PrometheusText p = PrometheusText.parse(out.toString(StandardCharsets.UTF_8));
            assertEquals(1.0, p.value("jcomet_publish_delivery_seconds_bucket", "le", "1.0E-5"));
            assertEquals(1.0, p.value("jcomet_publish_delivery_seconds_bucket", "le", "2.5E-4"));
            assertEquals(2.0, p.value("jcomet_publish_delivery_seconds_bucket", "le", "5.0E-4"));
            assertEquals(2.0, p.value("jcomet_publish_delivery_seconds_bucket", "le", "1.0"));
            assertEquals(3.0, p.value("jcomet_publish_delivery_seconds_bucket", "le", "+Inf"));
            assertEquals(3.0, p.value("jcomet_publish_delivery_seconds_count"));
            assertEquals(2.000305, p.value("jcomet_publish_delivery_seconds_sum"), 1e-9);
            assertEquals(0.0, p.value("jcomet_held_connections", "transport", "ws"), "no WebSocket hub: 0, not missing");
        }
    }
}
