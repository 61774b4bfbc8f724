package io.jcomet.bench;

import static io.jcomet.bench.PoolSubscriber.CLOSED;
import static io.jcomet.bench.PoolSubscriber.CONNECTED;
import static io.jcomet.bench.PoolSubscriber.CONNECTING;
import static io.jcomet.bench.PoolSubscriber.DONE;

import io.jcomet.bench.WireDecoder.Decoded;
import java.io.IOException;
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
import java.util.PriorityQueue;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.atomic.AtomicLong;

/**
 * One selector thread and the subscribers it owns: connects them (at a rate), writes their
 * requests, reads their sockets, hands the bytes to each subscriber's {@link WireDecoder} and acts
 * on the events (account the messages with {@link DeliveryAccounting}, poll again, answer a ping,
 * reconnect, give up), and retries failed subscribers later.
 *
 * <p>Threads: everything here runs on {@link #thread}, except {@link #submit} (any thread: a
 * command queue plus a selector wake-up) and {@code running}, which {@link SubscriberPool#stop}
 * clears. Counters are the pool's atomics.
 */
final class Reactor implements Runnable {

    private static final int MAX_FAILURES = 50;

    final int index;
    final Selector selector;
    final Thread thread;
    final DeliveryAccounting accounting;
    final List<PoolSubscriber> mine = new ArrayList<>();
    volatile boolean running = true;
    private final SubscriberPool pool;
    private final String hostHeader;
    private final ConcurrentLinkedQueue<Runnable> commands = new ConcurrentLinkedQueue<>();
    private final ArrayDeque<PoolSubscriber> connectQueue = new ArrayDeque<>();
    private final PriorityQueue<Delayed> delayed = new PriorityQueue<>((a, b) -> Long.compare(a.at - b.at, 0));
    private final ByteBuffer readBuf = ByteBuffer.allocateDirect(64 * 1024);
    /** --tls: what one unwrap decrypts (a TLS record holds at most 16 KB of plaintext). */
    private final ByteBuffer tlsPlain = ByteBuffer.allocate(64 * 1024);
    /** --tls: what one wrap encrypts, copied out before the next. */
    private final ByteBuffer tlsSealed = ByteBuffer.allocate(64 * 1024);
    private static final ByteBuffer NOTHING = ByteBuffer.allocate(0);
    private double connectRate; // per second, 0 = unlimited
    private long rateStart;
    private long rateIssued;

    /** A subscriber to reconnect or re-poll at a time (System.nanoTime). */
    private record Delayed(long at, PoolSubscriber sub) {
    }

    Reactor(int index, SubscriberPool pool, String hostHeader) throws IOException {
        this.index = index;
        this.pool = pool;
        this.hostHeader = hostHeader;
        this.accounting = new DeliveryAccounting(pool);
        this.selector = Selector.open();
        this.thread = new Thread(this, "bench-selector-" + index);
        this.thread.setDaemon(true);
    }

    /** Runs {@code r} on the reactor thread, soon. Any thread. */
    void submit(Runnable r) {
        commands.add(r);
        selector.wakeup();
    }

    /** Opens these subscribers at {@code rate} per second (0 = at once); they become this reactor's. */
    void queueConnects(List<PoolSubscriber> list, double rate) {
        for (PoolSubscriber s : list) {
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

    /** Closes every connection; the subscribers keep their accounts and do not reconnect by themselves. */
    void closeAllLocal() {
        connectQueue.clear();
        delayed.clear();
        for (PoolSubscriber s : mine) {
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
                    PoolSubscriber s = (PoolSubscriber) k.attachment();
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
                        fail(s, pool.ioErrors, "I/O error on " + s.cname + ": " + e, 200);
                    }
                }
            }
        } catch (IOException | ClosedSelectorException e) {
            pool.noteError("selector failed: " + e);
        } finally {
            for (PoolSubscriber s : mine) {
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
            PoolSubscriber s = delayed.poll().sub;
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
            PoolSubscriber s = connectQueue.poll();
            rateIssued++;
            if (s.state == CLOSED && s.wanted) {
                connect(s);
            }
        }
    }

    /** Counts a failure, keeps its text if it is the run's first, closes the connection and retries later. */
    private void fail(PoolSubscriber s, AtomicLong counter, String error, long retryMs) {
        counter.incrementAndGet();
        pool.noteError(error);
        closeSub(s);
        retryLater(s, retryMs);
    }

