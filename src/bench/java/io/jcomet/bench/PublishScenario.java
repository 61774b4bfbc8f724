package io.jcomet.bench;

import static io.jcomet.bench.Numbers.fmtInt;
import static io.jcomet.bench.Numbers.round;

import java.util.Locale;
import java.util.Map;

/**
 * The {@code publish} scenario: admin /push throughput of {@code --publishers} keep-alive clients for
 * {@code --duration} s, optionally with {@code --connections} subscribers held on the pushed
 * channels; reports pushes/s, push round trip and server CPU per push.
 *
 * <p>Threads: the scenario thread; the pool and the publishers have their own.
 */
final class PublishScenario extends Scenario {

    PublishScenario(BenchRun run) {
        super(run);
    }

    @Override
    int run(Map<String, Object> info0) throws Exception {
        int n = o.connections > 0 ? run.cap(o.connections, info0) : 0;
        int k = o.channelCount(Math.max(n, 1));
        long baseSubs = ServerProbe.num(info0, "subscribers");
        SubscriberPool pool = new SubscriberPool(o, 1);
        try {
            if (n > 0) {
                run.openAndHold(pool, n, baseSubs);
            }
            Publishers pubs = new Publishers(o, o.publishers, k, o::channelName);
            long[] lastOk = {0};
            long[] lastT = {System.nanoTime()};
            run.progress(() -> {
                long now = System.nanoTime();
                long okNow = pubs.ok.get();
                double r = (okNow - lastOk[0]) / ((now - lastT[0]) / 1e9);
                lastOk[0] = okNow;
                lastT[0] = now;
                return String.format(Locale.ROOT, "pushes %s (%,.0f/s) errors %d | subs held %s deliveries %s",
                        fmtInt(okNow), r, pubs.errors.get(), fmtInt(pool.outstanding.get()),
                        fmtInt(pool.deliveries.get()));
            });
            Map<String, Object> a = run.server.info(false);
            pubs.run(-1, o.duration, o.msgRate, run.deadline);
            Map<String, Object> b = run.server.info(false);
            long cpu = ServerProbe.cpuNanos(a, b);
            double perS = pubs.ok.get() / pubs.seconds();
            LogHistogram rtt = pubs.rtt();
            if (n > 0) {
                run.waitUntil(() -> pool.outstanding.get() >= n, Math.min(5, o.drain));
            }
            pool.stop();
            run.figures.put("subscribers", n);
            run.figures.put("channels", k);
            run.figures.put("published", pubs.toMap());
            run.figures.put("pushes_per_s", round(perS));
            run.figures.put("push_errors", pubs.errors.get());
            run.figures.put("server_cpu_ns", cpu);
            run.figures.put("server_cpu_us_per_push",
                    pubs.ok.get() > 0 && ServerProbe.knowsCpu(a) ? round(cpu / 1000.0 / pubs.ok.get()) : -1);
            run.figures.put("deliveries", pool.deliveries.get());
            run.figures.put("client", pool.countersMap());
            run.figures.put("server_at_end", ServerProbe.view(b));

            run.finished();
            out.println();
            out.printf(Locale.ROOT, "publish: %d keep-alive publishers, %.1f s, %s channel(s), %s subscribers%s%n",
                    o.publishers, pubs.seconds(), fmtInt(k), fmtInt(n),
                    o.batch > 1 ? ", " + o.batch + " messages per /batch request (pushes = messages)" : "");
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
            run.svg = Report.latencyChart(o.scenario, rtt, String.format(Locale.ROOT, "admin /push round trip, %d keep-alive publishers,"
                    + " %,.0f pushes/s", o.publishers, perS));
            return pubs.errors.get() == 0 ? 0 : 1;
        } finally {
            pool.stop();
        }
    }
}
