package io.jcomet.bench;

import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;

/**
 * The subscribers of a run on non-blocking sockets, driven by a few selector threads (no thread per
 * connection), and what they counted. Each subscriber subscribes with its transport's request
 * (long-poll {@code GET /sub?cname=..&seq=..&noop=..}, {@code /stream}, {@code /sse} or a
 * {@code /ws} WebSocket), records what it gets in its {@link SeqAccount} and, for long-poll, polls
 * again with seq = last + 1 on the same keep-alive connection (a new one if the server closed it).
 *
 * <p>The parts: {@link Reactor} (selector loop and connection I/O), {@link WireDecoder} (one per
 * transport: bytes to messages), {@link DeliveryAccounting} (messages to seq accounts, counters and
 * latencies), {@link PoolSubscriber} (one subscriber's state). This class creates the subscribers,
 * spreads them over the reactors, sends the reactors commands and keeps the counters.
 *
 * <p>Threads: every {@link PoolSubscriber} and its socket belong to one {@link Reactor} thread, which
 * alone reads and writes them. Other threads talk to a reactor only through its command queue (plus
 * a selector wake-up) and read the pool's atomic counters. Latency histograms are per reactor and
 * locked only to merge them. After {@link #stop()} has joined the reactor threads the scenario
 * thread may read every subscriber directly.
 */
final class SubscriberPool implements AutoCloseable {

    /**
     * Test hook simulating a BROKEN client: when &gt; 0, subscriber 0 throws away the data message
     * with this seq as if it had never arrived. Only tests set it.
     */
    static volatile int testDropSeq;

    // --------------------------------------------------------------- counters (any thread reads)

    /** Sockets currently connected. */
    final AtomicInteger connected = new AtomicInteger();
    /** Connections in progress. */
    final AtomicInteger connecting = new AtomicInteger();
    /** Requests written and not answered yet: the held long-polls. */
    final AtomicInteger outstanding = new AtomicInteger();
    final AtomicLong connects = new AtomicLong();
    final AtomicLong connectErrors = new AtomicLong();
    final AtomicLong ioErrors = new AtomicLong();
    final AtomicLong serverCloses = new AtomicLong();
    final AtomicLong reconnects = new AtomicLong();
    final AtomicLong requests = new AtomicLong();
    final AtomicLong responses = new AtomicLong();
    final AtomicLong deliveries = new AtomicLong();
    final AtomicLong noops = new AtomicLong();
    final AtomicLong nextSeqs = new AtomicLong();
    final AtomicLong gaps = new AtomicLong();
    /** Seqs the server declared lost in gap messages (they will never arrive). */
    final AtomicLong gapSeqs = new AtomicLong();
    final AtomicLong badStatus = new AtomicLong();
    final AtomicLong badBody = new AtomicLong();
    final AtomicLong gaveUp = new AtomicLong();
    final AtomicLong lastDeliveryNanos = new AtomicLong();
    /** --tls: handshakes completed, and how many of them resumed an earlier session. */
    final AtomicLong tlsHandshakes = new AtomicLong();
    final AtomicLong tlsResumed = new AtomicLong();
    /** --tls resume|full: the client's TLS (null: plain TCP). */
    final TlsClient tls;
    /** Count of non-data message types (429, 401, 404, close, reconnect, error...) and of HTTP statuses. */
    final Map<String, AtomicLong> other = new ConcurrentHashMap<>();
    private final AtomicLong firstError = new AtomicLong();
    volatile String firstErrorText;

    private final String hostHeader;
    private final Options opts;
    private final Reactor[] reactors;
    private final List<PoolSubscriber> subs = new ArrayList<>();
    private final int startSeq;

    SubscriberPool(Options opts, int startSeq) throws IOException {
        this.opts = opts;
        this.startSeq = startSeq;
        this.hostHeader = opts.host;
        this.tls = opts.tls.equals("off") ? null : new TlsClient(opts.tls.equals("resume"));
        reactors = new Reactor[opts.threads];
        for (int i = 0; i < reactors.length; i++) {
            reactors[i] = new Reactor(i, this, hostHeader);
        }
        for (Reactor r : reactors) {
            r.thread.start();
        }
    }

    int size() {
        return subs.size();
    }

    /** Subscribers, for the scenario thread (only after stop(), or for their immutable fields). */
    List<PoolSubscriber> subs() {
        return subs;
    }

    /** Subscribers per channel times acknowledged pushes per channel ({@code k} channels). */
    long expectedDeliveries(Publishers pubs, int k) {
        long[] subsOn = new long[k];
        for (PoolSubscriber s : subs) {
            subsOn[opts.channelIndex(s.id) % k]++;
        }
        long e = 0;
        for (int c = 0; c < k; c++) {
            e += subsOn[c] * pubs.acknowledged(c);
        }
        return e;
    }

    /** After {@link #stop()}: every subscriber's account against its channel's acknowledged range. */
    LossReport verify(Publishers pubs) {
        LossReport r = new LossReport();
        int k = opts.channelCount(subs.size());
        for (PoolSubscriber s : subs) {
            int[] range = pubs.range(opts.channelIndex(s.id) % k, s.acct.base());
            r.add(s.acct.verify(range[0], range[1]));
        }
        return r;
    }

