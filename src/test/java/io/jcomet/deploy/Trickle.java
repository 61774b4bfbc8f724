package io.jcomet.deploy;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;

/**
 * Slowloris connections for the front-door tests: {@code n} TCP connections from one local address
 * (127.0.0.x: loopback answers every address of 127/8), each sending a request head that never
 * ends, one byte per {@link #tick}. Knows which of them the server has closed (end of stream or a
 * reset on read or write).
 *
 * <p>Threads: the test thread only (non-blocking channels, no background thread).
 */
final class Trickle implements AutoCloseable {
    private static final byte[] HEAD = "GET /sub?cname=slow&seq=1 HTTP/1.1\r\nHost: x\r\nX-Slow: ".getBytes(StandardCharsets.US_ASCII);

    /** What a TLS client sends first: a handshake record header announcing a 512-byte ClientHello. */
    static final byte[] TLS_RECORD_HEAD = {0x16, 0x03, 0x01, 0x02, 0x00};

    private final byte[] head;
    private final List<SocketChannel> channels = new ArrayList<>();
    private final List<Integer> sent = new ArrayList<>();
    private final boolean[] closed;
    private final ByteBuffer one = ByteBuffer.allocate(1);
    private final ByteBuffer sink = ByteBuffer.allocate(4096);

    /** Opens {@code n} connections from {@code fromAddress} to 127.0.0.1:{@code port}; a refused connect counts as closed. */
    Trickle(String fromAddress, int port, int n) throws IOException {
        this(fromAddress, port, n, HEAD);
    }

    /** The same, sending {@code head} one byte at a time, then 'a's. */
    Trickle(String fromAddress, int port, int n, byte[] head) throws IOException {
        this.head = head;
        closed = new boolean[n];
        for (int i = 0; i < n; i++) {
            SocketChannel c = SocketChannel.open();
            try {
                c.bind(new InetSocketAddress(fromAddress, 0));
                c.configureBlocking(false);
                c.connect(new InetSocketAddress("127.0.0.1", port));
            } catch (IOException e) {
                closed[i] = true;
            }
            channels.add(c);
            sent.add(0);
        }
    }

    int size() {
        return channels.size();
    }

    /** Finishes connects, sends one more byte on every open connection and notes the closed ones. */
    void tick() {
        for (int i = 0; i < channels.size(); i++) {
            if (!open(i)) {
                continue;
            }
            int k = sent.get(i);
            one.clear();
            one.put(k < head.length ? head[k] : (byte) 'a').flip();
            try {
                channels.get(i).write(one);
                sent.set(i, k + 1);
            } catch (IOException e) {
                closed[i] = true;
            }
        }
    }

    /** Checks each connection for the server's close without sending anything. */
    void poll() {
        for (int i = 0; i < channels.size(); i++) {
            open(i);
        }
    }

    /** Whether connection i is connected and not closed by the server (a close is noted); false while connecting. */
    private boolean open(int i) {
        if (closed[i]) {
            return false;
        }
        SocketChannel c = channels.get(i);
        try {
            if (c.isConnectionPending() && !c.finishConnect()) {
                return false;
            }
            sink.clear();
            if (c.read(sink) < 0) {
                closed[i] = true;
                return false;
            }
            return true;
        } catch (IOException e) {
            closed[i] = true;
            return false;
        }
    }

    int closedCount() {
        int n = 0;
        for (boolean b : closed) {
            if (b) {
                n++;
            }
        }
        return n;
    }

    int openCount() {
        return channels.size() - closedCount();
    }

    @Override
    public void close() {
        for (SocketChannel c : channels) {
            try {
                c.close();
            } catch (IOException ignored) {
                // closing anyway
            }
        }
    }
}