    private void retryLater(PoolSubscriber s, long delayMs) {
        if (!running || !s.wanted || s.state == DONE) {
            return;
        }
        s.failures++;
        if (s.failures > MAX_FAILURES) {
            s.state = DONE;
            pool.gaveUp.incrementAndGet();
            pool.noteError("subscriber " + s.cname + " gave up after " + MAX_FAILURES + " failures");
            return;
        }
        delayed.add(new Delayed(System.nanoTime() + delayMs * 1_000_000, s));
    }

    // ------------------------------------------------------------ connection I/O

    private void connect(PoolSubscriber s) {
        SocketChannel ch = null;
        try {
            ch = SocketChannel.open();
            ch.configureBlocking(false);
            ch.setOption(StandardSocketOptions.TCP_NODELAY, true);
            if (s.source != null) {
                ch.bind(s.source);
            }
            s.ch = ch;
            s.decoder.reset();
            s.pending = null;
            s.outstanding = false;
            s.tls = null;
            s.tlsLeft = null;
            if (ch.connect(s.target)) {
                s.key = ch.register(selector, SelectionKey.OP_READ, s);
                s.state = CONNECTED;
                pool.connected.incrementAndGet();
                pool.connects.incrementAndGet();
                opened(s);
            } else {
                s.key = ch.register(selector, SelectionKey.OP_CONNECT, s);
                s.state = CONNECTING;
                pool.connecting.incrementAndGet();
            }
        } catch (IOException e) {
            pool.connectErrors.incrementAndGet();
            pool.noteError("connect to " + s.target + " failed: " + e);
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

    private void finishConnect(PoolSubscriber s) {
        try {
            s.ch.finishConnect();
        } catch (IOException e) {
            fail(s, pool.connectErrors, "connect to " + s.target + " failed: " + e, 1000);
            return;
        }
        pool.connecting.decrementAndGet();
        pool.connected.incrementAndGet();
        pool.connects.incrementAndGet();
        s.state = CONNECTED;
        s.key.interestOps(SelectionKey.OP_READ);
        opened(s);
    }

    /** A connection is open: the subscribe request, or with --tls the handshake first. */
    private void opened(PoolSubscriber s) {
        if (pool.tls == null) {
            sendRequest(s);
            return;
        }
        s.tls = pool.tls.engine(s.id, s.target.getPort());
        s.tlsReady = false;
        s.tlsStartMillis = System.currentTimeMillis();
        try {
            s.tls.beginHandshake();
            tlsPump(s, NOTHING);
        } catch (IOException e) {
            fail(s, pool.ioErrors, "TLS handshake with " + s.target + " failed: " + e, 200);
        }
    }

    /**
     * Drives the connection's engine over {@code in} (bytes read from the network): runs the
     * handshake's tasks, writes what it wants written, hands decrypted bytes to the decoder, and
     * sends the subscribe request once the handshake is done. Keeps an incomplete record's bytes.
     */
    private void tlsPump(PoolSubscriber s, ByteBuffer in) throws IOException {
        javax.net.ssl.SSLEngine e = s.tls;
        SocketChannel ch = s.ch;
        while (s.ch == ch && s.tls == e && s.state == CONNECTED) {
            javax.net.ssl.SSLEngineResult.HandshakeStatus hs = e.getHandshakeStatus();
            if (!s.tlsReady && hs == javax.net.ssl.SSLEngineResult.HandshakeStatus.NOT_HANDSHAKING) {
                s.tlsReady = true;
                pool.tlsHandshakes.incrementAndGet();
                if (e.getSession().getCreationTime() < s.tlsStartMillis) {
                    pool.tlsResumed.incrementAndGet(); // a resumed session keeps its first creation time
                }
                sendRequest(s);
                continue;
            }
            if (hs == javax.net.ssl.SSLEngineResult.HandshakeStatus.NEED_TASK) {
                Runnable task;
                while ((task = e.getDelegatedTask()) != null) {
                    task.run();
                }
                continue;
            }
            if (hs == javax.net.ssl.SSLEngineResult.HandshakeStatus.NEED_WRAP) {
                rawWrite(s, seal(s, NOTHING));
                continue;
            }
            if (!in.hasRemaining()) {
                break;
            }
            tlsPlain.clear();
            javax.net.ssl.SSLEngineResult r = e.unwrap(in, tlsPlain);
            if (r.getStatus() == javax.net.ssl.SSLEngineResult.Status.BUFFER_UNDERFLOW) {
                break;
            }
            if (r.getStatus() == javax.net.ssl.SSLEngineResult.Status.CLOSED) {
                in.position(in.limit());
                eof(s);
                return;
            }
            if (r.getStatus() == javax.net.ssl.SSLEngineResult.Status.BUFFER_OVERFLOW) {
                throw new IOException("TLS record larger than " + tlsPlain.capacity() + " bytes");
            }
            tlsPlain.flip();
            if (tlsPlain.hasRemaining()) {
                decode(s, tlsPlain);
            }
        }
        if (s.ch == ch && s.tls == e && in.hasRemaining()) {
            ByteBuffer left = ByteBuffer.allocate(in.remaining());
            left.put(in).flip();
            s.tlsLeft = left;
        } else {
            s.tlsLeft = null;
        }
    }

    /** The TLS records of {@code plain} (a fresh buffer: a write may keep it as pending). */
    private ByteBuffer seal(PoolSubscriber s, ByteBuffer plain) throws IOException {
        ByteBuffer out = null;
        do {
            tlsSealed.clear();
            javax.net.ssl.SSLEngineResult r = s.tls.wrap(plain, tlsSealed);
            if (r.getStatus() != javax.net.ssl.SSLEngineResult.Status.OK) {
                throw new IOException("TLS wrap: " + r.getStatus());
            }
            tlsSealed.flip();
            ByteBuffer both = ByteBuffer.allocate((out == null ? 0 : out.remaining()) + tlsSealed.remaining());
            if (out != null) {
                both.put(out);
            }
            both.put(tlsSealed).flip();
            out = both;
        } while (plain.hasRemaining());
        return out;
    }

    /** Writes the transport's subscribe request: the subscriber is held until it is answered. */
    private void sendRequest(PoolSubscriber s) {
        String req = s.decoder.request(s.cname, s.acct.expected(), s.noop, hostHeader);
        write(s, ByteBuffer.wrap(req.getBytes(StandardCharsets.ISO_8859_1)), true);
    }

    private void write(PoolSubscriber s, ByteBuffer b, boolean request) {
        if (request) {
            s.outstanding = true;
            pool.outstanding.incrementAndGet();
            pool.requests.incrementAndGet();
        }
        if (s.tls != null) {
            try {
                b = seal(s, b);
            } catch (IOException e) {
                fail(s, pool.ioErrors, "TLS wrap for " + s.target + " failed: " + e, 200);
                return;
            }
        }
        rawWrite(s, b);
    }

    /** Writes bytes as they are; what the socket does not take now waits as pending. */
    private void rawWrite(PoolSubscriber s, ByteBuffer b) {
        if (s.ch == null) {
            return;
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
            fail(s, pool.ioErrors, "write to " + s.target + " failed: " + e, 200);
            return;
        }
        if (b.hasRemaining()) {
            s.pending = b;
            s.key.interestOps(SelectionKey.OP_READ | SelectionKey.OP_WRITE);
        }
    }

    private void flush(PoolSubscriber s) throws IOException {
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

    private void read(PoolSubscriber s) throws IOException {
        readBuf.clear();
        int n = s.ch.read(readBuf);
        if (n < 0) {
            eof(s);
            return;
        }
        readBuf.flip();
        if (s.tls != null) {
            ByteBuffer in = readBuf;
            if (s.tlsLeft != null) {
                in = ByteBuffer.allocate(s.tlsLeft.remaining() + readBuf.remaining());
                in.put(s.tlsLeft).put(readBuf).flip();
            }
            tlsPump(s, in);
            return;
        }
        decode(s, readBuf);
    }

    /** Hands the bytes read (decrypted with --tls) to the connection's decoder, and acts on what it found. */
    private void decode(PoolSubscriber s, ByteBuffer bytes) {
        SocketChannel ch = s.ch;
        long now = System.nanoTime();
        for (Decoded d : s.decoder.feed(bytes)) {
            if (s.ch != ch || s.state != CONNECTED) {
                return; // an earlier event closed (or replaced) the connection: the rest was its
            }
            on(s, d, now);
        }
    }

    private void eof(PoolSubscriber s) {
        Decoded.Answer r = null;
        try {
            r = s.decoder.eof();
        } catch (HttpResponseParser.BadResponseException e) {
            pool.badBody.incrementAndGet();
            pool.noteError("response cut short by " + s.target + ": " + e.getMessage());
        }
        boolean wasOutstanding = s.outstanding;
        if (r != null && s.outstanding) {
            answered(s, r, System.nanoTime());
            return;
        }
        pool.serverCloses.incrementAndGet();
        closeSub(s);
        if (s.wanted && running) {
            pool.reconnects.incrementAndGet();
            retryLater(s, wasOutstanding ? 0 : 100);
        }
    }

    void closeSub(PoolSubscriber s) {
        if (s.state == CONNECTED) {
            pool.connected.decrementAndGet();
        } else if (s.state == CONNECTING) {
            pool.connecting.decrementAndGet();
        }
        if (s.outstanding) {
            s.outstanding = false;
            pool.outstanding.decrementAndGet();
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
        s.tls = null;
        s.tlsLeft = null;
        s.decoder.reset();
        if (s.state != DONE) {
            s.state = CLOSED;
        }
    }

    // ------------------------------------------------------------ what the decoder found

    private void on(PoolSubscriber s, Decoded d, long now) {
        if (d instanceof Decoded.Messages m) {
            int action = accounting.account(s, m.messages(), now, false);
            if (action != DeliveryAccounting.GO_ON) {
                endStream(s, action);
            }
        } else if (d instanceof Decoded.Answer a) {
            if (!s.outstanding) {
                pool.count("unsolicited_response");
            } else {
                answered(s, a, now);
            }
        } else if (d instanceof Decoded.Opened o) {
            if (o.wholeResponse()) {
                pool.responses.incrementAndGet();
            }
        } else if (d instanceof Decoded.BadMessage b) {
            pool.badBody.incrementAndGet();
            pool.noteError("bad " + b.what() + " for " + s.cname + ": " + b.error());
        } else if (d instanceof Decoded.Reply r) {
            write(s, r.bytes(), false);
        } else if (d instanceof Decoded.Refused r) {
            s.outstanding = false;
            pool.outstanding.decrementAndGet();
            pool.badStatus.incrementAndGet();
            pool.count("http_" + r.status());
            pool.noteError("WebSocket handshake for " + s.cname + " answered " + r.statusLine());
            closeSub(s);
            retryLater(s, 1000);
        } else if (d instanceof Decoded.Closed c) {
            // the server ends the socket; reconnect like a stream that ended
            pool.count("ws_close_" + c.code());
            pool.serverCloses.incrementAndGet();
            closeSub(s);
            if (s.wanted && running) {
                pool.reconnects.incrementAndGet();
                retryLater(s, 100);
            }
        } else if (d instanceof Decoded.Broken b) {
            fail(s, pool.badBody, "bad " + b.what() + " from " + s.target + ": " + b.error(), 1000);
        } else {
            throw new IllegalStateException("unknown event " + d);
        }
    }

    /** A line or frame of a stream said to stop (429, reconnect, 401, 404, close): end this stream. */
    private void endStream(PoolSubscriber s, int action) {
        s.outstanding = false;
        pool.outstanding.decrementAndGet();
        if (action == DeliveryAccounting.STOP) {
            giveUp(s);
        } else {
            closeSub(s);
            retryLater(s, 1000);
        }
    }

    /** A complete answer to the outstanding request: account it, then poll again (or not). */
    private void answered(PoolSubscriber s, Decoded.Answer a, long now) {
        HttpResponse r = a.response();
        s.outstanding = false;
        pool.outstanding.decrementAndGet();
        pool.responses.incrementAndGet();
        int action = DeliveryAccounting.GO_ON;
        if (r.status() != 200) {
            pool.badStatus.incrementAndGet();
            pool.count("http_" + r.status());
            pool.noteError("HTTP " + r.status() + " for " + s.cname + ": " + Json.abbreviate(r.bodyText()));
            action = DeliveryAccounting.RETRY_LATER;
        }
        if (a.bodyError() != null) {
            pool.badBody.incrementAndGet();
            pool.noteError("bad body for " + s.cname + ": " + a.bodyError());
            action = Math.max(action, DeliveryAccounting.RETRY_LATER);
        }
        action = Math.max(action, accounting.account(s, a.messages(), now, true));
        if (action == DeliveryAccounting.GO_ON) {
            s.failures = 0;
        }
        if (action == DeliveryAccounting.STOP) {
            giveUp(s);
            return;
        }
        if (!a.keepAlive()) {
            closeSub(s);
            if (action == DeliveryAccounting.GO_ON) {
                pool.reconnects.incrementAndGet();
                connect(s);
            } else {
                retryLater(s, 1000);
            }
            return;
        }
        if (action == DeliveryAccounting.GO_ON) {
            sendRequest(s);
        } else {
            retryLater(s, 1000);
        }
    }

    private void giveUp(PoolSubscriber s) {
        s.wanted = false;
        closeSub(s);
        s.state = DONE;
        pool.gaveUp.incrementAndGet();
    }
}
