package io.jcomet.bench;

import java.util.List;
import java.util.Locale;
import java.util.Map;

/** The arithmetic and number formats the scenarios share. Stateless; any thread. */
final class Numbers {

    private Numbers() {
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

    /** One numeric column of a list of rows. */
    static double[] col(List<Map<String, Object>> rows, String key) {
        double[] r = new double[rows.size()];
        for (int i = 0; i < r.length; i++) {
            r[i] = ((Number) rows.get(i).get(key)).doubleValue();
        }
        return r;
    }

    /** Every value times {@code f}; unknown (negative) values become 0. */
    static double[] scale(double[] v, double f) {
        double[] r = new double[v.length];
        for (int i = 0; i < v.length; i++) {
            r[i] = v[i] < 0 ? 0 : v[i] * f;
        }
        return r;
    }

    /** Bytes as MiB, -1 when unknown. */
    static double mb(Object bytes) {
        long b = ((Number) bytes).longValue();
        return b < 0 ? -1 : b / 1048576.0;
    }

    /** Two decimals, for the JSON result. */
    static double round(double v) {
        return Double.isNaN(v) ? v : Math.round(v * 100) / 100.0;
    }

    static String fmtInt(long v) {
        return String.format(Locale.ROOT, "%,d", v);
    }
}
