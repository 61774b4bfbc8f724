package io.jcomet.ws;

import java.io.ByteArrayOutputStream;
import java.io.DataInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.util.Random;

/**
 * A WebSocket client over a plain socket, for what {@link WsClient} (the JDK's) cannot do: connect
 * from a chosen loopback address (127.0.0.x, a distinct client for the per-address limits), send a
 * large request head, binary frames, unsolicited pongs, arbitrary bytes (fuzzing), and never read
 * at all. Blocking; one test thread per client.
 */
public final class RawWs implements AutoCloseable {
    public final Socket socket;
    private final InputStream in;
    private final OutputStream out;
    private final Random mask = new Random(1);
    /** The handshake's response head (status line and headers). */
    public final String head;

    /** A frame read: opcode and payload. */
    public record Frame(int opcode, byte[] payload) {
        public String text() {
            return new String(payload, StandardCharsets.UTF_8);
        }

        /** A close frame's code, or -1. */
        public int closeCode() {
            return opcode == 8 && payload.length >= 2 ? ((payload[0] & 0xff) << 8) | (payload[1] & 0xff) : -1;
        }
    }

    private RawWs(Socket s, String head) throws IOException {
        this.socket = s;
        this.in = s.getInputStream();
        this.out = s.getOutputStream();
        this.head = head;
    }

    /**
     * Connects from {@code from} (e.g. "127.0.0.7") to 127.0.0.1:{@code port} and upgrades;
     * {@code padBytes} adds a header of that many bytes (a large request head).
     */
    public static RawWs open(String from, int port, String pathAndQuery, int padBytes, String... headers) throws IOException {
        Socket s = new Socket();
        s.bind(new InetSocketAddress(InetAddress.getByName(from), 0));
        s.connect(new InetSocketAddress("127.0.0.1", port), 5000);
        s.setSoTimeout(10_000);
        StringBuilder req = new StringBuilder("GET ").append(pathAndQuery).append(" HTTP/1.1\r\nHost: 127.0.0.1:").append(port)
                .append("\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n")
                .append("Sec-WebSocket-Version: 13\r\n");
        for (int i = 0; i < headers.length; i += 2) {
            req.append(headers[i]).append(": ").append(headers[i + 1]).append("\r\n");
        }
        if (padBytes > 0) {
            req.append("X-Pad: ").append("p".repeat(padBytes)).append("\r\n");
        }
        s.getOutputStream().write(req.append("\r\n").toString().getBytes(StandardCharsets.US_ASCII));
        StringBuilder h = new StringBuilder();
        InputStream i = s.getInputStream();
        int c;
        while ((c = i.read()) >= 0) {
            h.append((char) c);
            if (h.length() >= 4 && h.lastIndexOf("\r\n\r\n") == h.length() - 4) {
                break;
            }
        }
        return new RawWs(s, h.toString());
    }

    public boolean upgraded() {
        return head.startsWith("HTTP/1.1 101");
    }

    public void text(String s) throws IOException {
        frame(1, s.getBytes(StandardCharsets.UTF_8));
    }

    /** One masked frame with FIN set. */
    public void frame(int opcode, byte[] payload) throws IOException {
        raw(encode(true, opcode, payload, mask));
    }

    /** A client frame as bytes: FIN flag, opcode, masked payload. */
    public static byte[] encode(boolean fin, int opcode, byte[] payload, Random mask) {
        ByteArrayOutputStream b = new ByteArrayOutputStream(payload.length + 14);
        b.write((fin ? 0x80 : 0) | (opcode & 0x0f));
        int n = payload.length;
        if (n < 126) {
            b.write(0x80 | n);
        } else if (n < 65536) {
            b.write(0x80 | 126);
            b.write(n >>> 8);
            b.write(n);
        } else {
            b.write(0x80 | 127);
            for (int s = 56; s >= 0; s -= 8) {
                b.write((int) ((long) n >>> s));
            }
        }
        byte[] m = new byte[4];
        mask.nextBytes(m);
        b.write(m, 0, 4);
        for (int i = 0; i < n; i++) {
            b.write(payload[i] ^ m[i & 3]);
        }
        return b.toByteArray();
    }

    public void raw(byte[] bytes) throws IOException {
        out.write(bytes);
        out.flush();
    }

    /** The next frame (server frames are unmasked); null at end of stream. Blocks up to the socket timeout. */
    public Frame read() throws IOException {
        DataInputStream d = new DataInputStream(in);
        int b0 = d.read();
        if (b0 < 0) {
            return null;
        }
        int b1 = d.readUnsignedByte();
        long n = b1 & 0x7f;
        if (n == 126) {
            n = d.readUnsignedShort();
        } else if (n == 127) {
            n = d.readLong();
        }
        byte[] p = new byte[(int) n];
        d.readFully(p);
        return new Frame(b0 & 0x0f, p);
    }

    /** The next text or close frame within {@code timeoutMs}, answering pings on the way; null at end of stream or on timeout. */
    public Frame nextTextOrClose(long timeoutMs) throws IOException {
        long end = System.currentTimeMillis() + timeoutMs;
        while (System.currentTimeMillis() < end) {
            socket.setSoTimeout((int) Math.max(1, end - System.currentTimeMillis()));
            Frame f;
            try {
                f = read();
            } catch (java.net.SocketTimeoutException e) {
                return null;
            }
            if (f == null || f.opcode() == 1 || f.opcode() == 8) {
                return f;
            }
            if (f.opcode() == 9) {
                frame(10, f.payload()); // pong with the ping's payload
            }
        }
        return null;
    }

    /** Answers the pings already received (with their payload) and drops other frames, without blocking on an idle socket. */
    public void answerPings() throws IOException {
        while (in.available() > 0) {
            Frame f = read();
            if (f == null) {
                return;
            }
            if (f.opcode() == 9) {
                frame(10, f.payload());
            }
        }
    }

    @Override
    public void close() {
        try {
            socket.close();
        } catch (IOException e) {
            // closed already
        }
    }
}
