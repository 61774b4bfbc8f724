package io.jcomet.bench;

import static io.jcomet.bench.Numbers.col;
import static io.jcomet.bench.Numbers.fmtInt;
import static io.jcomet.bench.Numbers.mb;
import static io.jcomet.bench.Numbers.round;
import static io.jcomet.bench.Numbers.scale;
import static io.jcomet.bench.Numbers.slope;

import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * The {@code hold} scenario: opens {@code --connections} subscribers {@code --step} at a time, samples
 * the server's RSS and heap (as is and after a GC) after each step, reports bytes per held connection
 * (least-squares slope, also without the first step), then idles {@code --idle} s and reports the
 * server's CPU while holding. Passes when every connection stayed connected and held, without errors.
 *
 * <p>Threads: the scenario thread; the pool has its own reactors.
 */
final class HoldScenario extends Scenario {

    HoldScenario(BenchRun run) {
        super(run);
    }

    @Override
    int run(Map<String, Object> info0) throws Exception {
        int n = run.cap(o.connections, info0);
        long baseSubs = ServerProbe.num(info0, "subscribers");
        List<Map<String, Object>> samples = new ArrayList<>();
        samples.add(run.server.memorySample(0, 0, run.t0));
        SubscriberPool pool = new SubscriberPool(o, 1);
        run.progress(() -> run.poolLine(pool, n));
        try {
            int k = 0;
            while (k < n && !run.pastDeadline()) {
                k = Math.min(n, k + o.step);
                final int target = k;
                pool.openUpTo(target, o.rate);
                double wait = 30 + (o.rate > 0 ? 2.0 * o.step / o.rate : o.step / 500.0);
                boolean held = run.waitUntil(() -> pool.outstanding.get() >= target, wait);
                if (!held) {
                    run.warn("step " + target + ": only " + pool.outstanding.get() + " requests outstanding after "
                            + round(wait) + " s");
                }
                if (baseSubs >= 0) {
                    run.waitServerSubscribers(baseSubs + pool.outstanding.get(), 3);
                }
                samples.add(run.server.memorySample(target, pool.outstanding.get(), run.t0));
            }
            // idle: server CPU while holding
            Map<String, Object> a = run.server.info(false);
            long ta = System.nanoTime();
            // a held poll answered by a noop is re-polled at once: 'held' dips for an instant, the
            // connection count must not
            int minHeld = pool.connected.get();
            int maxHeld = minHeld;
            long noops0 = pool.noops.get();
            long idleEnd = ta + (long) (o.idle * 1e9);
            while (System.nanoTime() - idleEnd < 0 && !run.pastDeadline()) {
                Thread.sleep(Math.max(1, Math.min(200, (idleEnd - System.nanoTime()) / 1_000_000)));
                int h = pool.connected.get();
                minHeld = Math.min(minHeld, h);
                maxHeld = Math.max(maxHeld, h);
            }
            Map<String, Object> b = run.server.info(false);
            long tb = System.nanoTime();
            long cpu = ServerProbe.cpuNanos(a, b);
            double idlePct = !ServerProbe.knowsCpu(a) ? -1 : 100.0 * cpu / (tb - ta);
            run.waitUntil(() -> pool.outstanding.get() >= n, 2);
            int heldEnd = pool.outstanding.get();

            double[] xs = col(samples, "connections");
            double rssSlope = slope(xs, col(samples, "rss_bytes"));
            double heapSlope = slope(xs, col(samples, "heap_after_gc_bytes"));
            double rssGcSlope = slope(xs, col(samples, "rss_after_gc_bytes"));
            // The first step also pays one-time costs (JIT compilation, class loading, first old-gen
            // growth) that a million-connection server pays once: report the slope without it too.
            List<Map<String, Object>> later = samples.size() > 2 ? samples.subList(1, samples.size()) : samples;
            double[] xsLater = col(later, "connections");
            double rssSlopeLater = slope(xsLater, col(later, "rss_bytes"));
            double heapSlopeLater = slope(xsLater, col(later, "heap_after_gc_bytes"));
            run.figures.put("rss_bytes_per_connection_after_first_step", round(rssSlopeLater));
            run.figures.put("heap_after_gc_bytes_per_connection_after_first_step", round(heapSlopeLater));
            run.figures.put("connections", n);
            run.figures.put("held_at_end", heldEnd);
            run.figures.put("samples", samples);
            run.figures.put("rss_bytes_per_connection", round(rssSlope));
            run.figures.put("rss_after_gc_bytes_per_connection", round(rssGcSlope));
            run.figures.put("heap_after_gc_bytes_per_connection", round(heapSlope));
            Map<String, Object> idle = new LinkedHashMap<>();
            idle.put("seconds", round((tb - ta) / 1e9));
            idle.put("server_cpu_ns", cpu);
            idle.put("server_cpu_percent_of_one_core", round(idlePct));
            idle.put("connected_min", minHeld);
            idle.put("connected_max", maxHeld);
            idle.put("noops_during_idle", pool.noops.get() - noops0);
            run.figures.put("idle", idle);
            run.figures.put("client", pool.countersMap());
            run.figures.put("server_at_end", ServerProbe.view(b));

            run.finished();
            out.println();
            out.println("hold: " + fmtInt(n) + (o.ws ? " WebSockets" : o.stream ? " streams" : " long-polls") + ", ports " + o.portsText()
                    + ", channels " + o.toMap().get("channels"));
            out.printf(Locale.ROOT, "%12s %12s %10s %10s %12s %14s %14s %12s%n", "connections", "held", "RSS MB",
                    "heap MB", "heap(GC) MB", "RSS B/conn*", "heap(GC) B/c*", "server subs");
            Map<String, Object> prev = null;
            for (Map<String, Object> s : samples) {
                String dRss = "";
                String dHeap = "";
                if (prev != null) {
                    double dc = ((Number) s.get("connections")).doubleValue() - ((Number) prev.get("connections")).doubleValue();
                    if (dc > 0) {
                        dRss = String.format(Locale.ROOT, "%,.0f", (((Number) s.get("rss_bytes")).doubleValue()
                                - ((Number) prev.get("rss_bytes")).doubleValue()) / dc);
                        dHeap = String.format(Locale.ROOT, "%,.0f", (((Number) s.get("heap_after_gc_bytes")).doubleValue()
                                - ((Number) prev.get("heap_after_gc_bytes")).doubleValue()) / dc);
                    }
                }
                out.printf(Locale.ROOT, "%12s %12s %10.1f %10.1f %12.1f %14s %14s %12s%n",
                        fmtInt(((Number) s.get("connections")).longValue()), fmtInt(((Number) s.get("held")).longValue()),
                        mb(s.get("rss_bytes")), mb(s.get("heap_used_bytes")), mb(s.get("heap_after_gc_bytes")),
                        dRss, dHeap, fmtInt(((Number) s.get("server_subscribers")).longValue()));
                prev = s;
            }
            out.println("(* since the previous step)");
            out.printf(Locale.ROOT, "slope (least squares): RSS %,.0f B/conn, RSS after GC %,.0f B/conn,"
                    + " heap after GC %,.0f B/conn%n", rssSlope, rssGcSlope, heapSlope);
            out.printf(Locale.ROOT, "slope without the first step (JIT and class loading): RSS %,.0f B/conn,"
                    + " heap after GC %,.0f B/conn%n", rssSlopeLater, heapSlopeLater);
            out.printf(Locale.ROOT, "idle %.1f s: server CPU %.2f%% of one core; connected %s..%s, held at end %s of %s,"
                            + " noops re-polled %s%n", (tb - ta) / 1e9, idlePct, fmtInt(minHeld), fmtInt(maxHeld),
                    fmtInt(heldEnd), fmtInt(n), fmtInt(pool.noops.get() - noops0));
            Report.printErrors(out, pool, run.warnings);
            run.svg = Svg.lineChart("hold: server memory vs held long-polls",
                    String.format(Locale.ROOT, "RSS %,.0f B/conn, heap after GC %,.0f B/conn, %s, %s",
                            rssSlope, heapSlope, ServerProbe.version(info0), Instant.now().toString().substring(0, 16)),
                    "held connections", "MB",
                    List.of(new Svg.Series("RSS", "#d62728", xs, scale(col(samples, "rss_bytes"), 1.0 / (1 << 20))),
                            new Svg.Series("heap used after GC", "#1f77b4", xs,
                                    scale(col(samples, "heap_after_gc_bytes"), 1.0 / (1 << 20)))),
                    null);
            boolean ok = heldEnd == n && minHeld == n && pool.errorCount() == 0;
            if (!ok) {
                out.println("hold: FAILED (not every connection stayed connected and held, or errors)");
            }
            return ok ? 0 : 1;
        } finally {
            pool.stop();
        }
    }
}
