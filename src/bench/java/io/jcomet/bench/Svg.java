package io.jcomet.bench;

import java.util.List;
import java.util.Locale;

/**
 * Plain hand-written SVG line charts (no dependency): the RSS/heap-versus-connections chart of
 * {@code hold} and the latency-by-percentile chart of {@code fanout}. Stateless; any thread.
 */
final class Svg {

    private Svg() {
    }

    /** One line of a chart. */
    record Series(String name, String color, double[] xs, double[] ys) {
    }

    /** An x-axis tick: position and label. */
    record Tick(double x, String label) {
    }

    private static final int W = 760;
    private static final int H = 440;
    private static final int L = 80;
    private static final int R = 30;
    private static final int T = 50;
    private static final int B = 60;

    static String lineChart(String title, String subtitle, String xLabel, String yLabel, List<Series> series,
                            List<Tick> xTicks) {
        double xmin = Double.MAX_VALUE;
        double xmax = -Double.MAX_VALUE;
        double ymax = 0;
        for (Series s : series) {
            for (double x : s.xs) {
                xmin = Math.min(xmin, x);
                xmax = Math.max(xmax, x);
            }
            for (double y : s.ys) {
                ymax = Math.max(ymax, y);
            }
        }
        if (xmin == Double.MAX_VALUE) {
            xmin = 0;
            xmax = 1;
        }
        if (xmax <= xmin) {
            xmax = xmin + 1;
        }
        double yTop = niceCeil(ymax <= 0 ? 1 : ymax * 1.05);
        int pw = W - L - R;
        int ph = H - T - B;
        StringBuilder b = new StringBuilder();
        b.append("<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"").append(W).append("\" height=\"").append(H)
                .append("\" viewBox=\"0 0 ").append(W).append(' ').append(H)
                .append("\" font-family=\"sans-serif\" font-size=\"12\">\n");
        b.append("<rect width=\"100%\" height=\"100%\" fill=\"white\"/>\n");
        text(b, W / 2.0, 20, "middle", 15, title);
        if (subtitle != null) {
            text(b, W / 2.0, 38, "middle", 11, subtitle);
        }
        // axes and grid
        for (int i = 0; i <= 5; i++) {
            double v = yTop * i / 5;
            double y = T + ph - ph * i / 5.0;
            b.append(String.format(Locale.ROOT,
                    "<line x1=\"%d\" y1=\"%.1f\" x2=\"%d\" y2=\"%.1f\" stroke=\"#ddd\"/>\n", L, y, L + pw, y));
            text(b, L - 6, y + 4, "end", 11, fmt(v));
        }
        if (xTicks == null || xTicks.isEmpty()) {
            double xTop = niceCeil(xmax);
            if (xmin >= 0) {
                xmin = 0;
            }
            xmax = xTop;
            for (int i = 0; i <= 5; i++) {
                double v = xmin + (xmax - xmin) * i / 5;
                tickX(b, L + pw * i / 5.0, T + ph, fmt(v));
            }
        } else {
            for (Tick t : xTicks) {
                tickX(b, L + pw * (t.x - xmin) / (xmax - xmin), T + ph, t.label);
            }
        }
        b.append(String.format(Locale.ROOT,
                "<line x1=\"%d\" y1=\"%d\" x2=\"%d\" y2=\"%d\" stroke=\"black\"/>\n", L, T + ph, L + pw, T + ph));
        b.append(String.format(Locale.ROOT,
                "<line x1=\"%d\" y1=\"%d\" x2=\"%d\" y2=\"%d\" stroke=\"black\"/>\n", L, T, L, T + ph));
        text(b, L + pw / 2.0, H - 15, "middle", 12, xLabel);
        b.append(String.format(Locale.ROOT,
                "<text x=\"18\" y=\"%.1f\" text-anchor=\"middle\" transform=\"rotate(-90 18 %.1f)\">%s</text>\n",
                T + ph / 2.0, T + ph / 2.0, esc(yLabel)));
        // series
        int legendY = T + 8;
        for (Series s : series) {
            StringBuilder pts = new StringBuilder();
            for (int i = 0; i < s.xs.length; i++) {
                double x = L + pw * (s.xs[i] - xmin) / (xmax - xmin);
                double y = T + ph - ph * (s.ys[i] / yTop);
                pts.append(String.format(Locale.ROOT, "%.1f,%.1f ", x, y));
                b.append(String.format(Locale.ROOT, "<circle cx=\"%.1f\" cy=\"%.1f\" r=\"3\" fill=\"%s\"/>\n",
                        x, y, s.color));
            }
            b.append("<polyline fill=\"none\" stroke-width=\"2\" stroke=\"").append(s.color).append("\" points=\"")
                    .append(pts.toString().trim()).append("\"/>\n");
            b.append(String.format(Locale.ROOT,
                    "<rect x=\"%d\" y=\"%d\" width=\"14\" height=\"4\" fill=\"%s\"/>\n", L + 12, legendY, s.color));
            text(b, L + 32, legendY + 6, "start", 12, s.name);
            legendY += 18;
        }
        b.append("</svg>\n");
        return b.toString();
    }

    private static void tickX(StringBuilder b, double x, int y, String label) {
        b.append(String.format(Locale.ROOT,
                "<line x1=\"%.1f\" y1=\"%d\" x2=\"%.1f\" y2=\"%d\" stroke=\"black\"/>\n", x, y, x, y + 5));
        text(b, x, y + 18, "middle", 11, label);
    }

    private static void text(StringBuilder b, double x, double y, String anchor, int size, String s) {
        b.append(String.format(Locale.ROOT, "<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"%s\" font-size=\"%d\">%s</text>\n",
                x, y, anchor, size, esc(s)));
    }

    static String esc(String s) {
        return s.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace("\"", "&quot;");
    }

    static String fmt(double v) {
        if (v == Math.rint(v) && Math.abs(v) < 1e12) {
            return String.format(Locale.ROOT, "%,d", (long) v);
        }
        if (Math.abs(v) >= 100) {
            return String.format(Locale.ROOT, "%,.0f", v);
        }
        return String.format(Locale.ROOT, "%.2f", v);
    }

    /** 1, 2, 2.5 or 5 times a power of ten, at least v. */
    static double niceCeil(double v) {
        double p = Math.pow(10, Math.floor(Math.log10(v)));
        for (double m : new double[] {1, 2, 2.5, 5, 10}) {
            if (m * p >= v) {
                return m * p;
            }
        }
        return 10 * p;
    }
}
