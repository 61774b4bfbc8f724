package io.jcomet.bench;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.StandardSocketOptions;
import java.net.URLEncoder;
import java.nio.ByteBuffer;
import java.nio.channels.SelectionKey;
import java.nio.channels.Selector;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.IntFunction;

/**
 * P publishers, each with its own keep-alive admin connection, pushing
 * {@code t=<System.nanoTime()>} (padded to --content-size) to channels round-robin, at a global
 * rate or as fast as they can, for a number of messages or a duration, never past a deadline.
 *
 * <p>Records, per channel, the seqs the server acknowledged (first, last, count), so that the
 * subscribers' accounts are verified against what was really published, not against what the
 * subscribers saw.
 *
 * <p>Threads: {@link #run} is called by one scenario thread and blocks until its publisher
 * threads end (paced runs: one thread per connection; unpaced: one selector thread for all); the per-channel records and the histogram are written under this object's lock
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
        if (rate <= 0) {
            Thread th = new Thread(() -> unpaced(count, stop, deadlineNanos), "bench-publishers");
            th.setDaemon(true);
            th.start();
            th.join(Math.max(1, (deadlineNanos - System.nanoTime()) / 1_000_000 + 35_000));
            endNanos = System.nanoTime();
            return;
        }
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
                long i = takeTicket(count);
                if (i < 0) {
                    return;
                }
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

    /**
     * As fast as the server answers: ONE thread and one selector drive all P keep-alive
     * connections, each with one request in flight. (A thread per blocking connection cost the
     * client ~15 us of CPU per push on 2 cores, mostly thread wake-ups, which starved the server
     * it measures: docs/BENCHMARKS.md.) No new push is sent after {@code stop}; answers to pushes
     * in flight are still read until {@code deadline}, so every push sent is accounted for.
     */
    private void unpaced(long count, long stop, long deadline) {
        String host = "Host: " + opts.adminHost + ":" + opts.adminPort + "\r\n\r\n";
        String encodedPadding = URLEncoder.encode(padding, StandardCharsets.UTF_8);
        InetSocketAddress admin = new InetSocketAddress(opts.adminHost, opts.adminPort);
        Conn[] conns = new Conn[threads];
        try (Selector selector = Selector.open()) {
            for (int p = 0; p < threads; p++) {
                conns[p] = new Conn();
            }
            while (true) {
                long now = System.nanoTime();
                boolean sending = now - stop < 0 && (count < 0 || ticket.get() < count);
                if (!sending && !anyBusy(conns) || now - deadline > 0) {
                    return;
                }
                long wakeAt = sending ? stop : deadline;
                for (Conn c : conns) {
                    if (c.channel != null || !sending) {
                        continue;
                    }
                    if (now - c.retryAt < 0) {
                        wakeAt = c.retryAt - wakeAt < 0 ? c.retryAt : wakeAt;
                        continue;
                    }
                    try {
                        c.open(selector, admin);
                    } catch (IOException e) {
                        fail(c, null, "connect to admin: " + e);
                        continue;
                    }
                    send(c, count, host, encodedPadding);
                }
                selector.select(Math.max(1, (wakeAt - System.nanoTime()) / 1_000_000));
                for (SelectionKey key : selector.selectedKeys()) {
                    Conn c = (Conn) key.attachment();
                    if (!c.busy) {
                        c.close(); // the server closed an idle connection (or sent what nobody asked)
                        continue;
                    }
                    HttpResponse r;
                    try {
                        r = c.read();
                    } catch (IOException | HttpResponseParser.BadResponseException e) {
                        fail(c, c.cname, e.toString());
                        continue;
                    }
                    if (r == null) {
                        continue;
                    }
                    c.busy = false;
                    long t1 = System.nanoTime();
                    if (!(opts.batch > 1 ? recordBatch(c, r, t1 - c.sentAt) : recordPush(c, r, t1 - c.sentAt))) {
                        continue; // failed: closed, retried later
                    }
                    if (!r.keepAlive()) {
                        c.close();
                    } else if (t1 - stop < 0) {
                        send(c, count, host, encodedPadding);
                    }
                }
                selector.selectedKeys().clear();
            }
        } catch (IOException e) {
            errors.incrementAndGet();
            if (firstError == null) {
                firstError = "publisher selector: " + e;
            }
        } finally {
            for (Conn c : conns) {
                if (c != null) {
                    c.close();
                }
            }
        }
    }

    /**
     * The next message number, or -1 when {@code count} (&gt;= 0) are taken: a number is only
     * consumed when it will be published, so a later run() continues the numbering.
     */
    private long takeTicket(long count) {
        long i;
        do {
            i = ticket.get();
            if (count >= 0 && i >= count) {
                return -1;
            }
        } while (!ticket.compareAndSet(i, i + 1));
        return i;
    }

    private static boolean anyBusy(Conn[] conns) {
        for (Conn c : conns) {
            if (c.busy) {
                return true;
            }
        }
        return false;
    }

    /**
     * Takes the next message number and sends its push on c (with {@code --batch N}: the next N
     * numbers as one admin /batch request); false when there is none left.
     */
    private boolean send(Conn c, long count, String host, String encodedPadding) {
        long i = takeTicket(count);
        if (i < 0) {
            return false;
        }
        c.channelIndex = (int) (i % channelCount);
        c.cname = channelName.apply(c.channelIndex);
        c.sentAt = System.nanoTime();
        byte[] req;
        if (opts.batch > 1) {
            StringBuilder body = new StringBuilder(opts.batch * 64);
            c.batchChannels[0] = c.channelIndex;
            c.batchSize = 1;
            appendLine(body, c.cname, c.sentAt, encodedPadding);
            long j;
            while (c.batchSize < opts.batch && (j = takeTicket(count)) >= 0) {
                int ch = (int) (j % channelCount);
                c.batchChannels[c.batchSize++] = ch;
                appendLine(body, channelName.apply(ch), c.sentAt, encodedPadding);
            }
            byte[] b = body.toString().getBytes(StandardCharsets.ISO_8859_1);
            req = ("POST /batch HTTP/1.1\r\nContent-Length: " + b.length + "\r\n" + host).getBytes(StandardCharsets.ISO_8859_1);
            req = Arrays.copyOf(req, req.length + b.length);
            System.arraycopy(b, 0, req, req.length - b.length, b.length);
        } else {
            req = ("GET /push?cname=" + c.cname + "&content=t%3D" + c.sentAt + encodedPadding
                    + " HTTP/1.1\r\n" + host).getBytes(StandardCharsets.ISO_8859_1);
        }
        try {
            c.write(req);
            c.busy = true;
            return true;
        } catch (IOException e) {
            fail(c, c.cname, e.toString());
            return false;
        }
    }

    private static void appendLine(StringBuilder body, String cname, long sentAt, String encodedPadding) {
        body.append("cname=").append(cname).append("&content=t%3D").append(sentAt).append(encodedPadding).append('\n');
    }

    /** Accounts a /push answer; false when it failed (c is then closed). */
    private boolean recordPush(Conn c, HttpResponse r, long rttNanos) {
        Admin.PushResult result = Admin.pushResult(r);
        if (!result.ok()) {
            fail(c, c.cname, result.error());
            return false;
        }
        ok.incrementAndGet();
        record(c.channelIndex, result.seq(), rttNanos);
        return true;
    }

    /**
     * Accounts a /batch answer: one /push answer per line, in the order the messages were sent; a
     * refused line is an error of its own. False when the whole request failed (c is then closed).
     */
    private boolean recordBatch(Conn c, HttpResponse r, long rttNanos) {
        if (r.status() != 200) {
            fail(c, c.cname, "batch: HTTP " + r.status() + " " + Json.abbreviate(r.bodyText()));
            return false;
        }
        String[] lines = r.bodyText().split("\n");
        for (int k = 0; k < c.batchSize; k++) {
            Admin.PushResult result = k < lines.length ? Admin.pushAnswer(lines[k].trim())
                    : new Admin.PushResult(false, -1, "batch: no answer line for message " + (k + 1));
            if (result.ok()) {
                ok.incrementAndGet();
                record(c.batchChannels[k], result.seq(), rttNanos);
            } else {
                errors.incrementAndGet();
                if (firstError == null) {
                    firstError = "batch line " + (k + 1) + ": " + result.error();
                }
            }
        }
        return true;
    }

    private void fail(Conn c, String cname, String error) {
        errors.incrementAndGet();
        if (firstError == null) {
            firstError = (cname == null ? "" : "push to " + cname + ": ") + error;
        }
        c.busy = false;
        c.close();
        c.retryAt = System.nanoTime() + 100_000_000L; // do not spin on a dead server
    }

    /** One non-blocking keep-alive admin connection with at most one push (or batch) in flight. */
    private final class Conn {
        /** The channel of each message of the batch in flight ({@code --batch}). */
        final int[] batchChannels = new int[Math.max(1, opts.batch)];
        int batchSize;
        SocketChannel channel;
        final ByteBuffer in = ByteBuffer.allocate(16 * 1024);
        final HttpResponseParser parser = new HttpResponseParser();
        long retryAt = System.nanoTime();
        long sentAt;
        boolean busy; // a push was sent and its answer is not read yet
        int channelIndex;
        String cname;

        void open(Selector selector, InetSocketAddress address) throws IOException {
            SocketChannel ch = SocketChannel.open();
            try {
                ch.setOption(StandardSocketOptions.TCP_NODELAY, true);
                ch.connect(address); // blocking: loopback, once per connection
                ch.configureBlocking(false);
                ch.register(selector, SelectionKey.OP_READ, this);
            } catch (IOException e) {
                ch.close();
                throw e;
            }
            channel = ch;
            parser.reset();
        }

        /** A request is ~100 bytes (a batch a few KB): the socket buffer takes it whole, or the connection is broken. */
        void write(byte[] req) throws IOException {
            ByteBuffer b = ByteBuffer.wrap(req);
            channel.write(b);
            if (b.hasRemaining()) {
                throw new IOException("socket buffer full for a " + req.length + "-byte request");
            }
        }

        HttpResponse read() throws IOException, HttpResponseParser.BadResponseException {
            in.clear();
            int n = channel.read(in);
            if (n < 0) {
                HttpResponse r = parser.eof();
                if (r == null) {
                    throw new IOException("connection closed before the answer");
                }
                return r;
            }
            in.flip();
            return parser.feed(in);
        }

        void close() {
            if (channel != null) {
                try {
                    channel.close();
                } catch (IOException ignored) {
                    // closing anyway
                }
                channel = null;
            }
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
        m.put("batch", Math.max(1, opts.batch));
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
