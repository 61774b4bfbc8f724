package io.jcomet.bench;

import static io.jcomet.bench.Numbers.fmtInt;
import static io.jcomet.bench.Numbers.round;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * The {@code churn} scenario: {@code --connections} subscribers held, one message per channel, then
 * every connection closed at once and reconnected (at {@code --reconnect-rate}) with seq = last + 1
 * while {@code --messages} are published; reports the time until all reconnected and until all are
 * held again and caught up, and verifies that no message was lost.
 *
 * <p>Threads: the scenario thread and one publisher thread; the pool has its own reactors.
 */
final class ChurnScenario extends Scenario {

    ChurnScenario(BenchRun run) {
        super(run);
    }

    @Override
    int run(Map<String, Object> info0) throws Exception {
        int n = run.cap(o.connections, info0);
        int k = o.channelCount(n);
        long baseSubs = ServerProbe.num(info0, "subscribers");
        SubscriberPool pool = new SubscriberPool(o, 1);
        try {
            run.openAndHold(pool, n, baseSubs);
            Publishers pubs = new Publishers(o, o.publishers, k, o::channelName);
            // one message per channel first, so that every subscriber resumes from seq > 1
            run.progress(() -> run.poolLine(pool, n) + " | pushed " + fmtInt(pubs.ok.get()));
            pubs.run(k, 0, 0, run.deadline);
            long pre = pool.expectedDeliveries(pubs, k);
            if (!run.waitUntil(() -> pool.deliveries.get() >= pre && pool.outstanding.get() >= n, o.drain)) {
                run.warn("before the churn only " + pool.deliveries.get() + " of " + pre + " first messages arrived");
            }
            long connectsBefore = pool.connects.get();
            long errorsBefore = pool.errorCount();
            long handshakesBefore = pool.tlsHandshakes.get();
            long resumedBefore = pool.tlsResumed.get();
            Map<String, Object> a = run.server.info(false);
            pool.closeAll();
            long tClose = System.nanoTime();
            long[] tConnected = {0};
            // timeline for the chart: ms since the close, reconnected, held, delivered (waitUntil polls every 10 ms)
            List<double[]> timeline = new ArrayList<>();
            Runnable sample = () -> timeline.add(new double[] {(System.nanoTime() - tClose) / 1e6,
                    pool.connects.get() - connectsBefore, pool.outstanding.get(), pool.deliveries.get() - pre});
            Thread publisher = new Thread(() -> {
                try {
                    pubs.run((long) k + o.messages, 0, o.msgRate, run.deadline);
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
            }, "bench-churn-publisher");
            publisher.setDaemon(true);
            publisher.start();
            pool.reconnectAll(o.reconnectRate);
            run.progress(() -> run.poolLine(pool, n) + " | reconnected " + fmtInt(pool.connects.get() - connectsBefore)
                    + " pushed " + fmtInt(pubs.ok.get() - k) + "/" + fmtInt(o.messages));
            boolean allConnected = run.waitUntil(() -> {
                sample.run();
                // with --tls a subscriber has reconnected once its handshake is done
                if (tConnected[0] == 0 && pool.connects.get() - connectsBefore >= n
                        && (pool.tls == null || pool.tlsHandshakes.get() - handshakesBefore >= n)) {
                    tConnected[0] = System.nanoTime();
                }
                return tConnected[0] != 0;
            }, Math.max(30, o.drain));
            Map<String, Object> atReconnected = run.server.info(false);
            // the server's CPU from the close until all reconnected, per reconnection (with --tls: its handshake)
            double cpuUsPerReconnect = ServerProbe.knowsCpu(a) ? ServerProbe.cpuNanos(a, atReconnected) / 1000.0 / n : -1;
            double reconnectS = allConnected ? (tConnected[0] - tClose) / 1e9 : -1;
            long handshakes = pool.tlsHandshakes.get() - handshakesBefore;
            long resumed = pool.tlsResumed.get() - resumedBefore;
            run.waitUntil(() -> {
                sample.run();
                return !publisher.isAlive();
            }, Math.max(0.001, (run.deadline - System.nanoTime()) / 1e9));
            publisher.join(1000); // ended (or past the deadline: the scenario then reports what it has)
            long tPublished = System.nanoTime();
            long expected = pool.expectedDeliveries(pubs, k);
            boolean caughtUp = run.waitUntil(() -> {
                sample.run();
                return pool.deliveries.get() + pool.gapSeqs.get() >= expected && pool.outstanding.get() >= n;
            }, o.drain);
            sample.run();
            long tHeld = System.nanoTime();
            Map<String, Object> b = run.server.info(false);
            pool.stop();
            LossReport loss = run.verify(pool, pubs);

            run.figures.put("subscribers", n);
            run.figures.put("channels", k);
            run.figures.put("published", pubs.toMap());
            run.figures.put("all_reconnected", allConnected);
            run.figures.put("reconnected_ms", allConnected ? round((tConnected[0] - tClose) / 1e6) : -1);
            run.figures.put("reconnects_per_s", allConnected ? round(n / reconnectS) : -1);
            run.figures.put("server_cpu_us_per_reconnect", round(cpuUsPerReconnect));
            if (pool.tls != null) {
                run.figures.put("tls", o.tls);
                run.figures.put("tls_handshakes_during_churn", handshakes);
                run.figures.put("tls_resumed_during_churn", resumed);
            }
            run.figures.put("publishing_ms", round((tPublished - tClose) / 1e6));
            run.figures.put("all_held_and_caught_up", caughtUp);
            run.figures.put("held_again_ms", caughtUp ? round((tHeld - tClose) / 1e6) : -1);
            run.figures.put("expected_deliveries", expected);
            run.figures.put("delivered", pool.deliveries.get());
            run.figures.put("errors_during_churn", pool.errorCount() - errorsBefore);
            run.figures.put("verification", loss.toMap());
            run.figures.put("client", pool.countersMap());
            run.figures.put("server_at_end", ServerProbe.view(b));

            run.finished();
            out.println();
            out.printf(Locale.ROOT, "churn: %s subscribers on %s channel(s) closed at once and reconnected"
                    + " (rate %s), %s messages published meanwhile%n", fmtInt(n), fmtInt(k),
                    o.reconnectRate > 0 ? fmtInt((long) o.reconnectRate) + "/s" : "unlimited", fmtInt(pubs.ok.get() - k));
            out.printf(Locale.ROOT, "  all reconnected    %s%n",
                    allConnected ? String.format(Locale.ROOT, "%,.0f ms", (tConnected[0] - tClose) / 1e6) : "NO");
            out.printf(Locale.ROOT, "  reconnects/s       %s; server CPU %,.1f us per reconnect (close to all reconnected)%n",
                    allConnected ? String.format(Locale.ROOT, "%,.0f", n / reconnectS) : "-", cpuUsPerReconnect);
            if (pool.tls != null) {
                out.printf(Locale.ROOT, "  TLS handshakes     %s during the churn, %s of them resumed (--tls %s)%n",
                        fmtInt(handshakes), fmtInt(resumed), o.tls);
            }
            out.printf(Locale.ROOT, "  all held again     %s (caught up with every message)%n",
                    caughtUp ? String.format(Locale.ROOT, "%,.0f ms", (tHeld - tClose) / 1e6) : "NO");
            out.printf(Locale.ROOT, "  server subscribers %s at the end (stale closed ones may still count)%n",
                    fmtInt(ServerProbe.num(b, "subscribers")));
            Report.printLoss(out, loss);
            Report.printErrors(out, pool, run.warnings);
            double[] ms = new double[timeline.size()];
            double[][] cols = new double[3][timeline.size()];
            double[] full = {n, n, Math.max(1, expected - pre)}; // each line as % of where it must end
            for (int i = 0; i < timeline.size(); i++) {
                ms[i] = timeline.get(i)[0];
                for (int c = 0; c < 3; c++) {
                    cols[c][i] = 100.0 * timeline.get(i)[c + 1] / full[c];
                }
            }
            run.svg = Svg.lineChart(String.format(Locale.ROOT, "churn: %,d subscribers reconnect at once", n),
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
}
