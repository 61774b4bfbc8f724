package io.jcomet.bench;

import static io.jcomet.bench.Numbers.fmtInt;

import java.io.IOException;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * Result output the scenarios share: the console lines about loss and client errors, the
 * latency-by-percentile chart, and the result files (JSON and SVG). Each scenario prints its own
 * table with these pieces. Stateless; called by the scenario thread.
 */
final class Report {

    private Report() {
    }

    static void printLoss(PrintStream out, LossReport loss) {
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

    static void printErrors(PrintStream out, SubscriberPool pool, List<String> warnings) {
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

    /** Latency by percentile (log scale of 1/(1-p)), from min to max. */
    static String latencyChart(String scenario, LogHistogram h, String subtitle) {
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
            y = Numbers.scale(y, 1e-3);
        }
        return Svg.lineChart(scenario + ": latency by percentile (" + fmtInt(h.count()) + " samples)", subtitle,
                "percentile", unit, List.of(new Svg.Series("latency", "#1f77b4", x, y)), ticks);
    }

    /** Writes a result file (JSON or SVG), creating its directory. */
    static void write(String file, String text) throws IOException {
        Path p = Path.of(file);
        if (p.getParent() != null) {
            Files.createDirectories(p.getParent());
        }
        Files.writeString(p, text, StandardCharsets.UTF_8);
    }
}
