package io.jcomet.bench;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Random;
import org.junit.jupiter.api.Test;

/** Percentiles of the client's log-bucket histogram against exact sorted values. */
class LogHistogramTest {

    @Test
    void bucketsCoverEveryValueWithBoundedError() {
        Random r = new Random(42);
        for (int i = 0; i < 100_000; i++) {
            long v = r.nextLong() & Long.MAX_VALUE;
            v >>>= r.nextInt(63);
            int b = LogHistogram.index(v);
            assertTrue(LogHistogram.lowestInBucket(b) <= v && v <= LogHistogram.highestInBucket(b), "value " + v);
            long hi = LogHistogram.highestInBucket(b);
            assertTrue(hi - v <= Math.max(0, v / (1 << LogHistogram.SUB_BITS)), "too coarse for " + v);
        }
        assertEquals(0, LogHistogram.index(0));
        assertEquals(31, LogHistogram.index(31));
        assertEquals(Long.MAX_VALUE, LogHistogram.highestInBucket(LogHistogram.index(Long.MAX_VALUE)));
    }

    @Test
    void percentilesMatchExactValuesWithinThreePercent() {
        LogHistogram h = new LogHistogram();
        long[] values = new long[10_000];
        for (int i = 0; i < values.length; i++) {
            values[i] = (i + 1) * 1000L; // 1 us .. 10 ms, uniform
            h.record(values[i]);
        }
        assertEquals(10_000, h.count());
        assertEquals(1000, h.min());
        assertEquals(10_000_000, h.max());
        for (double p : new double[] {50, 90, 99, 99.9}) {
            long exact = values[(int) Math.ceil(p / 100 * values.length) - 1];
            long got = h.percentile(p);
            assertTrue(got >= exact && got <= exact * 1.0313, "p" + p + ": exact " + exact + " got " + got);
        }
        assertEquals(10_000_000, h.percentile(100));
        assertEquals(5_000_500.0, h.mean(), 0.001);
    }

    @Test
    void skewedDistributionAndMerge() {
        LogHistogram a = new LogHistogram();
        LogHistogram b = new LogHistogram();
        for (int i = 0; i < 990; i++) {
            a.record(100_000); // 100 us
        }
        for (int i = 0; i < 10; i++) {
            b.record(50_000_000); // 50 ms tail
        }
        a.add(b);
        assertEquals(1000, a.count());
        assertTrue(a.percentile(50) >= 100_000 && a.percentile(50) < 104_000);
        assertTrue(a.percentile(99) < 104_000, "990 of 1000 are 100 us: p99 is 100 us");
        assertTrue(a.percentile(99.9) >= 50_000_000);
        assertEquals(50_000_000, a.max());
        assertEquals(0, new LogHistogram().percentile(99));
    }
}
