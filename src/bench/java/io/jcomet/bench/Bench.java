package io.jcomet.bench;

import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.Locale;
import java.util.Map;

/**
 * Load client entry point: {@code Bench <hold|fanout|publish|churn|soak> [--key value ...]} (see
 * {@link Options#HELP}). Parses the options and runs one {@link Scenario} against an
 * icomet-compatible server on loopback: each second a progress line, at the end the scenario's
 * table, a JSON result and an SVG chart.
 *
 * <p>The scenarios are one class each ({@link HoldScenario}, {@link FanoutScenario},
 * {@link PublishScenario}, {@link ChurnScenario}, {@link SoakScenario}) over shared parts: the
 * subscribers ({@link SubscriberPool}), the publishers ({@link Publishers}), the server probe
 * ({@link ServerProbe}), the result output ({@link Report}, {@link Svg}) and the run they share
 * ({@link BenchRun}: options, deadline, result, progress line, common steps).
 *
 * <p>Threads: the main thread runs the scenario; a progress thread prints lines built from atomic
 * counters; a watchdog thread ends the process at the --timeout hard deadline; the subscriber pool
 * and the publishers have their own threads (see those classes).
 *
 * <p>Exit status: 0 success, 1 a failed check (loss, errors, not all connections held), 2 bad
 * usage or unreachable server, 3 hard deadline reached.
 */
public final class Bench {

    private final BenchRun run;

    Bench(Options o, PrintStream out) {
        this.run = new BenchRun(o, out);
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

    private static Scenario scenario(BenchRun run) {
        return switch (run.o.scenario) {
            case "hold" -> new HoldScenario(run);
            case "fanout" -> new FanoutScenario(run);
            case "publish" -> new PublishScenario(run);
            case "churn" -> new ChurnScenario(run);
            case "soak" -> new SoakScenario(run);
            default -> throw new IllegalStateException(run.o.scenario);
        };
    }

    /** Runs the scenario and writes the result files; returns the exit status. */
    int run() throws Exception {
        Options o = run.o;
        PrintStream out = run.out;
        Map<String, Object> result = run.result;
        result.put("scenario", o.scenario);
        result.put("started_at", Instant.now().toString());
        result.put("parameters", o.toMap());
        result.put("machine", ClientMachine.describe());
        long clientCpu0 = ClientMachine.cpuNanos();
        run.server = new ServerProbe(o);
        Map<String, Object> info0;
        try {
            info0 = run.server.info(false);
        } catch (IOException e) {
            out.println("bench: cannot read " + "http://" + o.adminHost + ":" + o.adminPort + "/info: " + e.getMessage());
            return 2;
        }
        result.put("server_at_start", ServerProbe.view(info0));
        Thread p = new Thread(run::progressLoop, "bench-progress");
        p.setDaemon(true);
        p.start();
        int rc;
        try {
            rc = scenario(run).run(info0);
        } finally {
            run.finished();
            run.server.close();
        }
        run.figures.put("client_cpu_s", Numbers.round((ClientMachine.cpuNanos() - clientCpu0) / 1e9));
        result.put("figures", run.figures);
        result.put("warnings", run.warnings);
        result.put("exit_status", rc);
        result.put("elapsed_s", Numbers.round((System.nanoTime() - run.t0) / 1e9));
        Report.write(o.out, Json.write(result));
        if (run.svg != null) {
            Report.write(o.svg, run.svg);
        }
        out.printf(Locale.ROOT, "client CPU %.2f s in %.1f s%n", (ClientMachine.cpuNanos() - clientCpu0) / 1e9,
                (System.nanoTime() - run.t0) / 1e9);
        out.println("result: " + o.out + (run.svg != null ? "  chart: " + o.svg : ""));
        return rc;
    }

    /** Soft "Max open files" of this process from /proc/self/limits (-1 if unknown). */
    static long clientMaxFds() {
        return io.jcomet.os.OpenFileLimit.ofThisProcess().soft();
    }
}
