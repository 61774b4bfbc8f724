package io.jcomet.bench;

import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.StandardSocketOptions;
import java.nio.ByteBuffer;
import java.nio.channels.ClosedSelectorException;
import java.nio.channels.SelectionKey;
import java.nio.channels.Selector;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.PriorityQueue;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Long-poll subscribers on non-blocking sockets, driven by a few selector threads (no thread per
 * connection). Each subscriber sends {@code GET /sub?cname=..&seq=..&noop=..}, waits for the answer
 * (one message or an array of buffered ones), records what it got in its {@link SeqAccount} and
 * polls again with seq = last + 1 on the same keep-alive connection (a new one if the server
 * closed it).
 *
 * <p>Threads: every {@link Sub} and its socket belong to one {@link Reactor} thread, which alone
 * reads and writes them. Other threads talk to a reactor only through its command queue (plus a
 * selector wake-up) and read the pool's atomic counters. Latency histograms are per reactor and
 * locked only to merge them. After {@link #stop()} has joined the reactor threads the scenario
 * thread may read every Sub directly.
 */
final class SubscriberPool implements AutoCloseable {

    private static final byte CLOSED = 0;
    private static final byte CONNECTING = 1;
    private static final byte CONNECTED = 2;
    private static final byte DONE = 3; // gave up (401, 404, close, too many failures)

    private static final int MAX_FAILURES = 50;

    /**
     * Test hook simulating a BROKEN client: when &gt; 0, subscriber 0 throws away the data message
     * with this seq as if it had never arrived. Only tests set it.
     */
    static volatile int testDropSeq;

    /** One subscriber: a channel name, a target port, its cursor and its accounting. */
    static final class Sub {
        final int id;
        final String cname;
        final int chan;
        final InetSocketAddress target;
        final InetSocketAddress source;
        final Reactor reactor;
        final SeqAccount acct;
        final HttpResponseParser parser = new HttpResponseParser();
        SocketChannel ch;
        SelectionKey key;
        ByteBuffer pending;
        byte state = CLOSED;
        boolean outstanding;
        boolean streamOpen; // --transport stream: the head of the endless answer has arrived
        boolean wsOpen; // --transport ws: the 101 answer has arrived; frames follow
        byte[] wsBuf; // --transport ws: bytes of an incomplete handshake head or frame (null: none)
        int wsLen;
        boolean wanted = true; // false after closeAll(): do not reconnect by itself
        boolean owned; // listed in its reactor's 'mine'
        int noop;
        int failures;
        long deliveries;

        Sub(int id, String cname, int chan, InetSocketAddress target, InetSocketAddress source, Reactor reactor,
            int startSeq) {
            this.id = id;
            this.cname = cname;
            this.chan = chan;
            this.target = target;
            this.source = source;
            this.reactor = reactor;
            this.acct = new SeqAccount(startSeq);
        }
    }

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
    /** Count of non-data message types (429, 401, 404, close, reconnect, error...) and of HTTP statuses. */
    final Map<String, AtomicLong> other = new ConcurrentHashMap<>();
    private final AtomicLong firstError = new AtomicLong();
    volatile String firstErrorText;

    private final String hostHeader;
    private final Options opts;
    private final Reactor[] reactors;
    private final List<Sub> subs = new ArrayList<>();
    private final int startSeq;

    SubscriberPool(Options opts, int startSeq) throws IOException {
        this.opts = opts;
        this.startSeq = startSeq;
        this.hostHeader = opts.host;
        reactors = new Reactor[opts.threads];
        for (int i = 0; i < reactors.length; i++) {
            reactors[i] = new Reactor(i);
        }
        for (Reactor r : reactors) {
            r.thread.start();
        }
    }

    int size() {
        return subs.size();
    }

    /** Subscribers, for the scenario thread (only after stop(), or for their immutable fields). */
    List<Sub> subs() {
        return subs;
    }

    /** Subscribers per channel times acknowledged pushes per channel ({@code k} channels). */
    long expectedDeliveries(Publishers pubs, int k) {
        long[] subsOn = new long[k];
        for (Sub s : subs) {
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
        for (Sub s : subs) {
            int[] range = pubs.range(opts.channelIndex(s.id) % k, s.acct.base());
            r.add(s.acct.verify(range[0], range[1]));
        }
        return r;
    }

    /** Creates subscribers up to {@code n} and opens them at {@code rate} per second (0 = at once). */
    void openUpTo(int n, double rate) {
        List<List<Sub>> perReactor = new ArrayList<>();
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
            Sub s = new Sub(i, opts.channelOf(i), opts.channelIndex(i), target, source, r, startSeq);
            subs.add(s);
            perReactor.get(r.index).add(s);
        }
        for (int i = 0; i < reactors.length; i++) {
            List<Sub> list = perReactor.get(i);
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
                List<Sub> mine = new ArrayList<>();
                for (Sub s : r.mine) {
                    if (s.state != DONE) {
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
            synchronized (r.latency) {
                r.lastPerMessage.forEach((k, v) -> merged.merge(k, v, Math::max));
            }
        }
        LogHistogram h = new LogHistogram();
        merged.values().forEach(h::record);
        return h;
    }

    /** Forgets the latencies recorded so far (after a warm-up). */
    void resetLatency() {
        for (Reactor r : reactors) {
            synchronized (r.latency) {
                r.latency.clear();
                r.lastPerMessage.clear();
            }
        }
    }

    /** Merged delivery latency (publish timestamp in the content to receipt), in nanoseconds. */
    LogHistogram latency() {
        LogHistogram h = new LogHistogram();
        for (Reactor r : reactors) {
            synchronized (r.latency) {
                h.add(r.latency);
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

    private void count(String what) {
        other.computeIfAbsent(what, k -> new AtomicLong()).incrementAndGet();
    }

    private void noteError(String text) {
        if (firstError.compareAndSet(0, 1)) {
            firstErrorText = text;
        }
    }

    // --------------------------------------------------------------- reactor

    /** One selector thread and the subscribers it owns. */
    final class Reactor implements Runnable {
        final int index;
        final Selector selector;
        final Thread thread;
        final ConcurrentLinkedQueue<Runnable> commands = new ConcurrentLinkedQueue<>();
        final List<Sub> mine = new ArrayList<>();
        final ArrayDeque<Sub> connectQueue = new ArrayDeque<>();
        final PriorityQueue<Delayed> delayed = new PriorityQueue<>((a, b) -> Long.compare(a.at - b.at, 0));
        final LogHistogram latency = new LogHistogram();
        /** (channel index &lt;&lt; 32 | seq) to the largest latency seen for that message; under latency's lock. */
        final Map<Long, Long> lastPerMessage = new java.util.HashMap<>();
        final ByteBuffer readBuf = ByteBuffer.allocateDirect(64 * 1024);
        volatile boolean running = true;
        double connectRate; // per second, 0 = unlimited
        long rateStart;
        long rateIssued;

        Reactor(int index) throws IOException {
            this.index = index;
            this.selector = Selector.open();
            this.thread = new Thread(this, "bench-selector-" + index);
            this.thread.setDaemon(true);
        }

        void submit(Runnable r) {
            commands.add(r);
            selector.wakeup();
        }

        void queueConnects(List<Sub> list, double rate) {
            for (Sub s : list) {
                if (!s.owned) {
                    s.owned = true;
                    mine.add(s);
                }
                connectQueue.add(s);
            }
            connectRate = rate;
            rateStart = System.nanoTime();
            rateIssued = 0;
        }

        void closeAllLocal() {
            connectQueue.clear();
            delayed.clear();
            for (Sub s : mine) {
                s.wanted = false;
                if (s.state == CONNECTED || s.state == CONNECTING) {
                    closeSub(s);
                }
            }
        }

        @Override
        public void run() {
            try {
                while (running) {
                    Runnable c;
                    while ((c = commands.poll()) != null) {
                        c.run();
                    }
                    long now = System.nanoTime();
                    runDelayed(now);
                    openSome(now);
                    long waitMs;
                    if (!connectQueue.isEmpty()) {
                        waitMs = 1;
                    } else if (!delayed.isEmpty()) {
                        waitMs = Math.max(1, (delayed.peek().at - now) / 1_000_000);
                        waitMs = Math.min(waitMs, 200);
                    } else {
                        waitMs = 200;
                    }
                    selector.select(waitMs);
                    Iterator<SelectionKey> it = selector.selectedKeys().iterator();
                    while (it.hasNext()) {
                        SelectionKey k = it.next();
                        it.remove();
                        Sub s = (Sub) k.attachment();
                        if (!k.isValid() || s.key != k) {
                            continue;
                        }
                        try {
                            if (k.isConnectable()) {
                                finishConnect(s);
                            } else {
                                if (k.isWritable()) {
                                    flush(s);
                                }
                                if (k.isValid() && k.isReadable()) {
                                    read(s);
                                }
                            }
                        } catch (IOException e) {
                            ioErrors.incrementAndGet();
                            noteError("I/O error on " + s.cname + ": " + e);
                            closeSub(s);
                            retryLater(s, 200);
                        }
                    }
                }
            } catch (IOException | ClosedSelectorException e) {
                noteError("selector failed: " + e);
            } finally {
                for (Sub s : mine) {
                    if (s.state == CONNECTED || s.state == CONNECTING) {
                        closeSub(s);
                    }
                }
                try {
                    selector.close();
                } catch (IOException ignored) {
                    // closing anyway
                }
            }
        }

        private void runDelayed(long now) {
            while (!delayed.isEmpty() && delayed.peek().at - now <= 0) {
                Sub s = delayed.poll().sub;
                if (!s.wanted || s.state == DONE) {
                    continue;
                }
                if (s.state == CLOSED) {
                    connect(s);
                } else if (s.state == CONNECTED && !s.outstanding) {
                    sendRequest(s);
                }
            }
        }

        private void openSome(long now) {
            if (connectQueue.isEmpty()) {
                return;
            }
            long allowed;
            if (connectRate <= 0) {
                allowed = 2000; // per loop turn, so that I/O is still served while opening
            } else {
                long due = (long) ((now - rateStart) / 1e9 * connectRate) + 1;
                allowed = Math.min(due - rateIssued, 2000);
            }
            for (long i = 0; i < allowed && !connectQueue.isEmpty(); i++) {
                Sub s = connectQueue.poll();
                rateIssued++;
                if (s.state == CLOSED && s.wanted) {
                    connect(s);
                }
            }
        }

        private void retryLater(Sub s, long delayMs) {
            if (!running || !s.wanted || s.state == DONE) {
                return;
            }
            s.failures++;
            if (s.failures > MAX_FAILURES) {
                s.state = DONE;
                gaveUp.incrementAndGet();
                noteError("subscriber " + s.cname + " gave up after " + MAX_FAILURES + " failures");
                return;
            }
            delayed.add(new Delayed(System.nanoTime() + delayMs * 1_000_000, s));
        }

        private void connect(Sub s) {
            SocketChannel ch = null;
            try {
                ch = SocketChannel.open();
                ch.configureBlocking(false);
                ch.setOption(StandardSocketOptions.TCP_NODELAY, true);
                if (s.source != null) {
                    ch.bind(s.source);
                }
                s.ch = ch;
                s.parser.reset();
                s.pending = null;
                s.outstanding = false;
                if (ch.connect(s.target)) {
                    s.key = ch.register(selector, SelectionKey.OP_READ, s);
                    s.state = CONNECTED;
                    connected.incrementAndGet();
                    connects.incrementAndGet();
                    sendRequest(s);
                } else {
                    s.key = ch.register(selector, SelectionKey.OP_CONNECT, s);
                    s.state = CONNECTING;
                    connecting.incrementAndGet();
                }
            } catch (IOException e) {
                connectErrors.incrementAndGet();
                noteError("connect to " + s.target + " failed: " + e);
                if (ch != null) {
                    try {
                        ch.close();
                    } catch (IOException ignored) {
                        // already failing
                    }
                }
                s.ch = null;
                s.key = null;
                s.state = CLOSED;
                retryLater(s, 1000);
            }
        }

        private void finishConnect(Sub s) {
            try {
                s.ch.finishConnect();
            } catch (IOException e) {
                connectErrors.incrementAndGet();
                noteError("connect to " + s.target + " failed: " + e);
                closeSub(s);
                retryLater(s, 1000);
                return;
            }
            connecting.decrementAndGet();
            connected.incrementAndGet();
            connects.incrementAndGet();
            s.state = CONNECTED;
            s.key.interestOps(SelectionKey.OP_READ);
            sendRequest(s);
        }

        private void sendRequest(Sub s) {
            if (opts.ws) {
                sendUpgrade(s);
                return;
            }
            String req = (opts.sse ? "GET /sse?cname=" : opts.stream ? "GET /stream?cname=" : "GET /sub?cname=") + s.cname
                    + "&seq=" + s.acct.expected() + "&noop=" + s.noop
                    // an empty epoch marks a jcomet-aware client: jcomet then reports lost messages as gap
                    // (icomet ignores the parameter); without it jcomet answers as icomet does
                    + "&epoch="
                    + " HTTP/1.1\r\nHost: " + hostHeader + "\r\n\r\n";
            s.parser.streaming(opts.stream);
            s.streamOpen = false;
            ByteBuffer b = ByteBuffer.wrap(req.getBytes(StandardCharsets.ISO_8859_1));
            s.outstanding = true;
            outstanding.incrementAndGet();
            requests.incrementAndGet();
            try {
                s.ch.write(b);
            } catch (IOException e) {
                ioErrors.incrementAndGet();
                noteError("write to " + s.target + " failed: " + e);
                closeSub(s);
                retryLater(s, 200);
                return;
            }
            if (b.hasRemaining()) {
                s.pending = b;
                s.key.interestOps(SelectionKey.OP_READ | SelectionKey.OP_WRITE);
            }
        }

        private void flush(Sub s) throws IOException {
            if (s.pending != null) {
                s.ch.write(s.pending);
                if (!s.pending.hasRemaining()) {
                    s.pending = null;
                    s.key.interestOps(SelectionKey.OP_READ);
                }
            } else {
                s.key.interestOps(SelectionKey.OP_READ);
            }
        }

        private void read(Sub s) throws IOException {
            readBuf.clear();
            int n = s.ch.read(readBuf);
            if (n < 0) {
                eof(s);
                return;
            }
            readBuf.flip();
            if (opts.ws) {
                readWs(s);
                return;
            }
            while (readBuf.hasRemaining() && s.state == CONNECTED) {
                HttpResponse r;
                try {
                    r = s.parser.feed(readBuf);
                } catch (HttpResponseParser.BadResponseException e) {
                    badBody.incrementAndGet();
                    noteError("bad response from " + s.target + ": " + e.getMessage());
                    closeSub(s);
                    retryLater(s, 1000);
                    return;
                }
                if (r != null && !s.outstanding) {
                    count("unsolicited_response");
                    continue;
                }
                if (r != null && opts.stream && s.parser.inProgress()) {
                    s.streamOpen = true; // the head of the stream; its lines follow
                    continue;
                }
                if (s.streamOpen && !takeStreamLines(s)) {
                    return;
                }
                if (r == null) {
                    return;
                }
                handle(s, r, r.keepAlive());
            }
        }

        // ------------------------------------------------------------ --transport ws

        /** The WebSocket handshake; the subscription is in the URL, as for /stream. */
        private void sendUpgrade(Sub s) {
            String req = "GET /ws?cname=" + s.cname + "&seq=" + s.acct.expected() + "&noop=" + s.noop
                    + " HTTP/1.1\r\nHost: " + hostHeader
                    + "\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
                    + "Sec-WebSocket-Version: 13\r\n\r\n";
            s.wsOpen = false;
            s.wsBuf = null;
            s.wsLen = 0;
            write(s, ByteBuffer.wrap(req.getBytes(StandardCharsets.ISO_8859_1)), true);
        }

        private void write(Sub s, ByteBuffer b, boolean request) {
            if (request) {
                s.outstanding = true;
                outstanding.incrementAndGet();
                requests.incrementAndGet();
            }
            try {
                if (s.pending != null) {
                    ByteBuffer both = ByteBuffer.allocate(s.pending.remaining() + b.remaining());
                    both.put(s.pending).put(b).flip();
                    s.pending = both;
                    return;
                }
                s.ch.write(b);
            } catch (IOException e) {
                ioErrors.incrementAndGet();
                noteError("write to " + s.target + " failed: " + e);
                closeSub(s);
                retryLater(s, 200);
                return;
            }
            if (b.hasRemaining()) {
                s.pending = b;
                s.key.interestOps(SelectionKey.OP_READ | SelectionKey.OP_WRITE);
            }
        }

        /** Appends readBuf to what the subscriber had left over and takes every complete unit. */
        private void readWs(Sub s) {
            int n = readBuf.remaining();
            if (s.wsBuf == null || s.wsBuf.length < s.wsLen + n) {
                byte[] grown = new byte[Math.max(s.wsLen + n, 256)];
                if (s.wsBuf != null) {
                    System.arraycopy(s.wsBuf, 0, grown, 0, s.wsLen);
                }
                s.wsBuf = grown;
            }
            readBuf.get(s.wsBuf, s.wsLen, n);
            s.wsLen += n;
            int pos = 0;
            if (!s.wsOpen) {
                int end = headEnd(s.wsBuf, s.wsLen);
                if (end < 0) {
                    return;
                }
                String head = new String(s.wsBuf, 0, end, StandardCharsets.ISO_8859_1);
                if (!head.startsWith("HTTP/1.1 101")) {
                    s.outstanding = false;
                    outstanding.decrementAndGet();
                    badStatus.incrementAndGet();
                    String status = head.length() >= 12 ? head.substring(9, 12) : "?";
                    count("http_" + status);
                    noteError("WebSocket handshake for " + s.cname + " answered " + head.lines().findFirst().orElse(""));
                    closeSub(s);
                    retryLater(s, 1000);
                    return;
                }
                s.wsOpen = true;
                responses.incrementAndGet();
                pos = end;
            }
            long now = System.nanoTime();
            while (s.state == CONNECTED) {
                int avail = s.wsLen - pos;
                if (avail < 2) {
                    break;
                }
                int b0 = s.wsBuf[pos] & 0xff;
                int b1 = s.wsBuf[pos + 1] & 0xff;
                int hdr = 2;
                long len = b1 & 0x7f;
                if (len == 126) {
                    if (avail < 4) {
                        break;
                    }
                    len = ((s.wsBuf[pos + 2] & 0xff) << 8) | (s.wsBuf[pos + 3] & 0xff);
                    hdr = 4;
                } else if (len == 127) {
                    if (avail < 10) {
                        break;
                    }
                    len = 0;
                    for (int i = 2; i < 10; i++) {
                        len = (len << 8) | (s.wsBuf[pos + i] & 0xff);
                    }
                    hdr = 10;
                }
                if ((b1 & 0x80) != 0 || len > (16 << 20)) {
                    badBody.incrementAndGet();
                    noteError("bad WebSocket frame from " + s.target + " (masked or over 16 MB)");
                    closeSub(s);
                    retryLater(s, 1000);
                    return;
                }
                if (avail < hdr + len) {
                    break;
                }
                int start = pos + hdr;
                pos = start + (int) len;
                if (!wsFrame(s, b0, start, (int) len, now)) {
                    return;
                }
            }
            if (s.state != CONNECTED) {
                return;
            }
            // keep the incomplete rest; an idle subscriber keeps no buffer
            if (pos >= s.wsLen) {
                s.wsBuf = null;
                s.wsLen = 0;
            } else if (pos > 0) {
                s.wsBuf = java.util.Arrays.copyOfRange(s.wsBuf, pos, s.wsLen);
                s.wsLen = s.wsBuf.length;
            }
        }

        private static int headEnd(byte[] b, int len) {
            for (int i = 3; i < len; i++) {
                if (b[i] == '\n' && b[i - 1] == '\r' && b[i - 2] == '\n' && b[i - 3] == '\r') {
                    return i + 1;
                }
            }
            return -1;
        }

        /** One server frame (server frames are never fragmented by jcomet); false when the subscriber was closed. */
        private boolean wsFrame(Sub s, int b0, int start, int len, long now) {
            int opcode = b0 & 0x0f;
            switch (opcode) {
                case 1 -> {
                    String text = new String(s.wsBuf, start, len, StandardCharsets.UTF_8);
                    List<Map<String, Object>> msgs;
                    try {
                        msgs = Json.messages(text);
                    } catch (Json.JsonException e) {
                        badBody.incrementAndGet();
                        noteError("bad WebSocket text for " + s.cname + ": " + e.getMessage());
                        return true;
                    }
                    int action = account(s, msgs, now, false);
                    if (action != 0) {
                        s.outstanding = false;
                        outstanding.decrementAndGet();
                        if (action == 2) {
                            giveUp(s);
                        } else {
                            closeSub(s);
                            retryLater(s, 1000);
                        }
                        return false;
                    }
                    return true;
                }
                case 9 -> { // ping: answer with a masked pong carrying the same payload
                    ByteBuffer pong = ByteBuffer.allocate(6 + len);
                    pong.put((byte) 0x8A).put((byte) (0x80 | len)).putInt(0); // zero mask: payload unchanged
                    pong.put(s.wsBuf, start, len).flip();
                    write(s, pong, false);
                    return s.state == CONNECTED;
                }
                case 8 -> { // close: the server ends the socket; reconnect like a stream that ended
                    count("ws_close_" + (len >= 2 ? ((s.wsBuf[start] & 0xff) << 8 | (s.wsBuf[start + 1] & 0xff)) : 0));
                    serverCloses.incrementAndGet();
                    closeSub(s);
                    if (s.wanted && running) {
                        reconnects.incrementAndGet();
                        retryLater(s, 100);
                    }
                    return false;
                }
                default -> {
                    return true; // pong, continuation: nothing to account
                }
            }
        }

        /**
         * Accounts the complete lines a stream has delivered so far. Returns false when the
         * subscriber was closed because of what a line said (429, reconnect, 401, 404, close).
         */
        private boolean takeStreamLines(Sub s) {
            String line;
            while ((line = s.parser.takeLine()) != null) {
                line = messageJson(line);
                if (line == null) {
                    continue;
                }
                List<Map<String, Object>> msgs;
                try {
                    msgs = Json.messages(line);
                } catch (Json.JsonException e) {
                    badBody.incrementAndGet();
                    noteError("bad stream line for " + s.cname + ": " + e.getMessage());
                    continue;
                }
                int action = account(s, msgs, System.nanoTime(), false);
                if (action != 0) {
                    s.outstanding = false;
                    outstanding.decrementAndGet();
                    if (action == 2) {
                        giveUp(s);
                    } else {
                        closeSub(s);
                        retryLater(s, 1000);
                    }
                    return false;
                }
            }
            return true;
        }

        /** A stream line's JSON message, or null for a line without one (blank; SSE id/retry lines). */
        private String messageJson(String line) {
            if (opts.sse) {
                // an event: "id: N", "data: {json}", blank line; only data lines carry messages
                if (!line.startsWith("data:")) {
                    return null;
                }
                line = line.substring(5);
            }
            return line.isBlank() ? null : line;
        }

        private void giveUp(Sub s) {
            s.wanted = false;
            closeSub(s);
            s.state = DONE;
            gaveUp.incrementAndGet();
        }

        private void eof(Sub s) {
            HttpResponse r = null;
            if (!opts.ws) { // a WebSocket has no HTTP answer to finish
                try {
                    r = s.parser.eof();
                } catch (HttpResponseParser.BadResponseException e) {
                    badBody.incrementAndGet();
                    noteError("response cut short by " + s.target + ": " + e.getMessage());
                }
            }
            boolean wasOutstanding = s.outstanding;
            if (r != null && s.outstanding) {
                handle(s, r, false);
                return;
            }
            serverCloses.incrementAndGet();
            closeSub(s);
            if (s.wanted && running) {
                reconnects.incrementAndGet();
                retryLater(s, wasOutstanding ? 0 : 100);
            }
        }

        /** A complete answer to the outstanding poll: account it, then poll again (or not). */
        private void handle(Sub s, HttpResponse r, boolean keepAlive) {
            long now = System.nanoTime();
            s.outstanding = false;
            outstanding.decrementAndGet();
            responses.incrementAndGet();
            int action = 0; // 0 = poll again now, 1 = poll again later, 2 = stop
            if (r.status() != 200) {
                badStatus.incrementAndGet();
                count("http_" + r.status());
                noteError("HTTP " + r.status() + " for " + s.cname + ": " + Json.abbreviate(r.bodyText()));
                action = 1;
            }
            List<Map<String, Object>> msgs = List.of();
            String text = r.bodyText();
            if (s.streamOpen) {
                // the end of a stream: its last lines (one JSON message each; SSE: the data lines)
                List<String> kept = new java.util.ArrayList<>();
                for (String l : text.split("\n")) {
                    String json = messageJson(l);
                    if (json != null) {
                        kept.add(json);
                    }
                }
                text = "[" + String.join(",", kept) + "]";
                s.streamOpen = false;
            }
            if (r.body().length > 0) {
                try {
                    msgs = Json.messages(text);
                } catch (Json.JsonException e) {
                    badBody.incrementAndGet();
                    noteError("bad body for " + s.cname + ": " + e.getMessage());
                    action = Math.max(action, 1);
                }
            }
            action = Math.max(action, account(s, msgs, now, true));
            if (action == 0) {
                s.failures = 0;
            }
            if (action == 2) {
                giveUp(s);
                return;
            }
            if (!keepAlive) {
                closeSub(s);
                if (action == 0) {
                    reconnects.incrementAndGet();
                    connect(s);
                } else {
                    retryLater(s, 1000);
                }
                return;
            }
            if (action == 0) {
                sendRequest(s);
            } else {
                retryLater(s, 1000);
            }
        }

        /**
         * Accounts the messages of one answer (long-poll) or one line (stream); returns what to do
         * next: 0 = go on, 1 = retry later, 2 = stop (401, 404, close, error).
         */
        private int account(Sub s, List<Map<String, Object>> msgs, long now, boolean poll) {
            int action = 0;
            for (Map<String, Object> m : msgs) {
                String type = Json.getString(m, "type");
                if (type == null) {
                    count("untyped");
                    continue;
                }
                switch (type) {
                    case "sub_ok", "unsub_ok" -> {
                        // --transport ws: the socket's answer to a subscription; its messages follow
                    }
                    case "data", "broadcast" -> {
                        int seq = (int) Json.getLong(m, "seq", Long.MIN_VALUE);
                        if (testDropSeq > 0 && seq == testDropSeq && s.id == 0) {
                            continue;
                        }
                        s.acct.onData(seq);
                        s.deliveries++;
                        s.failures = 0;
                        deliveries.incrementAndGet();
                        lastDeliveryNanos.accumulateAndGet(now, Math::max);
                        String content = Json.getString(m, "content");
                        long t = sendTime(content);
                        if (t != 0) {
                            synchronized (latency) {
                                latency.record(now - t);
                                lastPerMessage.merge(((long) s.chan << 32) | (seq & 0xffffffffL), now - t, Math::max);
                            }
                        }
                    }
                    case "next_seq" -> {
                        nextSeqs.incrementAndGet();
                        int asked = s.acct.expected();
                        s.acct.onNextSeq((int) Json.getLong(m, "seq", asked));
                        if (poll && msgs.size() == 1 && s.acct.expected() == asked) {
                            // the server keeps answering next_seq for the seq we ask: do not spin
                            count("next_seq_repeated");
                            action = Math.max(action, 1);
                        }
                    }
                    case "noop" -> {
                        noops.incrementAndGet();
                        s.noop = (int) Json.getLong(m, "seq", s.noop) + 1;
                        s.failures = 0;
                    }
                    case "gap" -> {
                        gaps.incrementAndGet();
                        int from = (int) Json.getLong(m, "from", 0);
                        int to = (int) Json.getLong(m, "to", -1);
                        if (to - from >= 0) {
                            gapSeqs.addAndGet((long) (to - from) + 1);
                        }
                        s.acct.onGap(from, to);
                    }
                    case "429", "reconnect" -> {
                        count(type);
                        action = Math.max(action, 1);
                    }
                    default -> {
                        // 401, 404, close, error: this subscriber is finished
                        count(type);
                        noteError("'" + type + "' for " + s.cname + ": " + Json.getString(m, "content"));
                        action = 2;
                    }
                }
            }
            return action;
        }

        private void closeSub(Sub s) {
            if (s.state == CONNECTED) {
                connected.decrementAndGet();
            } else if (s.state == CONNECTING) {
                connecting.decrementAndGet();
            }
            if (s.outstanding) {
                s.outstanding = false;
                outstanding.decrementAndGet();
            }
            if (s.key != null) {
                s.key.cancel();
            }
            if (s.ch != null) {
                try {
                    s.ch.close();
                } catch (IOException ignored) {
                    // nothing to do
                }
            }
            s.ch = null;
            s.key = null;
            s.pending = null;
            s.wsBuf = null;
            s.wsLen = 0;
            if (s.state != DONE) {
                s.state = CLOSED;
            }
        }
    }

    /** A subscriber to reconnect or re-poll at a time (System.nanoTime). */
    record Delayed(long at, Sub sub) {
    }

    /** The send timestamp of a content written as {@code t=<nanoTime>[ padding]}, or 0. */
    static long sendTime(String content) {
        if (content == null || !content.startsWith("t=")) {
            return 0;
        }
        long v = 0;
        int i = 2;
        boolean neg = false;
        if (i < content.length() && content.charAt(i) == '-') {
            neg = true;
            i++;
        }
        int start = i;
        while (i < content.length() && Character.isDigit(content.charAt(i)) && i - start < 19) {
            v = v * 10 + (content.charAt(i) - '0');
            i++;
        }
        if (i == start) {
            return 0;
        }
        return neg ? -v : v;
    }
}
