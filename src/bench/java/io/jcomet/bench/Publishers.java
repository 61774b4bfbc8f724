package io.jcomet.bench;

import java.io.IOException;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.IntFunction;

/**
 * P publisher threads, each with its own keep-alive admin connection, pushing
 * {@code t=<System.nanoTime()>} (padded to --content-size) to channels round-robin, at a global
 * rate or as fast as they can, for a number of messages or a duration, never past a deadline.
 *
 * <p>Records, per channel, the seqs the server acknowledged (first, last, count), so that the
 * subscribers' accounts are verified against what was really published, not against what the
 * subscribers saw.
 *
 * <p>Threads: {@link #run} is called by one scenario thread and blocks until its publisher
 * threads end; the per-channel records and the histogram are written under this object's lock
 * and read after {@link #run} returned (thread join = happens-before).
 */
final class Publishers {

    private final Options opts;
    private final int threads;
    private final int channelCount;
    private final IntFunction<String> channelName;
    private final String padding;

    final AtomicLong ok = new AtomicLong();
    final AtomicLong errors = new AtomicLong();
    final AtomicLong ticket = new AtomicLong();
    volatile String firstError;
    private final LogHistogram rtt = new LogHistogram();
    private final int[] ackFirst;
    private final int[] ackLast;
    private final long[] ackCount;
    private final boolean[] seqKnown;
    long startNanos;
    private long ticketBase;
    long endNanos;

    Publishers(Options opts, int threads, int channelCount, IntFunction<String> channelName) {
        this.opts = opts;
        this.threads = threads;
        this.channelCount = channelCount;
        this.channelName = channelName;
        this.padding = opts.contentSize > 24 ? " " + "x".repeat(opts.contentSize - 24) : "";
        ackFirst = new int[channelCount];
        ackLast = new int[channelCount];
        ackCount = new long[channelCount];
        seqKnown = new boolean[channelCount];
        Arrays.fill(seqKnown, true);
    }

    /**
     * Pushes {@code count} messages (count &lt; 0: unbounded) during at most {@code seconds}
     * (0: unbounded), at {@code rate} per second (0: as fast as possible), and never after
     * {@code deadlineNanos}. Message i goes to channel i mod channelCount. Calls add up: a second
     * call continues the message numbering, and {@code count} is the running total to reach.
     */
    void run(long count, double seconds, double rate, long deadlineNanos) throws InterruptedException {
        startNanos = System.nanoTime();
        ticketBase = ticket.get();
        long stopAt = seconds > 0 ? startNanos + (long) (seconds * 1e9) : deadlineNanos;
        if (stopAt - deadlineNanos > 0) {
            stopAt = deadlineNanos;
        }
        final long stop = stopAt;
        List<Thread> ts = new ArrayList<>();
        for (int t = 0; t < threads; t++) {
            Thread th = new Thread(() -> loop(count, rate, stop), "bench-publisher-" + t);
            th.setDaemon(true);
            ts.add(th);
            th.start();
        }
        for (Thread th : ts) {
            long left = Math.max(1, (deadlineNanos - System.nanoTime()) / 1_000_000 + 35_000);
            th.join(left);
        }
        endNanos = System.nanoTime();
    }

    private void loop(long count, double rate, long stop) {
        try (Admin admin = new Admin(opts)) {
            while (true) {
                long i;
                do {
                    i = ticket.get();
                    if (count >= 0 && i >= count) {
                        return; // do not consume a number a later run() must still publish
                    }
                } while (!ticket.compareAndSet(i, i + 1));
                if (rate > 0) {
                    long due = startNanos + (long) ((i - ticketBase) / rate * 1e9);
                    long wait;
                    while ((wait = due - System.nanoTime()) > 0) {
                        if (due - stop > 0) {
                            return;
                        }
                        Thread.sleep(wait / 1_000_000, (int) (wait % 1_000_000));
                    }
                }
                if (System.nanoTime() - stop > 0) {
                    return;
                }
                int c = (int) (i % channelCount);
                String cname = channelName.apply(c);
                long t0 = System.nanoTime();
                Admin.PushResult r;
                try {
                    r = admin.push(cname, "t=" + t0 + padding);
                } catch (IOException e) {
                    r = new Admin.PushResult(false, -1, e.toString());
                }
                long t1 = System.nanoTime();
                if (r.ok()) {
                    ok.incrementAndGet();
                    record(c, r.seq(), t1 - t0);
                } else {
                    errors.incrementAndGet();
                    if (firstError == null) {
                        firstError = "push to " + cname + ": " + r.error();
                    }
                    if (!r.ok() && r.error() != null && r.error().startsWith("java.net.ConnectException")) {
                        Thread.sleep(100); // do not spin on a dead server
                    }
                }
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    private synchronized void record(int c, int seq, long rttNanos) {
        rtt.record(rttNanos);
        if (seq < 0) {
            seqKnown[c] = false;
        } else if (ackCount[c] == 0) {
            ackFirst[c] = seq;
            ackLast[c] = seq;
        } else {
            if (seq - ackFirst[c] < 0) {
                ackFirst[c] = seq;
            }
            if (seq - ackLast[c] > 0) {
                ackLast[c] = seq;
            }
        }
        ackCount[c]++;
    }

    synchronized long acknowledged(int c) {
        return ackCount[c];
    }

    /**
     * The acknowledged seq range of channel c as {first, last} (last &lt; first when nothing was
     * published). When the server did not report seqs (plain icomet answers {"type":"ok"}), the
     * range is assumed to start at {@code startIfUnknown}.
     */
    synchronized int[] range(int c, int startIfUnknown) {
        if (ackCount[c] == 0) {
            return new int[] {startIfUnknown, startIfUnknown - 1};
        }
        if (!seqKnown[c]) {
            return new int[] {startIfUnknown, (int) (startIfUnknown + ackCount[c] - 1)};
        }
        return new int[] {ackFirst[c], ackLast[c]};
    }

    /** Channels whose acknowledged seqs are not one contiguous run (someone else published too). */
    synchronized long nonContiguousChannels() {
        long n = 0;
        for (int c = 0; c < channelCount; c++) {
            if (seqKnown[c] && ackCount[c] > 0 && (long) (ackLast[c] - ackFirst[c]) + 1 != ackCount[c]) {
                n++;
            }
        }
        return n;
    }

    synchronized boolean seqsReported() {
        for (int c = 0; c < channelCount; c++) {
            if (ackCount[c] > 0 && !seqKnown[c]) {
                return false;
            }
        }
        return true;
    }

    synchronized LogHistogram rtt() {
        LogHistogram h = new LogHistogram();
        h.add(rtt);
        return h;
    }

    double seconds() {
        return (endNanos - startNanos) / 1e9;
    }

    Map<String, Object> toMap() {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("publishers", threads);
        m.put("channels", channelCount);
        m.put("pushes_ok", ok.get());
        m.put("push_errors", errors.get());
        m.put("seconds", seconds());
        m.put("pushes_per_s", seconds() > 0 ? ok.get() / seconds() : 0.0);
        m.put("push_rtt", rtt().summaryMicros());
        m.put("server_reports_seq", seqsReported());
        m.put("non_contiguous_channels", nonContiguousChannels());
        m.put("first_error", firstError);
        return m;
    }
}
