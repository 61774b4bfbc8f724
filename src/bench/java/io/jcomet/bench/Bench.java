package io.jcomet.bench;

import java.io.IOException;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.function.BooleanSupplier;
import java.util.function.Supplier;

/**
 * Load client entry point: {@code Bench <hold|fanout|publish|churn|soak> [--key value ...]} (see
 * {@link Options#HELP}). Runs one scenario against an icomet-compatible server on loopback, prints a
 * progress line every second and a final table, writes a JSON result and an SVG chart.
 *
 * <p>Threads: the main thread runs the scenario and owns the result map and the admin connection
 * it uses for /info; a progress thread prints lines built from atomic counters; a watchdog thread
 * ends the process at the --timeout hard deadline; the subscriber pool and the publishers have
 * their own threads (see those classes).
 *
 * <p>Exit status: 0 success, 1 a failed check (loss, errors, not all connections held), 2 bad
 * usage or unreachable server, 3 hard deadline reached.
 */
public final class Bench {

    private final Options o;
    private final PrintStream out;
    private final long t0 = System.nanoTime();
    private final long deadline;
    private final Map<String, Object> result = new LinkedHashMap<>();
    private final Map<String, Object> figures = new LinkedHashMap<>();
    private final List<String> warnings = new ArrayList<>();
    private Admin admin;
    private volatile Supplier<String> progress = () -> "";
    private volatile boolean finished;
    private String svg;

    Bench(Options o, PrintStream out) {
        this.o = o;
        this.out = out;
        this.deadline = t0 + (long) (o.timeout * 1e9);
    }

    public static void main(String[] args) {
        Options o;
        try {
            o = Options.parse(args);
        } catch (Options.UsageException e) {
            System.err.println("bench: " + e.getMessage());
            System.err.println("run 'bin/bench --help' for the options");
            System.exit(2);
            return;
        }
        if (o == null) {
            System.out.print(Options.HELP);
            System.exit(0);
            return;
        }
        Thread watchdog = new Thread(() -> {
            try {
                Thread.sleep((long) (o.timeout * 1000) + 5_000);
                System.err.println("bench: hard deadline --timeout " + o.timeout + " s reached; exiting");
                Runtime.getRuntime().halt(3);
            } catch (InterruptedException ignored) {
                // normal end
            }
        }, "bench-watchdog");
        watchdog.setDaemon(true);
        watchdog.start();
        int rc;
        try {
            rc = new Bench(o, System.out).run();
        } catch (Exception e) {
            System.err.println("bench: " + e);
            e.printStackTrace();
            rc = 1;
        }
        System.out.flush();
        System.exit(rc);
    }

    /** Runs the scenario; returns the exit status. */
    int run() throws Exception {
        result.put("scenario", o.scenario);
        result.put("started_at", Instant.now().toString());
        result.put("parameters", o.toMap());
        result.put("machine", machine());
        long clientCpu0 = clientCpuNanos();
        admin = new Admin(o);
        Map<String, Object> info0;
        try {
            info0 = admin.info(false);
        } catch (IOException e) {
            out.println("bench: cannot read " + "http://" + o.adminHost + ":" + o.adminPort + "/info: " + e.getMessage());
            return 2;
        }
        result.put("server_at_start", serverView(info0));
        Thread p = new Thread(this::progressLoop, "bench-progress");
        p.setDaemon(true);
        p.start();
        int rc;
        try {
            rc = switch (o.scenario) {
                case "hold" -> hold(info0);
                case "fanout" -> fanout(info0);
                case "publish" -> publish(info0);
                case "churn" -> churn(info0);
                case "soak" -> {
                    Soak soak = new Soak(o, admin, out, deadline, figures, warnings);
                    int r = soak.run(info0);
                    svg = soak.svg;
                    yield r;
                }
                default -> throw new IllegalStateException(o.scenario);
            };
        } finally {
            finished = true;
            admin.close();
        }
        figures.put("client_cpu_s", round((clientCpuNanos() - clientCpu0) / 1e9));
        result.put("figures", figures);
        result.put("warnings", warnings);
        result.put("exit_status", rc);
        result.put("elapsed_s", round((System.nanoTime() - t0) / 1e9));
        write(o.out, Json.write(result));
        if (svg != null) {
            write(o.svg, svg);
        }
        out.printf(Locale.ROOT, "client CPU %.2f s in %.1f s%n", (clientCpuNanos() - clientCpu0) / 1e9,
                (System.nanoTime() - t0) / 1e9);
        out.println("result: " + o.out + (svg != null ? "  chart: " + o.svg : ""));
        return rc;
    }

    // ------------------------------------------------------------------ hold

