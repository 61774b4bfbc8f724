package io.jcomet.bench;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.atomic.AtomicLong;

/**
 * The {@code soak} scenario: for {@code --duration} seconds (default 600) everything that wears a
 * server down happens at once, then the clients leave and the server must come back to where it
 * started.
 * <ul>
 * <li>{@code --connections} verified long-poll subscribers ({@link SubscriberPool}); every
 * {@value #CHURN_SECONDS} s all of them close at once and reconnect with seq = last + 1;</li>
 * <li>publishers push at {@code --msg-rate} (default 200/s) to their channels the whole time;</li>
 * <li>leavers: {@value #LEAVERS_PER_SECOND} raw connections a second subscribe (long-poll or
 * stream) and vanish a moment later, half with a FIN, half with a reset;</li>
 * <li>slow readers: {@value #SLOW_READERS} streams with a tiny receive buffer that never read, on a
 * channel that gets 6 KB messages at 100/s, so the server must drop them as too slow; they come back every
 * churn.</li>
 * </ul>
 * Every second the server's /info is sampled (fds, heap, RSS, held, counters), every 10 s after a
 * GC. At the end: the verified subscribers must have every message (a gap the server reported is
 * counted, a silent loss fails), and after the clients leave and the channels expire, the server's
 * open fds and heap after GC must be back at their baseline.
 *
 * <p>Built on the same parts as the other scenarios: {@link SubscriberPool} (verified subscribers),
 * {@link Publishers}, the run's {@link ServerProbe} and its shared steps (open and hold, wait, verify).
 *
 * <p>Threads: the scenario thread runs {@link #run} and samples; one publisher thread, one leaver
 * thread, one slow-publisher thread; the pool has its own reactors.
 */
final class SoakScenario extends Scenario {
    static final int CHURN_SECONDS = 20;
    static final int LEAVERS_PER_SECOND = 100;
    static final int SLOW_READERS = 12; // under icomet's default of 16 per channel
    /** Back at baseline: fds within this many of the start, heap after GC within this many bytes or 10 %. */
    static final int FD_SLACK = 32;
    static final long HEAP_SLACK_BYTES = 16L << 20;

    private final AtomicLong leavers = new AtomicLong();
    private final AtomicLong leaverErrors = new AtomicLong();
    private final AtomicLong slowConnects = new AtomicLong();
    private final AtomicLong slowPushes = new AtomicLong();
    private volatile boolean stopping;

    SoakScenario(BenchRun run) {
        super(run);
    }