    /** Creates subscribers up to {@code n} and opens them at {@code rate} per second (0 = at once). */
    void openUpTo(int n, double rate) {
        List<List<PoolSubscriber>> perReactor = new ArrayList<>();
        for (int i = 0; i < reactors.length; i++) {
            perReactor.add(new ArrayList<>());
        }
        for (int i = subs.size(); i < n; i++) {
            Reactor r = reactors[i % reactors.length];
            InetSocketAddress target = new InetSocketAddress(opts.hostAddress, opts.ports[i % opts.ports.length]);
            InetSocketAddress source = null;
            if (!opts.sources.isEmpty()) {
                InetAddress a = opts.sources.get(i % opts.sources.size());
                source = new InetSocketAddress(a, 0);
            }
            PoolSubscriber s = new PoolSubscriber(i, opts.channelOf(i), opts.channelIndex(i), target, source, r,
                    startSeq, WireDecoder.forOptions(opts));
            subs.add(s);
            perReactor.get(r.index).add(s);
        }
        for (int i = 0; i < reactors.length; i++) {
            List<PoolSubscriber> list = perReactor.get(i);
            Reactor r = reactors[i];
            double perRate = rate / reactors.length;
            r.submit(() -> r.queueConnects(list, perRate));
        }
    }

    /** Closes every subscriber's connection at once (they keep their cursors); waits until done. */
    void closeAll() throws InterruptedException {
        CountDownLatch done = new CountDownLatch(reactors.length);
        for (Reactor r : reactors) {
            r.submit(() -> {
                r.closeAllLocal();
                done.countDown();
            });
        }
        if (!done.await(60, TimeUnit.SECONDS)) {
            throw new IllegalStateException("reactors did not close their connections within 60 s");
        }
    }

    /** Reconnects every subscriber (seq = last received + 1) at {@code rate} per second (0 = at once). */
    void reconnectAll(double rate) {
        for (Reactor r : reactors) {
            double perRate = rate / reactors.length;
            r.submit(() -> {
                List<PoolSubscriber> mine = new ArrayList<>();
                for (PoolSubscriber s : r.mine) {
                    if (s.state != PoolSubscriber.DONE) {
                        s.wanted = true;
                        mine.add(s);
                    }
                }
                r.queueConnects(mine, perRate);
            });
        }
    }

    /**
     * Per message (channel, seq): the latency of its LAST delivery, i.e. how long until every
     * subscriber had it. Nanoseconds, one value per message.
     */
    LogHistogram lastDeliveryLatency() {
        Map<Long, Long> merged = new java.util.HashMap<>();
        for (Reactor r : reactors) {
            synchronized (r.accounting.latency) {
                r.accounting.lastPerMessage.forEach((k, v) -> merged.merge(k, v, Math::max));
            }
        }
        LogHistogram h = new LogHistogram();
        merged.values().forEach(h::record);
        return h;
    }

    /** Forgets the latencies recorded so far (after a warm-up). */
    void resetLatency() {
        for (Reactor r : reactors) {
            synchronized (r.accounting.latency) {
                r.accounting.latency.clear();
                r.accounting.lastPerMessage.clear();
            }
        }
    }

    /** Merged delivery latency (publish timestamp in the content to receipt), in nanoseconds. */
    LogHistogram latency() {
        LogHistogram h = new LogHistogram();
        for (Reactor r : reactors) {
            synchronized (r.accounting.latency) {
                h.add(r.accounting.latency);
            }
        }
        return h;
    }

    /** Stops the reactor threads, closing every connection; afterwards subs() may be read. */
    void stop() throws InterruptedException {
        for (Reactor r : reactors) {
            r.running = false;
            r.selector.wakeup();
        }
        for (Reactor r : reactors) {
            r.thread.join(30_000);
        }
    }

    @Override
    public void close() throws InterruptedException {
        stop();
    }

    Map<String, Object> countersMap() {
        Map<String, Object> m = new java.util.LinkedHashMap<>();
        m.put("connected", connected.get());
        m.put("held", outstanding.get());
        m.put("connects", connects.get());
        m.put("connect_errors", connectErrors.get());
        m.put("io_errors", ioErrors.get());
        m.put("server_closes", serverCloses.get());
        m.put("reconnects", reconnects.get());
        m.put("requests", requests.get());
        m.put("responses", responses.get());
        m.put("deliveries", deliveries.get());
        m.put("noops", noops.get());
        m.put("next_seq", nextSeqs.get());
        m.put("gap_messages", gaps.get());
        m.put("gap_seqs", gapSeqs.get());
        m.put("bad_status", badStatus.get());
        m.put("bad_body", badBody.get());
        m.put("gave_up", gaveUp.get());
        if (tls != null) {
            m.put("tls_handshakes", tlsHandshakes.get());
            m.put("tls_resumed", tlsResumed.get());
        }
        Map<String, Object> o = new java.util.TreeMap<>();
        other.forEach((k, v) -> o.put(k, v.get()));
        m.put("other_messages", o);
        m.put("first_error", firstErrorText);
        return m;
    }

    /** Errors worth a line in the progress output: failed connects, I/O errors, bad answers, refusals. */
    long errorCount() {
        long n = connectErrors.get() + ioErrors.get() + badStatus.get() + badBody.get() + gaveUp.get();
        for (Map.Entry<String, AtomicLong> e : other.entrySet()) {
            if (!e.getKey().equals("reconnect")) {
                n += e.getValue().get();
            }
        }
        return n;
    }

    /** Counts a non-data message type or an HTTP status. Any thread. */
    void count(String what) {
        other.computeIfAbsent(what, k -> new AtomicLong()).incrementAndGet();
    }

    /** Keeps the first error text of the run. Any thread. */
    void noteError(String text) {
        if (firstError.compareAndSet(0, 1)) {
            firstErrorText = text;
        }
    }
}
