package io.jcomet.bench;

import static io.jcomet.bench.Numbers.fmtInt;
import static io.jcomet.bench.Numbers.round;

import java.io.IOException;
import java.io.PrintStream;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.function.BooleanSupplier;
import java.util.function.Supplier;

/**
 * One run of the load client as the scenarios see it: the options, the console, the hard deadline,
 * the result being built (figures, warnings, chart), the server probe, the progress line, and the
 * steps every scenario takes (cap at the open-file limits, open and hold subscribers, wait for a
 * condition, verify the subscribers' accounts).
 *
 * <p>Threads: the scenario thread owns the result, the probe and the warnings; the progress thread
 * only calls the {@link #progress} supplier (built from atomic counters) and reads {@code finished}.
 */
final class BenchRun {

    /** A condition that asks the server (an I/O error counts as "not yet"). */
    interface IoCondition {
        boolean test() throws IOException;
    }

    final Options o;
    final PrintStream out;
    final long t0 = System.nanoTime();
    final long deadline;
    final Map<String, Object> result = new LinkedHashMap<>();
    final Map<String, Object> figures = new LinkedHashMap<>();
    final List<String> warnings = new ArrayList<>();
    /** The chart of the run, or null for none. */
    String svg;
    ServerProbe server;
    private volatile Supplier<String> progress = () -> "";
    private volatile boolean finished;
    private long lastConnects;
    private long lastProgressNanos = System.nanoTime();

    BenchRun(Options o, PrintStream out) {
        this.o = o;
        this.out = out;
        this.deadline = t0 + (long) (o.timeout * 1e9);
    }

    // ------------------------------------------------------------------ progress

    /** What the progress line says from now on (a null line: print none). */
    void progress(Supplier<String> line) {
        progress = line;
    }

    /** Stops the progress lines: the final table follows. */
    void finished() {
        finished = true;
    }

    /** Prints the progress line every second until {@link #finished()}; runs on the progress thread. */
    void progressLoop() {
        try {
            while (!finished) {
                Thread.sleep(1000);
                if (finished) {
                    return;
                }
                String line = progress.get();
                if (line != null) {
                    out.printf(Locale.ROOT, "[%s %6.1fs] %s%n", o.scenario, (System.nanoTime() - t0) / 1e9, line);
                }
            }
        } catch (InterruptedException ignored) {
            // end
        }
    }

    /** The pool's part of a progress line: connections (and their rate since the last line), held, deliveries. */
    String poolLine(SubscriberPool pool, int n) {
        long now = System.nanoTime();
        long c = pool.connects.get();
        double rate = (c - lastConnects) / Math.max(1e-9, (now - lastProgressNanos) / 1e9);
        lastConnects = c;
        lastProgressNanos = now;
        return String.format(Locale.ROOT, "conns %s/%s (+%,.0f/s) held %s deliveries %s noops %s errors %s",
                fmtInt(pool.connected.get()), fmtInt(n), rate, fmtInt(pool.outstanding.get()),
                fmtInt(pool.deliveries.get()), fmtInt(pool.noops.get()), fmtInt(pool.errorCount()));
    }

    // ------------------------------------------------------------------ shared steps

    /**
     * Caps the connection count by the client's and the server's open-file limits minus a margin of
     * 500 (the server also needs descriptors for its ports, files and admin clients).
     */
    int cap(int requested, Map<String, Object> info) {
        long client = Bench.clientMaxFds();
        long serverMax = ServerProbe.num(info, "max_fds");
        long serverOpen = Math.max(0, ServerProbe.num(info, "open_fds"));
        long clientCap = client > 0 ? client - 500 - o.publishers : Long.MAX_VALUE;
        long serverCap = serverMax > 0 ? serverMax - serverOpen - 500 : Long.MAX_VALUE;
        long cap = Math.max(0, Math.min(clientCap, serverCap));
        Map<String, Object> fd = new LinkedHashMap<>();
        fd.put("client_max_fds", client);
        fd.put("server_max_fds", serverMax);
        fd.put("server_open_fds_at_start", ServerProbe.num(info, "open_fds"));
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
        long perSource = ClientMachine.ephemeralPorts();
        if (!o.sources.isEmpty() && perSource > 0 && requested / o.sources.size() > perSource) {
            warn("each source address has only " + perSource + " ephemeral ports: use more --sources");
        }
        return requested;
    }

    /** Opens {@code n} subscribers and waits until they are held, by the client and by the server. */
    void openAndHold(SubscriberPool pool, int n, long baseSubs) throws Exception {
        progress(() -> poolLine(pool, n));
        pool.openUpTo(n, o.rate);
        double wait = 30 + (o.rate > 0 ? 2.0 * n / o.rate : n / 500.0);
        if (!waitUntil(() -> pool.outstanding.get() >= n, wait)) {
            warn("only " + pool.outstanding.get() + " of " + n + " subscribers held after " + round(wait) + " s");
        }
        if (baseSubs >= 0) {
            waitServerSubscribers(baseSubs + n, 5);
        }
    }

    /** Waits until the server reports at least {@code atLeast} subscribers; warns when it does not. */
    void waitServerSubscribers(long atLeast, double seconds) throws InterruptedException {
        long end = System.nanoTime() + (long) (seconds * 1e9);
        while (System.nanoTime() - end < 0 && !pastDeadline()) {
            try {
                if (ServerProbe.num(server.info(false), "subscribers") >= atLeast) {
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

    /** After the pool stopped: every subscriber's account against its channel's acknowledged range. */
    LossReport verify(SubscriberPool pool, Publishers pubs) {
        LossReport r = pool.verify(pubs);
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

    /** Asks the server every 100 ms until true, {@code seconds} passed or the hard deadline. */
    boolean waitUntilServer(IoCondition cond, double seconds) throws InterruptedException {
        long until = Math.min(deadline, System.nanoTime() + (long) (seconds * 1e9));
        while (true) {
            try {
                if (cond.test()) {
                    return true;
                }
            } catch (IOException e) {
                // the server is busy: ask again
            }
            if (System.nanoTime() - until >= 0) {
                return false;
            }
            Thread.sleep(100);
        }
    }

    boolean pastDeadline() {
        return System.nanoTime() - deadline >= 0;
    }

    /** Adds a warning to the result (once). */
    void warn(String w) {
        if (!warnings.contains(w)) {
            warnings.add(w);
        }
    }
}