    @Override
    int run(Map<String, Object> info0) throws Exception {
        int n = o.connections;
        int k = o.channelCount(n);
        double rate = o.msgRate > 0 ? o.msgRate : 200;
        Map<String, Object> base = run.server.info(true);
        long fds0 = ServerProbe.num(base, "open_fds");
        long heap0 = ServerProbe.num(base, "heap_used_bytes");
        long channels0 = ServerProbe.num(base, "channels");
        long t0 = System.nanoTime();
        List<double[]> timeline = new ArrayList<>(); // s, fds, held, heap MB, rss MB, heap after GC MB (or NaN)
        SubscriberPool pool = new SubscriberPool(o, 1);
        Publishers pubs = new Publishers(o, Math.min(o.publishers, 4), k, o::channelName);
        List<Socket> slow = new ArrayList<>();
        Thread publisher = daemon("soak-publisher", () -> {
            try {
                pubs.run(-1, o.duration, rate, run.deadline);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        });
        Thread leaverThread = daemon("soak-leavers", this::leaverLoop);
        Thread slowPublisher = daemon("soak-slow-publisher", this::slowPublishLoop);
        SoakAttacks attacks = o.attackers.isEmpty() ? null : new SoakAttacks(o, o.attackers, run.deadline);
        LossReport loss;
        boolean caughtUp;
        Map<String, Object> end;
        try {
            run.openAndHold(pool, n, ServerProbe.num(info0, "subscribers"));
            run.progress(() -> null); // from here the soak prints its own line each second, from its /info sample
            openSlow(slow);
            publisher.start();
            leaverThread.start();
            slowPublisher.start();
            if (attacks != null) {
                out.println("soak: hostile clients from " + o.attackers + " (the server must not exempt them)");
                attacks.start();
            }
            long endAt = t0 + (long) (o.duration * 1e9);
            long nextChurn = System.nanoTime() + CHURN_SECONDS * 1_000_000_000L;
            int tick = 0;
            while (System.nanoTime() < endAt && System.nanoTime() < run.deadline) {
                Thread.sleep(1000);
                tick++;
                Map<String, Object> i = run.server.info(tick % 10 == 0);
                double s = (System.nanoTime() - t0) / 1e9;
                timeline.add(new double[] {s, ServerProbe.num(i, "open_fds"), ServerProbe.num(i, "subscribers"),
                        ServerProbe.num(i, "heap_used_bytes") / 1048576.0, ServerProbe.num(i, "rss_bytes") / 1048576.0,
                        tick % 10 == 0 ? ServerProbe.num(i, "heap_used_bytes") / 1048576.0 : Double.NaN});
                out.printf(Locale.ROOT, "[soak %6.1fs] fds %d held %d heap %.0f MB rss %.0f MB | published %d disconnected %d"
                                + " dropped_slow %d | leavers %d | client held %d deliveries %d%n",
                        s, ServerProbe.num(i, "open_fds"), ServerProbe.num(i, "subscribers"), ServerProbe.num(i, "heap_used_bytes") / 1048576.0,
                        ServerProbe.num(i, "rss_bytes") / 1048576.0, ServerProbe.num(i, "published"), ServerProbe.num(i, "disconnected"),
                        ServerProbe.num(i, "dropped_slow"), leavers.get(), pool.outstanding.get(), pool.deliveries.get());
                if (attacks != null && tick % 10 == 0) {
                    out.println("[soak attacks] " + attacks.summary());
                }
                if (System.nanoTime() - nextChurn >= 0) {
                    nextChurn += CHURN_SECONDS * 1_000_000_000L;
                    pool.closeAll();
                    pool.reconnectAll(o.reconnectRate);
                    closeAll(slow);
                    openSlow(slow);
                }
            }
            stopping = true;
            if (attacks != null) {
                attacks.stop();
            }
            publisher.join(60_000);
            leaverThread.join(5_000);
            slowPublisher.join(5_000);
            closeAll(slow);
            long expected = pool.expectedDeliveries(pubs, k);
            caughtUp = run.waitUntil(() -> pool.deliveries.get() + pool.gapSeqs.get() >= expected, o.drain);
            pool.stop();
            loss = run.verify(pool, pubs);
            // the clients are gone: the server must come back to its baseline
            out.println("soak: clients gone; waiting for the server to release subscribers and expire channels");
            boolean released = run.waitUntilServer(() -> ServerProbe.num(run.server.info(false), "subscribers") == 0, 15);
            int channelTimeout = 30 + 15;
            boolean expired = run.waitUntilServer(() -> ServerProbe.num(run.server.info(false), "channels") <= channels0,
                    channelTimeout);
            out.printf(Locale.ROOT, "soak: subscribers released %s, channels expired %s%n", released, expired);
            end = run.server.info(true);
            run.figures.put("subscribers_released", released);
            run.figures.put("channels_expired", expired);
        } finally {
            stopping = true;
            if (attacks != null) {
                attacks.stop();
            }
            pool.stop();
            closeAll(slow);
        }
        long fds1 = ServerProbe.num(end, "open_fds");
        long heap1 = ServerProbe.num(end, "heap_used_bytes");
        boolean fdsBack = fds1 <= fds0 + FD_SLACK;
        boolean heapBack = heap1 <= heap0 + Math.max(HEAP_SLACK_BYTES, heap0 / 10);
        // under attack, a newcomer from a well-behaved address must always get into the room
        boolean roomOpen = attacks == null || attacks.probesRefused.get() == 0;
        boolean ok = fdsBack && heapBack && loss.noLoss() && pubs.errors.get() == 0 && roomOpen;
        LogHistogram latency = pool.latency();
        run.figures.put("subscribers", n);
        run.figures.put("channels", k);
        run.figures.put("duration_s", o.duration);
        run.figures.put("published", pubs.toMap());
        run.figures.put("all_delivered", caughtUp);
        run.figures.put("verification", loss.toMap());
        run.figures.put("leavers", leavers.get());
        run.figures.put("leaver_errors", leaverErrors.get());
        run.figures.put("slow_reader_connects", slowConnects.get());
        run.figures.put("slow_pushes", slowPushes.get());
        run.figures.put("baseline", Map.of("open_fds", fds0, "heap_after_gc_bytes", heap0, "channels", channels0));
        run.figures.put("after", Map.of("open_fds", fds1, "heap_after_gc_bytes", heap1, "channels", ServerProbe.num(end, "channels")));
        run.figures.put("server_counters_at_end", Map.of("disconnected", ServerProbe.num(end, "disconnected"),
                "dropped_slow", ServerProbe.num(end, "dropped_slow"), "published", ServerProbe.num(end, "published"),
                "delivered", ServerProbe.num(end, "delivered")));
        run.figures.put("fds_back", fdsBack);
        run.figures.put("heap_back", heapBack);
        run.figures.put("client", pool.countersMap());
        run.figures.put("latency", latency.summaryMicros());
        if (attacks != null) {
            run.figures.put("attacks", attacks.toMap());
        }

        out.println();
        out.printf(Locale.ROOT, "soak: %.0f s, %,d verified subscribers churned every %d s, %,d published (%s/s), %,d leavers, %,d slow-reader connects%n",
                o.duration, n, CHURN_SECONDS, pubs.ok.get(), fmt(rate), leavers.get(), slowConnects.get());
        out.printf(Locale.ROOT, "  server counted    disconnected %,d, dropped_slow %,d%n",
                ServerProbe.num(end, "disconnected"), ServerProbe.num(end, "dropped_slow"));
        out.printf(Locale.ROOT, "  open fds          %d at start, %d after the clients left (%s)%n", fds0, fds1, fdsBack ? "back" : "NOT BACK");
        out.printf(Locale.ROOT, "  heap after GC     %.1f MB at start, %.1f MB after (%s)%n", heap0 / 1048576.0, heap1 / 1048576.0,
                heapBack ? "back" : "NOT BACK");
        out.printf(Locale.ROOT, "  verification      %s%n", loss.verdictText());
        out.printf(Locale.ROOT, "  latency us        p50 %,.0f  p99 %,.0f  p99.9 %,.0f  max %,.0f (verified subscribers)%n",
                latency.percentile(50) / 1e3, latency.percentile(99) / 1e3, latency.percentile(99.9) / 1e3, latency.max() / 1e3);
        if (attacks != null) {
            out.printf(Locale.ROOT, "  attacks           %s%n", attacks.summary());
            out.printf(Locale.ROOT, "  room              %s%n", roomOpen ? "a newcomer always got in" : "NEWCOMERS REFUSED");
        }
        out.println("soak: " + (ok ? "OK" : "FAILED"));

        double[] xs = new double[timeline.size()];
        double[][] ys = new double[4][timeline.size()];
        List<Double> gcX = new ArrayList<>();
        List<Double> gcY = new ArrayList<>();
        for (int i = 0; i < timeline.size(); i++) {
            double[] r = timeline.get(i);
            xs[i] = r[0];
            ys[0][i] = r[1];
            ys[1][i] = r[2];
            ys[2][i] = r[3];
            ys[3][i] = r[4];
            if (!Double.isNaN(r[5])) {
                gcX.add(r[0]);
                gcY.add(r[5]);
            }
        }
        List<Svg.Series> series = new ArrayList<>(List.of(
                new Svg.Series("server open fds", "#1f77b4", xs, ys[0]),
                new Svg.Series("held subscribers", "#2ca02c", xs, ys[1]),
                new Svg.Series("heap used (MB)", "#ff7f0e", xs, ys[2]),
                new Svg.Series("RSS (MB)", "#9467bd", xs, ys[3])));
        if (!gcX.isEmpty()) {
            series.add(new Svg.Series("heap after GC (MB)", "#d62728",
                    gcX.stream().mapToDouble(Double::doubleValue).toArray(), gcY.stream().mapToDouble(Double::doubleValue).toArray()));
        }
        run.svg = Svg.lineChart(String.format(Locale.ROOT, "soak: %.0f s of churn, leavers, slow readers and publishing", o.duration),
                String.format(Locale.ROOT, "%,d verified subscribers; after they left: fds %d -> %d, heap after GC %.0f -> %.0f MB; %s",
                        n, fds0, fds1, heap0 / 1048576.0, heap1 / 1048576.0, ok ? "OK" : "FAILED"),
                "seconds", "count / MB", series, null);
        return ok ? 0 : 1;
    }

    // ------------------------------------------------------------------ abusive clients

    /** Subscribes and vanishes, LEAVERS_PER_SECOND a second; every other one with a reset. */
    private void leaverLoop() {
        long i = 0;
        long next = System.nanoTime();
        while (!stopping && System.nanoTime() < run.deadline) {
            next += 1_000_000_000L / LEAVERS_PER_SECOND;
            long wait = next - System.nanoTime();
            if (wait > 0) {
                sleepNanos(wait);
            }
            int port = o.ports[(int) (i % o.ports.length)];
            String path = (i % 3 == 0 ? "/stream" : "/sub") + "?cname=" + o.prefix + "x" + (i % 500) + "&seq=1";
            try (Socket s = new Socket()) {
                s.connect(new InetSocketAddress(o.hostAddress, port), 2000);
                s.getOutputStream().write(("GET " + path + " HTTP/1.1\r\nHost: x\r\n\r\n").getBytes(StandardCharsets.US_ASCII));
                s.getOutputStream().flush();
                if (i % 2 == 0) {
                    s.setSoLinger(true, 0);
                }
                leavers.incrementAndGet();
            } catch (IOException e) {
                leaverErrors.incrementAndGet();
            }
            i++;
        }
    }

    private String slowChannel() {
        return o.prefix + "slow";
    }

    private void openSlow(List<Socket> slow) {
        for (int i = 0; i < SLOW_READERS; i++) {
            try {
                Socket s = new Socket();
                s.setReceiveBufferSize(1024); // never read: the server's writes back up at once
                s.connect(new InetSocketAddress(o.hostAddress, o.ports[i % o.ports.length]), 2000);
                s.getOutputStream().write(("GET /stream?cname=" + slowChannel() + "&seq=1 HTTP/1.1\r\nHost: x\r\n\r\n")
                        .getBytes(StandardCharsets.US_ASCII));
                slow.add(s);
                slowConnects.incrementAndGet();
            } catch (IOException e) {
                run.warn("slow reader: " + e);
            }
        }
    }

    private static void closeAll(List<Socket> sockets) {
        for (Socket s : sockets) {
            try {
                s.close();
            } catch (IOException ignored) {
                // gone already
            }
        }
        sockets.clear();
    }

    /**
     * 6 KB messages to the slow readers' channel, 100 a second (600 KB/s: more than socket buffers
     * take between two churns; 6 KB because /push carries content in its query, under 8 KB of header).
     */
    private void slowPublishLoop() {
        String content = "s".repeat(6 * 1024);
        try (Admin a = new Admin(o)) {
            while (!stopping && System.nanoTime() < run.deadline) {
                sleepNanos(10_000_000L);
                try {
                    if (a.push(slowChannel(), content).ok()) {
                        slowPushes.incrementAndGet();
                    }
                } catch (IOException e) {
                    // counted by the server; the soak goes on
                }
            }
        }
    }

    // ------------------------------------------------------------------ helpers

    private static Thread daemon(String name, Runnable r) {
        Thread t = new Thread(r, name);
        t.setDaemon(true);
        return t;
    }

    private static void sleepNanos(long nanos) {
        try {
            Thread.sleep(nanos / 1_000_000, (int) (nanos % 1_000_000));
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    private static String fmt(double v) {
        return String.format(Locale.ROOT, "%,.0f", v);
    }
}
