package io.jcomet.bench;

import static io.jcomet.bench.Numbers.fmtInt;
import static io.jcomet.bench.Numbers.round;

import java.util.Locale;
import java.util.Map;

/**
 * The {@code fanout} scenario: {@code --connections} subscribers held on one channel (or K), then
 * {@code --messages} pushed at {@code --msg-rate} (after {@code --warmup} messages left out of the
 * figures); reports deliveries/s, delivery latency, server CPU per delivery, and verifies every
 * subscriber's account: every seq once, in order, none missing.
 *
 * <p>Threads: the scenario thread; the pool and the publishers have their own.
 */
final class FanoutScenario extends Scenario {

    FanoutScenario(BenchRun run) {
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
            int publishers = Math.max(1, Math.min(o.publishers, Math.max(1, o.messages)));
            Publishers pubs = new Publishers(o, publishers, k, o::channelName);
            run.progress(() -> run.poolLine(pool, n) + " | pushed " + fmtInt(pubs.ok.get()) + "/"
                    + fmtInt((long) o.warmup + o.messages) + " push errors " + pubs.errors.get());
            if (o.warmup > 0) {
                pubs.run(o.warmup, 0, o.msgRate, run.deadline);
                long warm = pool.expectedDeliveries(pubs, k);
                if (!run.waitUntil(() -> pool.deliveries.get() + pool.gapSeqs.get() >= warm
                        && pool.outstanding.get() >= n, o.drain)) {
                    run.warn("warm-up: only " + pool.deliveries.get() + " of " + warm + " deliveries arrived");
                }
                pool.resetLatency();
            }
            long delivered0 = pool.deliveries.get();
            long pushed0 = pubs.ok.get();
            Map<String, Object> a = run.server.info(false);
            pubs.run((long) o.warmup + o.messages, 0, o.msgRate, run.deadline);
            long expected = pool.expectedDeliveries(pubs, k);
            // messages the server declared lost will never come: stop waiting for them
            boolean drained = run.waitUntil(() -> pool.deliveries.get() + pool.gapSeqs.get() >= expected, o.drain);
            Map<String, Object> b = run.server.info(false);
            pool.stop();
            long delivered = pool.deliveries.get() - delivered0;
            long cpu = ServerProbe.cpuNanos(a, b);
            LossReport loss = run.verify(pool, pubs);
            LogHistogram lat = pool.latency();
            LogHistogram last = pool.lastDeliveryLatency();
            double spanS = (pool.lastDeliveryNanos.get() - pubs.startNanos) / 1e9;
            double perS = spanS > 0 ? delivered / spanS : 0;
            double cpuUs = delivered > 0 && ServerProbe.knowsCpu(a) ? cpu / 1000.0 / delivered : -1;

            run.figures.put("subscribers", n);
            run.figures.put("channels", k);
            run.figures.put("published", pubs.toMap());
            run.figures.put("warmup_messages_excluded", o.warmup);
            run.figures.put("measured_messages", pubs.ok.get() - pushed0);
            run.figures.put("achieved_msg_per_s", pubs.seconds() > 0 ? round((pubs.ok.get() - pushed0) / pubs.seconds()) : 0);
            run.figures.put("expected_deliveries", expected);
            run.figures.put("delivered_total", pool.deliveries.get());
            run.figures.put("delivered_measured", delivered);
            run.figures.put("drained", drained);
            run.figures.put("deliveries_per_s", round(perS));
            run.figures.put("latency", lat.summaryMicros());
            run.figures.put("last_delivery_latency_per_message", last.summaryMicros());
            run.figures.put("latency_buckets_ns", lat.buckets());
            run.figures.put("server_cpu_ns", cpu);
            run.figures.put("server_cpu_us_per_delivery", round(cpuUs));
            run.figures.put("verification", loss.toMap());
            run.figures.put("client", pool.countersMap());
            run.figures.put("server_at_end", ServerProbe.view(b));

            run.finished();
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
            Report.printLoss(out, loss);
            Report.printErrors(out, pool, run.warnings);
            run.svg = Report.latencyChart(o.scenario, lat, String.format(Locale.ROOT, "fanout %,d subscribers, %,d channel(s), %,d messages"
                    + " at %s/s; %,.0f deliveries/s", n, k, pubs.ok.get(),
                    o.msgRate > 0 ? fmtInt((long) o.msgRate) : "max", perS));
            boolean ok = loss.noLoss() && pubs.errors.get() == 0 && drained;
            out.println("fanout: " + (ok ? "OK" : "FAILED"));
            return ok ? 0 : 1;
        } finally {
            pool.stop();
        }
    }
}
