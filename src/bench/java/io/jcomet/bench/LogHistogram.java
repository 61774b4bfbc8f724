package io.jcomet.bench;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * A log-linear histogram of non-negative long values (nanoseconds here), in the manner of
 * HdrHistogram: values below 2^SUB_BITS are counted exactly, larger ones in 2^SUB_BITS linear
 * sub-buckets per power of two, so a reported percentile is at most ~1/2^SUB_BITS (3%) above the
 * true value. Percentiles report the highest value of the bucket holding that rank; min, max, count
 * and mean are exact.
 *
 * <p>Threads: not thread-safe. Each selector thread records into its own instance; the scenario
 * thread merges them with {@link #add(LogHistogram)} after the threads have stopped recording (or
 * under the owner's lock).
 */
final class LogHistogram {

    static final int SUB_BITS = 5;
    private static final int SUB = 1 << SUB_BITS;
    /** 64-bit values: exact range plus (64 - SUB_BITS) powers of two. */
    private static final int BUCKETS = SUB + (64 - SUB_BITS) * SUB;

    private final long[] counts = new long[BUCKETS];
    private long count;
    private long min = Long.MAX_VALUE;
    private long max = Long.MIN_VALUE;
    private double sum;

    static int index(long v) {
        if (v < SUB) {
            return (int) v;
        }
        int e = 63 - Long.numberOfLeadingZeros(v); // >= SUB_BITS
        int sub = (int) ((v >>> (e - SUB_BITS)) & (SUB - 1));
        return (e - SUB_BITS + 1) * SUB + sub;
    }

    /** Highest value that falls into bucket {@code i}. */
    static long highestInBucket(int i) {
        if (i < SUB) {
            return i;
        }
        int e = i / SUB - 1 + SUB_BITS;
        int sub = i % SUB;
        long low = ((long) (SUB + sub)) << (e - SUB_BITS);
        long width = 1L << (e - SUB_BITS);
        return low + width - 1;
    }

    /** Lowest value that falls into bucket {@code i}. */
    static long lowestInBucket(int i) {
        if (i < SUB) {
            return i;
        }
        int e = i / SUB - 1 + SUB_BITS;
        int sub = i % SUB;
        return ((long) (SUB + sub)) << (e - SUB_BITS);
    }

    void record(long v) {
        if (v < 0) {
            v = 0; // clock skew between threads cannot make a latency negative
        }
        counts[index(v)]++;
        count++;
        sum += v;
        if (v < min) {
            min = v;
        }
        if (v > max) {
            max = v;
        }
    }

    void clear() {
        java.util.Arrays.fill(counts, 0);
        count = 0;
        sum = 0;
        min = Long.MAX_VALUE;
        max = Long.MIN_VALUE;
    }

    void add(LogHistogram o) {
        for (int i = 0; i < BUCKETS; i++) {
            counts[i] += o.counts[i];
        }
        count += o.count;
        sum += o.sum;
        if (o.count > 0) {
            min = Math.min(min, o.min);
            max = Math.max(max, o.max);
        }
    }

    long count() {
        return count;
    }

    long min() {
        return count == 0 ? 0 : min;
    }

    long max() {
        return count == 0 ? 0 : max;
    }

    double mean() {
        return count == 0 ? 0 : sum / count;
    }

    /**
     * Value at percentile {@code p} (0..100): the smallest bucket whose cumulative count reaches
     * ceil(p/100 * count), reported as that bucket's highest value, clamped to the exact max.
     */
    long percentile(double p) {
        if (count == 0) {
            return 0;
        }
        long rank = (long) Math.ceil(p / 100.0 * count);
        if (rank < 1) {
            rank = 1;
        }
        long seen = 0;
        for (int i = 0; i < BUCKETS; i++) {
            seen += counts[i];
            if (seen >= rank) {
                return Math.min(highestInBucket(i), max);
            }
        }
        return max;
    }

    /** Non-empty buckets as [lowest, highest, count] rows, for charts and the result file. */
    List<long[]> buckets() {
        List<long[]> out = new ArrayList<>();
        for (int i = 0; i < BUCKETS; i++) {
            if (counts[i] > 0) {
                out.add(new long[] {lowestInBucket(i), highestInBucket(i), counts[i]});
            }
        }
        return out;
    }

    /** Summary in microseconds (values are nanoseconds). */
    Map<String, Object> summaryMicros() {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("count", count);
        m.put("min_us", min() / 1000.0);
        m.put("p50_us", percentile(50) / 1000.0);
        m.put("p90_us", percentile(90) / 1000.0);
        m.put("p99_us", percentile(99) / 1000.0);
        m.put("p999_us", percentile(99.9) / 1000.0);
        m.put("max_us", max() / 1000.0);
        m.put("mean_us", mean() / 1000.0);
        return m;
    }
}
