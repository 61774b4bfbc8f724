package io.jcomet.metrics;

import io.jcomet.core.Broker;
import io.jcomet.core.Stats;
import io.jcomet.protocol.Transport;
import io.jcomet.ws.WsHub;
import io.prometheus.metrics.expositionformats.PrometheusTextFormatWriter;
import io.prometheus.metrics.instrumentation.jvm.JvmMetrics;
import io.prometheus.metrics.model.registry.MultiCollector;
import io.prometheus.metrics.model.registry.PrometheusRegistry;
import io.prometheus.metrics.model.snapshots.ClassicHistogramBuckets;
import io.prometheus.metrics.model.snapshots.CounterSnapshot;
import io.prometheus.metrics.model.snapshots.GaugeSnapshot;
import io.prometheus.metrics.model.snapshots.HistogramSnapshot;
import io.prometheus.metrics.model.snapshots.Labels;
import io.prometheus.metrics.model.snapshots.MetricSnapshot;
import io.prometheus.metrics.model.snapshots.MetricSnapshots;
import java.io.IOException;
import java.io.OutputStream;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Supplier;

/**
 * Admin {@code GET /metrics}: jcomet's counters and the JVM's in the Prometheus text format.
 *
 * <p>Built on the Prometheus Java client (core model, text writer, the standard {@code jvm_*} and
 * {@code process_*} collectors). jcomet's own families are not instruments updated on the hot path:
 * a {@link MultiCollector} reads the counters jcomet keeps anyway ({@link Stats}, {@link WsHub}) at
 * scrape time, so a scrape costs the same at ten connections or a million (sums of a few dozen
 * {@code LongAdder}s; nothing iterates connections or channels).
 *
 * <p>Threads: any request thread may {@link #write}; collection reads only thread-safe counters.
 * One instance per web app, with its own registry.
 */
public final class JcometMetrics {
    private final PrometheusRegistry registry = new PrometheusRegistry();
    private final PrometheusTextFormatWriter writer = PrometheusTextFormatWriter.create();

    /** {@code wsHub} is looked up at each scrape: /ws may be off (null) or registered later. */
    public JcometMetrics(Broker broker, Supplier<WsHub> wsHub) {
        registry.register((MultiCollector) () -> collect(broker, wsHub.get()));
        JvmMetrics.builder().register(registry);
        java.util.logging.Logger.getLogger("io.jcomet").info("jcomet: metrics: admin GET /metrics (Prometheus text format, "
                + "jcomet_* from the broker's counters and jvm_*/process_* from the Prometheus Java client)");
    }

    public String contentType() {
        return writer.getContentType();
    }

    public void write(OutputStream out) throws IOException {
        writer.write(out, registry.scrape());
    }

    static MetricSnapshots collect(Broker broker, WsHub ws) {
        Stats s = broker.stats();
        List<MetricSnapshot> out = new ArrayList<>(16);

        GaugeSnapshot.Builder held = GaugeSnapshot.builder().name("jcomet_held_connections")
                .help("Connections held open for subscribers now, by transport (ws: open WebSockets, whatever their channel count)");
        GaugeSnapshot.Builder subs = GaugeSnapshot.builder().name("jcomet_subscriptions")
                .help("Channel subscriptions held now, by transport (a WebSocket holds one per channel)");
        for (Transport t : Transport.values()) {
            if (t == Transport.PSUB) {
                continue; // admin presence streams are not subscribers
            }
            Labels l = Labels.of("transport", t.key());
            long n = s.held(t);
            subs.dataPoint(GaugeSnapshot.GaugeDataPointSnapshot.builder().labels(l).value(n).build());
            if (t == Transport.WS) {
                n = ws == null ? 0 : ws.openSockets();
            }
            held.dataPoint(GaugeSnapshot.GaugeDataPointSnapshot.builder().labels(l).value(n).build());
        }
        out.add(held.build());
        out.add(subs.build());
        out.add(gauge("jcomet_channels", "Channels that exist now", broker.channels()));
        out.add(gauge("jcomet_channels_max", "max_channels: the channel table's capacity", broker.maxChannels()));
        out.add(counter("jcomet_published", "Messages published (a broadcast counts once per channel)", s.published()));
        out.add(counter("jcomet_delivered", "Published messages handed to a subscriber's connection (replays included)", s.delivered()));
        out.add(counter("jcomet_noops", "Heartbeat noop messages sent", s.noops()));
        out.add(counter("jcomet_slow_reader_drops", "Subscribers dropped because more than max_pending_bytes stayed unsent", s.droppedSlow()));
        out.add(counter("jcomet_disconnects", "Subscribers whose client went away while held", s.disconnected()));
        out.add(counter("jcomet_evicted_ghosts", "Holders of a full channel found gone (client closed) and freed before a newcomer was refused", s.evictedGhosts()));

        CounterSnapshot.Builder rejects = CounterSnapshot.builder().name("jcomet_rejections")
                .help("Requests, subscribers and WebSocket frames refused, by reason (every limit has one)");
        for (Stats.Reject r : Stats.Reject.values()) {
            rejects.dataPoint(CounterSnapshot.CounterDataPointSnapshot.builder()
                    .labels(Labels.of("reason", r.key())).value(s.rejected(r)).build());
        }
        for (WsHub.Reject r : WsHub.Reject.values()) {
            rejects.dataPoint(CounterSnapshot.CounterDataPointSnapshot.builder()
                    .labels(Labels.of("reason", r.key())).value(ws == null ? 0 : ws.rejected(r)).build());
        }
        out.add(rejects.build());

        out.add(counter("jcomet_ws_opened", "WebSockets opened", ws == null ? 0 : ws.openedTotal()));
        out.add(counter("jcomet_ws_frames_received", "Text frames received from WebSocket clients", ws == null ? 0 : ws.framesIn()));
        out.add(counter("jcomet_ws_ping_timeouts", "WebSockets closed because a ping got no pong", ws == null ? 0 : ws.pingTimeouts()));

        long[] bounds = Stats.fanoutBoundsMicros();
        long[] counts = s.fanoutCounts();
        double[] upper = new double[bounds.length + 1];
        for (int i = 0; i < bounds.length; i++) {
            upper[i] = bounds[i] / 1e6;
        }
        upper[bounds.length] = Double.POSITIVE_INFINITY;
        out.add(HistogramSnapshot.builder().name("jcomet_publish_delivery_seconds")
                .help("Per published message: from entering the broker to being handed to the last subscriber's connection")
                .dataPoint(HistogramSnapshot.HistogramDataPointSnapshot.builder()
                        .classicHistogramBuckets(ClassicHistogramBuckets.of(upper, counts))
                        .sum(s.fanoutNanosSum() / 1e9)
                        .build())
                .build());
        return new MetricSnapshots(out);
    }

    private static GaugeSnapshot gauge(String name, String help, double v) {
        return GaugeSnapshot.builder().name(name).help(help)
                .dataPoint(GaugeSnapshot.GaugeDataPointSnapshot.builder().value(v).build()).build();
    }

    private static CounterSnapshot counter(String name, String help, double v) {
        return CounterSnapshot.builder().name(name).help(help)
                .dataPoint(CounterSnapshot.CounterDataPointSnapshot.builder().value(v).build()).build();
    }
}
