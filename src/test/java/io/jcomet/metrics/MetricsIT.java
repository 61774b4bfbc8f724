package io.jcomet.metrics;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.jcomet.support.TestServer;
import io.jcomet.ws.WsClient;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * Admin {@code GET /metrics} is valid Prometheus text with the families an operator alerts on,
 * and its values follow what the server does: a held WebSocket shows in the {@code ws} held gauge,
 * a push in published/delivered and the latency histogram, a refused request in rejections.
 */
class MetricsIT {

    @Test
    void metricsAreValidPrometheusTextAndCountAHeldWebSocket() throws Exception {
        try (TestServer s = TestServer.start("auth", "token")) {
            assertEquals(404, s.front("/metrics").status(), "admin only");
            s.admin("/sign?cname=m");
            try (WsClient ws = WsClient.open(s.front(), "/ws?cname=m&token=" + token(s, "m"))) {
                ws.next(5); // sub_ok
                ws.next(5); // next_seq
                TestServer.awaitIo("held", Duration.ofSeconds(5), () -> s.subscribers("m") == 1);
                s.admin("/push?cname=m&content=hi");
                assertTrue(ws.next(5).contains("\"content\":\"hi\""));
                // auth=token: a channel never signed is a token error (as icomet), counted as token
                assertTrue(s.front("/sub?cname=nosuch").body().startsWith("{\"type\":\"401\""));

                TestServer.Response r = s.admin("/metrics");
                assertEquals(200, r.status());
                assertTrue(r.header("Content-Type").startsWith("text/plain; version=0.0.4"), r.header("Content-Type"));
                PrometheusText p = PrometheusText.parse(r.body());

                assertEquals("gauge", p.types.get("jcomet_held_connections"));
                assertEquals(1.0, p.value("jcomet_held_connections", "transport", "ws"), "the open WebSocket");
                assertEquals(0.0, p.value("jcomet_held_connections", "transport", "poll"));
                for (String t : List.of("stream", "sse", "iframe")) {
                    assertEquals(0.0, p.value("jcomet_held_connections", "transport", t));
                }
                assertEquals(1.0, p.value("jcomet_subscriptions", "transport", "ws"));
                assertEquals(1.0, p.value("jcomet_channels"));
                assertEquals("counter", p.types.get("jcomet_published_total"));
                assertEquals(1.0, p.value("jcomet_published_total"));
                assertEquals(1.0, p.value("jcomet_delivered_total"));
                assertEquals(0.0, p.value("jcomet_noops_total"));
                assertEquals(0.0, p.value("jcomet_slow_reader_drops_total"));
                assertEquals(0.0, p.value("jcomet_disconnects_total"));
                assertEquals(1.0, p.value("jcomet_rejections_total", "reason", "token"));
                assertEquals(0.0, p.value("jcomet_rejections_total", "reason", "not_found"));
                assertEquals(0.0, p.value("jcomet_rejections_total", "reason", "ws_origin"));

                assertEquals("histogram", p.types.get("jcomet_publish_delivery_seconds"));
                assertEquals(1.0, p.value("jcomet_publish_delivery_seconds_count"));
                assertEquals(1.0, p.value("jcomet_publish_delivery_seconds_bucket", "le", "+Inf"));
                assertTrue(p.value("jcomet_publish_delivery_seconds_sum") > 0);

                assertTrue(p.has("jvm_memory_used_bytes"), "JVM memory");
                assertTrue(p.has("jvm_gc_collection_seconds_count"), "JVM GC");
                assertTrue(p.has("jvm_threads_current"), "JVM threads");
                assertTrue(p.has("process_cpu_seconds_total"), "process CPU");
            }
            TestServer.awaitIo("ws gauge back to 0", Duration.ofSeconds(5),
                    () -> PrometheusText.parse(s.admin("/metrics").body()).value("jcomet_held_connections", "transport", "ws") == 0.0);
            PrometheusText after = PrometheusText.parse(s.admin("/metrics").body());
            assertEquals(1.0, after.value("jcomet_disconnects_total"), "the client closed its socket");
            assertEquals(1.0, after.value("jcomet_ws_opened_total"));
        }
    }

    /** Every series the shipped Grafana dashboard queries is one /metrics exposes. */
    @Test
    void theGrafanaDashboardQueriesOnlyFamiliesThatExist() throws Exception {
        java.nio.file.Path dashboard = java.nio.file.Path.of(System.getProperty("basedir", "."), "docs", "grafana-jcomet.json");
        com.fasterxml.jackson.databind.JsonNode d = new com.fasterxml.jackson.databind.ObjectMapper().readTree(dashboard.toFile());
        java.util.Set<String> queried = new java.util.TreeSet<>();
        for (com.fasterxml.jackson.databind.JsonNode panel : d.get("panels")) {
            for (com.fasterxml.jackson.databind.JsonNode target : panel.get("targets")) {
                java.util.regex.Matcher m = java.util.regex.Pattern.compile("\\b((?:jcomet|jvm|process)_[a-z_]+)\\{")
                        .matcher(target.get("expr").asText());
                while (m.find()) {
                    queried.add(m.group(1));
                }
            }
        }
        assertTrue(queried.size() >= 15, "the dashboard queries jcomet and JVM families: " + queried);
        try (TestServer s = TestServer.start()) {
            s.admin("/push?cname=g&content=x"); // so that every histogram and counter has a sample
            PrometheusText p = PrometheusText.parse(s.admin("/metrics").body());
            List<String> missing = queried.stream().filter(n -> !p.has(n)).toList();
            assertEquals(List.of(), missing, "dashboard series not in /metrics");
        }
    }

    private static String token(TestServer s, String cname) throws Exception {
        return s.admin("/sign?cname=" + cname).body().replaceAll("(?s).*\"token\":\"([0-9a-f]+)\".*", "$1");
    }
}