    private int hold(Map<String, Object> info0) throws Exception {
        int n = cap(o.connections, info0);
        long baseSubs = Admin.num(info0, "subscribers");
        List<Map<String, Object>> samples = new ArrayList<>();
        samples.add(sample(0, 0));
        SubscriberPool pool = new SubscriberPool(o, 1);
        progress = () -> poolLine(pool, n);
        try {
            int k = 0;
            while (k < n && !pastDeadline()) {
                k = Math.min(n, k + o.step);
                final int target = k;
                pool.openUpTo(target, o.rate);
                double wait = 30 + (o.rate > 0 ? 2.0 * o.step / o.rate : o.step / 500.0);
                boolean held = waitUntil(() -> pool.outstanding.get() >= target, wait);
                if (!held) {
                    warn("step " + target + ": only " + pool.outstanding.get() + " requests outstanding after "
                            + round(wait) + " s");
                }
                if (baseSubs >= 0) {
                    waitServerSubscribers(baseSubs + pool.outstanding.get(), 3);
                }
                samples.add(sample(target, pool.outstanding.get()));
            }
            // idle: server CPU while holding
            Map<String, Object> a = admin.info(false);
            long ta = System.nanoTime();
            // a held poll answered by a noop is re-polled at once: 'held' dips for an instant, the
            // connection count must not
            int minHeld = pool.connected.get();
            int maxHeld = minHeld;
            long noops0 = pool.noops.get();
            long idleEnd = ta + (long) (o.idle * 1e9);
            while (System.nanoTime() - idleEnd < 0 && !pastDeadline()) {
                Thread.sleep(Math.max(1, Math.min(200, (idleEnd - System.nanoTime()) / 1_000_000)));
                int h = pool.connected.get();
                minHeld = Math.min(minHeld, h);
                maxHeld = Math.max(maxHeld, h);
            }
            Map<String, Object> b = admin.info(false);
            long tb = System.nanoTime();
            long cpu = Admin.num(b, "process_cpu_ns") - Admin.num(a, "process_cpu_ns");
            double idlePct = Admin.num(a, "process_cpu_ns") < 0 ? -1 : 100.0 * cpu / (tb - ta);
            waitUntil(() -> pool.outstanding.get() >= n, 2);
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
            figures.put("rss_bytes_per_connection_after_first_step", round(rssSlopeLater));
            figures.put("heap_after_gc_bytes_per_connection_after_first_step", round(heapSlopeLater));
            figures.put("connections", n);
            figures.put("held_at_end", heldEnd);
            figures.put("samples", samples);
            figures.put("rss_bytes_per_connection", round(rssSlope));
            figures.put("rss_after_gc_bytes_per_connection", round(rssGcSlope));
            figures.put("heap_after_gc_bytes_per_connection", round(heapSlope));
            Map<String, Object> idle = new LinkedHashMap<>();
            idle.put("seconds", round((tb - ta) / 1e9));
            idle.put("server_cpu_ns", cpu);
            idle.put("server_cpu_percent_of_one_core", round(idlePct));
            idle.put("connected_min", minHeld);
            idle.put("connected_max", maxHeld);
            idle.put("noops_during_idle", pool.noops.get() - noops0);
            figures.put("idle", idle);
            figures.put("client", pool.countersMap());
            figures.put("server_at_end", serverView(b));

            finished = true;
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
            printErrors(pool);
            svg = Svg.lineChart("hold: server memory vs held long-polls",
                    String.format(Locale.ROOT, "RSS %,.0f B/conn, heap after GC %,.0f B/conn, %s, %s",
                            rssSlope, heapSlope, serverVersion(info0), Instant.now().toString().substring(0, 16)),
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

    /** One memory sample: /info (RSS, heap as is), then /info?gc=1 (heap after a GC). */
    private Map<String, Object> sample(int connections, int held) throws IOException {
        Map<String, Object> plain = admin.info(false);
        Map<String, Object> gc = admin.info(true);
        Map<String, Object> s = new LinkedHashMap<>();
        s.put("connections", connections);
        s.put("held", held);
        s.put("elapsed_s", round((System.nanoTime() - t0) / 1e9));
        s.put("rss_bytes", Admin.num(plain, "rss_bytes"));
        s.put("heap_used_bytes", Admin.num(plain, "heap_used_bytes"));
        s.put("rss_after_gc_bytes", Admin.num(gc, "rss_bytes"));
        s.put("heap_after_gc_bytes", Admin.num(gc, "heap_used_bytes"));
        s.put("server_subscribers", Admin.num(gc, "subscribers"));
        s.put("server_open_fds", Admin.num(gc, "open_fds"));
        return s;
    }

    // ------------------------------------------------------------------ fanout

    private int fanout(Map<String, Object> info0) throws Exception {
        int n = cap(o.connections, info0);
        int k = o.channelCount(n);
        long baseSubs = Admin.num(info0, "subscribers");
        SubscriberPool pool = new SubscriberPool(o, 1);
        try {
            openAndHold(pool, n, baseSubs);
            int publishers = Math.max(1, Math.min(o.publishers, Math.max(1, o.messages)));
            Publishers pubs = new Publishers(o, publishers, k, o::channelName);
            progress = () -> poolLine(pool, n) + " | pushed " + fmtInt(pubs.ok.get()) + "/"
                    + fmtInt((long) o.warmup + o.messages) + " push errors " + pubs.errors.get();
            if (o.warmup > 0) {
                pubs.run(o.warmup, 0, o.msgRate, deadline);
                long warm = expectedDeliveries(pool, pubs, k);
                if (!waitUntil(() -> pool.deliveries.get() + pool.gapSeqs.get() >= warm
                        && pool.outstanding.get() >= n, o.drain)) {
                    warn("warm-up: only " + pool.deliveries.get() + " of " + warm + " deliveries arrived");
                }
                pool.resetLatency();
            }
            long delivered0 = pool.deliveries.get();
            long pushed0 = pubs.ok.get();
            Map<String, Object> a = admin.info(false);
            pubs.run((long) o.warmup + o.messages, 0, o.msgRate, deadline);
            long expected = expectedDeliveries(pool, pubs, k);
            // messages the server declared lost will never come: stop waiting for them
            boolean drained = waitUntil(() -> pool.deliveries.get() + pool.gapSeqs.get() >= expected, o.drain);
            Map<String, Object> b = admin.info(false);
            pool.stop();
            long delivered = pool.deliveries.get() - delivered0;
            long cpu = Admin.num(b, "process_cpu_ns") - Admin.num(a, "process_cpu_ns");
            LossReport loss = verify(pool, pubs);
            LogHistogram lat = pool.latency();
            LogHistogram last = pool.lastDeliveryLatency();
            double spanS = (pool.lastDeliveryNanos.get() - pubs.startNanos) / 1e9;
            double perS = spanS > 0 ? delivered / spanS : 0;
            double cpuUs = delivered > 0 && Admin.num(a, "process_cpu_ns") >= 0 ? cpu / 1000.0 / delivered : -1;

            figures.put("subscribers", n);
            figures.put("channels", k);
            figures.put("published", pubs.toMap());
            figures.put("warmup_messages_excluded", o.warmup);
            figures.put("measured_messages", pubs.ok.get() - pushed0);
            figures.put("achieved_msg_per_s", pubs.seconds() > 0 ? round((pubs.ok.get() - pushed0) / pubs.seconds()) : 0);
            figures.put("expected_deliveries", expected);
            figures.put("delivered_total", pool.deliveries.get());
            figures.put("delivered_measured", delivered);
            figures.put("drained", drained);
            figures.put("deliveries_per_s", round(perS));
            figures.put("latency", lat.summaryMicros());
            figures.put("last_delivery_latency_per_message", last.summaryMicros());
            figures.put("latency_buckets_ns", lat.buckets());
            figures.put("server_cpu_ns", cpu);
            figures.put("server_cpu_us_per_delivery", round(cpuUs));
            figures.put("verification", loss.toMap());
            figures.put("client", pool.countersMap());
            figures.put("server_at_end", serverView(b));

            finished = true;
            out.println();
            // pubs.seconds() is the measured run only (after the warm-up)
            double achieved = pubs.seconds() > 0 ? (pubs.ok.get() - pushed0) / pubs.seconds() : 0;
            out.printf(Locale.ROOT, "fanout: %s subscribers on %s channel(s), %s messages pushed at %s/s"
                            + " (achieved %,.0f/s) by %d publisher(s)%n", fmtInt(n), fmtInt(k), fmtInt(pubs.ok.get()),
                    o.msgRate > 0 ? fmtInt((long) o.msgRate) : "max", achieved, publishers);
            if (o.warmup > 0) {
                out.printf(Locale.ROOT, "  warm-up        %s messages first, left out of latency and CPU%n",
                        fmtInt(o.warmup));
            }
            out.printf(Locale.ROOT, "  delivered      %s of %s expected (%s)%n", fmtInt(pool.deliveries.get()),
                    fmtInt(expected),
                    !drained ? "NOT all arrived within --drain " + o.drain + " s"
                            : pool.gapSeqs.get() > 0 ? "the rest declared lost by the server" : "all arrived");
            out.printf(Locale.ROOT, "  deliveries/s   %,.0f%n", perS);
            out.printf(Locale.ROOT, "  latency us     p50 %,.0f  p99 %,.0f  p99.9 %,.0f  max %,.0f  (mean %,.0f)%n",
                    lat.percentile(50) / 1e3, lat.percentile(99) / 1e3, lat.percentile(99.9) / 1e3, lat.max() / 1e3,
                    lat.mean() / 1e3);
            out.printf(Locale.ROOT, "  last delivery  per message (all subscribers have it) us: p50 %,.0f  p99 %,.0f"
                    + "  max %,.0f%n", last.percentile(50) / 1e3, last.percentile(99) / 1e3, last.max() / 1e3);
            out.printf(Locale.ROOT, "  server CPU     %,.1f us per delivered message (incl. the pushes)%n", cpuUs);
            printLoss(loss);
            printErrors(pool);
            svg = latencyChart(lat, String.format(Locale.ROOT, "fanout %,d subscribers, %,d channel(s), %,d messages"
                    + " at %s/s; %,.0f deliveries/s", n, k, pubs.ok.get(),
                    o.msgRate > 0 ? fmtInt((long) o.msgRate) : "max", perS));
            boolean ok = loss.noLoss() && pubs.errors.get() == 0 && drained;
            out.println("fanout: " + (ok ? "OK" : "FAILED"));
            return ok ? 0 : 1;
        } finally {
            pool.stop();
        }
    }

    // ------------------------------------------------------------------ publish

    private int publish(Map<String, Object> info0) throws Exception {
        int n = o.connections > 0 ? cap(o.connections, info0) : 0;
        int k = o.channelCount(Math.max(n, 1));
        long baseSubs = Admin.num(info0, "subscribers");
        SubscriberPool pool = new SubscriberPool(o, 1);
        try {
            if (n > 0) {
                openAndHold(pool, n, baseSubs);
            }
            Publishers pubs = new Publishers(o, o.publishers, k, o::channelName);
            long[] lastOk = {0};
            long[] lastT = {System.nanoTime()};
            progress = () -> {
                long now = System.nanoTime();
                long okNow = pubs.ok.get();
                double r = (okNow - lastOk[0]) / ((now - lastT[0]) / 1e9);
                lastOk[0] = okNow;
                lastT[0] = now;
                return String.format(Locale.ROOT, "pushes %s (%,.0f/s) errors %d | subs held %s deliveries %s",
                        fmtInt(okNow), r, pubs.errors.get(), fmtInt(pool.outstanding.get()),
                        fmtInt(pool.deliveries.get()));
            };
            Map<String, Object> a = admin.info(false);
            pubs.run(-1, o.duration, o.msgRate, deadline);
            Map<String, Object> b = admin.info(false);
            long cpu = Admin.num(b, "process_cpu_ns") - Admin.num(a, "process_cpu_ns");
            double perS = pubs.ok.get() / pubs.seconds();
            LogHistogram rtt = pubs.rtt();
            if (n > 0) {
                waitUntil(() -> pool.outstanding.get() >= n, Math.min(5, o.drain));
            }
            pool.stop();
            figures.put("subscribers", n);
            figures.put("channels", k);
            figures.put("published", pubs.toMap());
            figures.put("pushes_per_s", round(perS));
            figures.put("push_errors", pubs.errors.get());
            figures.put("server_cpu_ns", cpu);
            figures.put("server_cpu_us_per_push",
                    pubs.ok.get() > 0 && Admin.num(a, "process_cpu_ns") >= 0 ? round(cpu / 1000.0 / pubs.ok.get()) : -1);
            figures.put("deliveries", pool.deliveries.get());
            figures.put("client", pool.countersMap());
            figures.put("server_at_end", serverView(b));

            finished = true;
            out.println();
            out.printf(Locale.ROOT, "publish: %d keep-alive publishers, %.1f s, %s channel(s), %s subscribers%n",
                    o.publishers, pubs.seconds(), fmtInt(k), fmtInt(n));
            out.printf(Locale.ROOT, "  pushes/s       %,.0f  (%s ok, %s errors)%n", perS, fmtInt(pubs.ok.get()),
                    fmtInt(pubs.errors.get()));
            out.printf(Locale.ROOT, "  push RTT us    p50 %,.0f  p99 %,.0f  p99.9 %,.0f  max %,.0f%n",
                    rtt.percentile(50) / 1e3, rtt.percentile(99) / 1e3, rtt.percentile(99.9) / 1e3, rtt.max() / 1e3);
            out.printf(Locale.ROOT, "  server CPU     %,.1f us per push%n",
                    pubs.ok.get() > 0 ? cpu / 1000.0 / pubs.ok.get() : -1.0);
            if (n > 0) {
                out.printf(Locale.ROOT, "  deliveries     %s (gap messages %s: long-polls re-polling slower than"
                        + " the channel buffer fills)%n", fmtInt(pool.deliveries.get()), fmtInt(pool.gaps.get()));
            }
            if (pubs.firstError != null) {
                out.println("  first error: " + pubs.firstError);
            }
            svg = latencyChart(rtt, String.format(Locale.ROOT, "admin /push round trip, %d keep-alive publishers,"
                    + " %,.0f pushes/s", o.publishers, perS));
            return pubs.errors.get() == 0 ? 0 : 1;
        } finally {
            pool.stop();
        }
    }

    // ------------------------------------------------------------------ churn

    private int churn(Map<String, Object> info0) throws Exception {
        int n = cap(o.connections, info0);
        int k = o.channelCount(n);
        long baseSubs = Admin.num(info0, "subscribers");
        SubscriberPool pool = new SubscriberPool(o, 1);
        try {
            openAndHold(pool, n, baseSubs);
            Publishers pubs = new Publishers(o, o.publishers, k, o::channelName);
            // one message per channel first, so that every subscriber resumes from seq > 1
            progress = () -> poolLine(pool, n) + " | pushed " + fmtInt(pubs.ok.get());
            pubs.run(k, 0, 0, deadline);
            long pre = expectedDeliveries(pool, pubs, k);
            if (!waitUntil(() -> pool.deliveries.get() >= pre && pool.outstanding.get() >= n, o.drain)) {
                warn("before the churn only " + pool.deliveries.get() + " of " + pre + " first messages arrived");
            }
            long connectsBefore = pool.connects.get();
            long errorsBefore = pool.errorCount();
            pool.closeAll();
            long tClose = System.nanoTime();
            long[] tConnected = {0};
            // timeline for the chart: ms since the close, reconnected, held, delivered (waitUntil polls every 10 ms)
            List<double[]> timeline = new ArrayList<>();
            Runnable sample = () -> timeline.add(new double[] {(System.nanoTime() - tClose) / 1e6,
                    pool.connects.get() - connectsBefore, pool.outstanding.get(), pool.deliveries.get() - pre});
            Thread publisher = new Thread(() -> {
                try {
                    pubs.run((long) k + o.messages, 0, o.msgRate, deadline);
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
            }, "bench-churn-publisher");
            publisher.setDaemon(true);
            publisher.start();
            pool.reconnectAll(o.reconnectRate);
            progress = () -> poolLine(pool, n) + " | reconnected " + fmtInt(pool.connects.get() - connectsBefore)
                    + " pushed " + fmtInt(pubs.ok.get() - k) + "/" + fmtInt(o.messages);
            boolean allConnected = waitUntil(() -> {
                sample.run();
                if (tConnected[0] == 0 && pool.connects.get() - connectsBefore >= n) {
                    tConnected[0] = System.nanoTime();
                }
                return tConnected[0] != 0;
            }, Math.max(30, o.drain));
            waitUntil(() -> {
                sample.run();
                return !publisher.isAlive();
            }, Math.max(0.001, (deadline - System.nanoTime()) / 1e9));
            publisher.join(1000); // ended (or past the deadline: the scenario then reports what it has)
            long tPublished = System.nanoTime();
            long expected = expectedDeliveries(pool, pubs, k);
            boolean caughtUp = waitUntil(() -> {
                sample.run();
                return pool.deliveries.get() + pool.gapSeqs.get() >= expected && pool.outstanding.get() >= n;
            }, o.drain);
            sample.run();
            long tHeld = System.nanoTime();
            Map<String, Object> b = admin.info(false);
            pool.stop();
            LossReport loss = verify(pool, pubs);

            figures.put("subscribers", n);
            figures.put("channels", k);
            figures.put("published", pubs.toMap());
            figures.put("all_reconnected", allConnected);
            figures.put("reconnected_ms", allConnected ? round((tConnected[0] - tClose) / 1e6) : -1);
            figures.put("publishing_ms", round((tPublished - tClose) / 1e6));
            figures.put("all_held_and_caught_up", caughtUp);
            figures.put("held_again_ms", caughtUp ? round((tHeld - tClose) / 1e6) : -1);
            figures.put("expected_deliveries", expected);
            figures.put("delivered", pool.deliveries.get());
            figures.put("errors_during_churn", pool.errorCount() - errorsBefore);
            figures.put("verification", loss.toMap());
            figures.put("client", pool.countersMap());
            figures.put("server_at_end", serverView(b));

            finished = true;
            out.println();
            out.printf(Locale.ROOT, "churn: %s subscribers on %s channel(s) closed at once and reconnected"
                    + " (rate %s), %s messages published meanwhile%n", fmtInt(n), fmtInt(k),
                    o.reconnectRate > 0 ? fmtInt((long) o.reconnectRate) + "/s" : "unlimited", fmtInt(pubs.ok.get() - k));
            out.printf(Locale.ROOT, "  all reconnected    %s%n",
                    allConnected ? String.format(Locale.ROOT, "%,.0f ms", (tConnected[0] - tClose) / 1e6) : "NO");
            out.printf(Locale.ROOT, "  all held again     %s (caught up with every message)%n",
                    caughtUp ? String.format(Locale.ROOT, "%,.0f ms", (tHeld - tClose) / 1e6) : "NO");
            out.printf(Locale.ROOT, "  server subscribers %s at the end (stale closed ones may still count)%n",
                    fmtInt(Admin.num(b, "subscribers")));
            printLoss(loss);
            printErrors(pool);
            double[] ms = new double[timeline.size()];
            double[][] cols = new double[3][timeline.size()];
            double[] full = {n, n, Math.max(1, expected - pre)}; // each line as % of where it must end
            for (int i = 0; i < timeline.size(); i++) {
                ms[i] = timeline.get(i)[0];
                for (int c = 0; c < 3; c++) {
                    cols[c][i] = 100.0 * timeline.get(i)[c + 1] / full[c];
                }
            }
            svg = Svg.lineChart(String.format(Locale.ROOT, "churn: %,d subscribers reconnect at once", n),
                    String.format(Locale.ROOT, "%s channel(s), %s messages published meanwhile; all held again in %s",
                            fmtInt(k), fmtInt(pubs.ok.get() - k),
                            caughtUp ? String.format(Locale.ROOT, "%,.0f ms", (tHeld - tClose) / 1e6) : "NEVER"),
                    "ms since every connection was closed", "% of subscribers / of messages due",
                    List.of(new Svg.Series("reconnected", "#1f77b4", ms, cols[0]),
                            new Svg.Series("held (request waiting)", "#2ca02c", ms, cols[1]),
                            new Svg.Series("messages delivered since the close", "#d62728", ms, cols[2])),
                    null);
            boolean ok = loss.noLoss() && allConnected && caughtUp && pubs.errors.get() == 0;
            out.println("churn: " + (ok ? "OK" : "FAILED"));
            return ok ? 0 : 1;
        } finally {
            pool.stop();
        }
    }

    // ------------------------------------------------------------------ shared steps

    private void openAndHold(SubscriberPool pool, int n, long baseSubs) throws Exception {
        progress = () -> poolLine(pool, n);
        pool.openUpTo(n, o.rate);
        double wait = 30 + (o.rate > 0 ? 2.0 * n / o.rate : n / 500.0);
        if (!waitUntil(() -> pool.outstanding.get() >= n, wait)) {
            warn("only " + pool.outstanding.get() + " of " + n + " subscribers held after " + round(wait) + " s");
        }
        if (baseSubs >= 0) {
            waitServerSubscribers(baseSubs + n, 5);
        }
    }

    /** Subscribers per channel times acknowledged pushes per channel. */
    private long expectedDeliveries(SubscriberPool pool, Publishers pubs, int k) {
        long[] subsOn = new long[k];
        for (SubscriberPool.Sub s : pool.subs()) {
            subsOn[o.channelIndex(s.id) % k]++;
        }
        long e = 0;
        for (int c = 0; c < k; c++) {
            e += subsOn[c] * pubs.acknowledged(c);
        }
        return e;
    }

    /** After the pool stopped: every subscriber's account against its channel's acknowledged range. */
    private LossReport verify(SubscriberPool pool, Publishers pubs) {
        LossReport r = new LossReport();
        int k = o.channelCount(pool.size());
        for (SubscriberPool.Sub s : pool.subs()) {
            int c = o.channelIndex(s.id);
            if (c >= k) {
                c = c % k;
            }
            int[] range = pubs.range(c, s.acct.base());
            r.add(s.acct.verify(range[0], range[1]));
        }
        if (pubs.nonContiguousChannels() > 0) {
            warn(pubs.nonContiguousChannels() + " channel(s) had acknowledged seqs that are not contiguous"
                    + " (another publisher on the same channel?)");
        }
        if (!pubs.seqsReported()) {
            warn("the server's /push answers carry no seq (plain icomet): ranges assumed from each"
                    + " subscriber's starting seq");
        }
        return r;
    }

    private void printLoss(LossReport loss) {
        out.printf(Locale.ROOT, "  verification   %s%n", loss.verdictText());
        if (loss.gapLost > 0) {
            out.println("                 server-reported gaps: subscribers re-polled more than channel_buffer_size"
                    + " messages late (server or client short of CPU?); lower --msg-rate or raise channel_buffer_size");
        }
        out.printf(Locale.ROOT, "                 %s subscribers checked, %s clean; expected %s, received %s,"
                        + " missing %s, duplicates %s, out of order %s, server-reported gaps %s, unexpected %s%n",
                fmtInt(loss.subscribers), fmtInt(loss.subscribersClean), fmtInt(loss.expected), fmtInt(loss.received),
                fmtInt(loss.missing), fmtInt(loss.duplicates), fmtInt(loss.outOfOrder), fmtInt(loss.gapLost),
                fmtInt(loss.unexpected));
    }

    private void printErrors(SubscriberPool pool) {
        out.printf(Locale.ROOT, "  client         connects %s, connect errors %s, I/O errors %s, server closes %s,"
                        + " reconnects %s, bad answers %s, other %s%n",
                fmtInt(pool.connects.get()), fmtInt(pool.connectErrors.get()), fmtInt(pool.ioErrors.get()),
                fmtInt(pool.serverCloses.get()), fmtInt(pool.reconnects.get()),
                fmtInt(pool.badStatus.get() + pool.badBody.get()), pool.countersMap().get("other_messages"));
        if (pool.firstErrorText != null) {
            out.println("  first error    " + pool.firstErrorText);
            if (pool.other.containsKey("429")) {
                out.println("                 (429: raise the server's max_subscribers_per_channel / max_channels)");
            }
        }
        for (String w : warnings) {
            out.println("  warning        " + w);
        }
    }

    private String latencyChart(LogHistogram h, String subtitle) {
        double[] ps = {0, 50, 75, 90, 99, 99.9, 99.99, 99.999};
        List<Double> xs = new ArrayList<>();
        List<Double> ys = new ArrayList<>();
        List<Svg.Tick> ticks = new ArrayList<>();
        for (double p : ps) {
            double x = Math.log10(1 / (1 - p / 100));
            xs.add(x);
            ys.add((p == 0 ? h.min() : h.percentile(p)) / 1e3);
            ticks.add(new Svg.Tick(x, p == 0 ? "min" : (p == Math.rint(p) ? String.valueOf((int) p) : String.valueOf(p)) + "%"));
        }
        double xMax = Math.log10(1 / (1 - 99.999 / 100)) + 0.4;
        xs.add(xMax);
        ys.add(h.max() / 1e3);
        ticks.add(new Svg.Tick(xMax, "max"));
        double[] x = xs.stream().mapToDouble(Double::doubleValue).toArray();
        double[] y = ys.stream().mapToDouble(Double::doubleValue).toArray();
        String unit = "microseconds";
        if (h.max() > 10_000_000L) {
            unit = "milliseconds";
            y = scale(y, 1e-3);
        }
        return Svg.lineChart(o.scenario + ": latency by percentile (" + fmtInt(h.count()) + " samples)", subtitle,
                "percentile", unit, List.of(new Svg.Series("latency", "#1f77b4", x, y)), ticks);
    }

    /**
     * Caps the connection count by the client's and the server's open-file limits minus a margin of
     * 500 (the server also needs descriptors for its ports, files and admin clients).
     */
    int cap(int requested, Map<String, Object> info) {
        long client = clientMaxFds();
        long serverMax = Admin.num(info, "max_fds");
        long serverOpen = Math.max(0, Admin.num(info, "open_fds"));
        long clientCap = client > 0 ? client - 500 - o.publishers : Long.MAX_VALUE;
        long serverCap = serverMax > 0 ? serverMax - serverOpen - 500 : Long.MAX_VALUE;
        long cap = Math.max(0, Math.min(clientCap, serverCap));
        Map<String, Object> fd = new LinkedHashMap<>();
        fd.put("client_max_fds", client);
        fd.put("server_max_fds", serverMax);
        fd.put("server_open_fds_at_start", Admin.num(info, "open_fds"));
        fd.put("requested", requested);
        if (requested > cap) {
            String who = serverCap <= clientCap
                    ? "server open-file limit " + serverMax + " (" + serverOpen + " in use)"
                    : "client open-file limit " + client;
            String msg = String.format(Locale.ROOT, "capping connections at %,d: %s (raise nofile, see docs/TUNING.md)",
                    cap, who);
            out.println("bench: " + msg);
            warn(msg);
            requested = (int) cap;
        }
        fd.put("connections", requested);
        result.put("fd_limits", fd);
        long perSource = ephemeralPorts();
        if (!o.sources.isEmpty() && perSource > 0 && requested / o.sources.size() > perSource) {
            warn("each source address has only " + perSource + " ephemeral ports: use more --sources");
        }
        return requested;
    }

    private void waitServerSubscribers(long atLeast, double seconds) throws InterruptedException {
        long end = System.nanoTime() + (long) (seconds * 1e9);
        while (System.nanoTime() - end < 0 && !pastDeadline()) {
            try {
                if (Admin.num(admin.info(false), "subscribers") >= atLeast) {
                    return;
                }
            } catch (IOException e) {
                warn("/info failed: " + e.getMessage());
                return;
            }
            Thread.sleep(100);
        }
        warn("the server did not report " + atLeast + " subscribers within " + seconds + " s");
    }

    /** Polls a condition every 10 ms until true, {@code seconds} passed or the hard deadline. */
    boolean waitUntil(BooleanSupplier cond, double seconds) throws InterruptedException {
        long end = System.nanoTime() + (long) (seconds * 1e9);
        while (true) {
            if (cond.getAsBoolean()) {
                return true;
            }
            long now = System.nanoTime();
            if (now - end >= 0 || pastDeadline()) {
                return cond.getAsBoolean();
            }
            Thread.sleep(10);
        }
    }

    private boolean pastDeadline() {
        return System.nanoTime() - deadline >= 0;
    }

    private void warn(String w) {
        if (!warnings.contains(w)) {
            warnings.add(w);
        }
    }

    // ------------------------------------------------------------------ progress

    private long lastConnects;
    private long lastProgressNanos = System.nanoTime();

    private String poolLine(SubscriberPool pool, int n) {
        long now = System.nanoTime();
        long c = pool.connects.get();
        double rate = (c - lastConnects) / Math.max(1e-9, (now - lastProgressNanos) / 1e9);
        lastConnects = c;
        lastProgressNanos = now;
        return String.format(Locale.ROOT, "conns %s/%s (+%,.0f/s) held %s deliveries %s noops %s errors %s",
                fmtInt(pool.connected.get()), fmtInt(n), rate, fmtInt(pool.outstanding.get()),
                fmtInt(pool.deliveries.get()), fmtInt(pool.noops.get()), fmtInt(pool.errorCount()));
    }

    private void progressLoop() {
        try {
            while (!finished) {
                Thread.sleep(1000);
                if (finished) {
                    return;
                }
                out.printf(Locale.ROOT, "[%s %6.1fs] %s%n", o.scenario, (System.nanoTime() - t0) / 1e9,
                        progress.get());
            }
        } catch (InterruptedException ignored) {
            // end
        }
    }

    // ------------------------------------------------------------------ machine, files, maths

    private Map<String, Object> machine() {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("cores", Runtime.getRuntime().availableProcessors());
        m.put("ram_bytes", memTotal());
        m.put("os", System.getProperty("os.name") + " " + System.getProperty("os.version"));
        m.put("client_jdk", System.getProperty("java.vm.name") + " " + System.getProperty("java.runtime.version"));
        m.put("client_max_fds", clientMaxFds());
        m.put("ephemeral_ports", ephemeralPorts());
        return m;
    }

    private static Map<String, Object> serverView(Map<String, Object> info) {
        Map<String, Object> m = new LinkedHashMap<>();
        for (String key : new String[] {"version", "channels", "subscribers", "held_poll", "published", "delivered",
                "dropped_slow", "rejected", "rss_bytes", "heap_used_bytes", "heap_max_bytes", "process_cpu_ns",
                "uptime_ms", "open_fds", "max_fds"}) {
            if (info != null && info.containsKey(key)) {
                m.put(key, info.get(key));
            }
        }
        return m;
    }

    private static String serverVersion(Map<String, Object> info) {
        Object v = info.get("version");
        return v == null ? "server" : "server " + v;
    }

    /** CPU time of this client process (all threads), to show the client was not the bottleneck. */
    private static long clientCpuNanos() {
        java.lang.management.OperatingSystemMXBean os = java.lang.management.ManagementFactory.getOperatingSystemMXBean();
        if (os instanceof com.sun.management.OperatingSystemMXBean sun) {
            return sun.getProcessCpuTime();
        }
        return -1;
    }

    /** Soft "Max open files" of this process from /proc/self/limits (-1 if unknown). */
    static long clientMaxFds() {
        return io.jcomet.os.OpenFileLimit.ofThisProcess().soft();
    }

    private static long memTotal() {
        try {
            for (String l : Files.readAllLines(Path.of("/proc/meminfo"))) {
                if (l.startsWith("MemTotal:")) {
                    return Long.parseLong(l.replaceAll("[^0-9]", "")) * 1024;
                }
            }
        } catch (IOException | RuntimeException ignored) {
            // not Linux
        }
        return -1;
    }

    private static long ephemeralPorts() {
        try {
            // readAllLines, not readString: some kernels report a bogus size for /proc/sys files
            String[] p = Files.readAllLines(Path.of("/proc/sys/net/ipv4/ip_local_port_range")).get(0).trim()
                    .split("\\s+");
            return Long.parseLong(p[1]) - Long.parseLong(p[0]) + 1;
        } catch (IOException | RuntimeException e) {
            return -1;
        }
    }

    private static void write(String file, String text) throws IOException {
        Path p = Path.of(file);
        if (p.getParent() != null) {
            Files.createDirectories(p.getParent());
        }
        Files.writeString(p, text, StandardCharsets.UTF_8);
    }

    /** Least-squares slope of y over x (points with y &lt; 0, i.e. unknown, are skipped). */
    static double slope(double[] x, double[] y) {
        double sx = 0;
        double sy = 0;
        double sxx = 0;
        double sxy = 0;
        int n = 0;
        for (int i = 0; i < x.length; i++) {
            if (y[i] < 0) {
                continue;
            }
            sx += x[i];
            sy += y[i];
            sxx += x[i] * x[i];
            sxy += x[i] * y[i];
            n++;
        }
        double d = n * sxx - sx * sx;
        return n < 2 || d == 0 ? Double.NaN : (n * sxy - sx * sy) / d;
    }

    private static double[] col(List<Map<String, Object>> rows, String key) {
        double[] r = new double[rows.size()];
        for (int i = 0; i < r.length; i++) {
            r[i] = ((Number) rows.get(i).get(key)).doubleValue();
        }
        return r;
    }

    private static double[] scale(double[] v, double f) {
        double[] r = new double[v.length];
        for (int i = 0; i < v.length; i++) {
            r[i] = v[i] < 0 ? 0 : v[i] * f;
        }
        return r;
    }

    private static double mb(Object bytes) {
        long b = ((Number) bytes).longValue();
        return b < 0 ? -1 : b / 1048576.0;
    }

    private static double round(double v) {
        return Double.isNaN(v) ? v : Math.round(v * 100) / 100.0;
    }

    static String fmtInt(long v) {
        return String.format(Locale.ROOT, "%,d", v);
    }
}
