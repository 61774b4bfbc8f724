package io.jcomet.support;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;

/**
 * A raw-socket HTTP/1.1 GET whose body is read incrementally (chunked decoding included), for
 * streaming transports and for tests that close the socket under a held request.
 */
public final class RawStream implements AutoCloseable {
    private final Socket socket;
    private final InputStream in;
    private final StringBuilder body = new StringBuilder();
    private final ByteArrayOutputStream pendingBytes = new ByteArrayOutputStream();
    public final int status;
    public final List<String> headers = new ArrayList<>();
    private final boolean chunked;
    private int chunkLeft = 0;
    /** Where in {@link #body} each chunk began (chunked responses; ASCII bodies). */
    private final List<Integer> chunkStarts = new ArrayList<>();
    private boolean ended;

    public RawStream(int port, String pathAndQuery, String... extraHeaders) throws IOException {
        socket = new Socket("127.0.0.1", port);
        socket.setSoTimeout(200);
        OutputStream out = socket.getOutputStream();
        StringBuilder req = new StringBuilder("GET " + pathAndQuery + " HTTP/1.1\r\nHost: 127.0.0.1\r\n");
        for (String h : extraHeaders) {
            req.append(h).append("\r\n");
        }
        out.write(req.append("\r\n").toString().getBytes(StandardCharsets.US_ASCII));
        out.flush();
        in = socket.getInputStream();
        String statusLine = readLine(10_000);
        status = Integer.parseInt(statusLine.split(" ")[1]);
        boolean ch = false;
        String line;
        while (!(line = readLine(10_000)).isEmpty()) {
            headers.add(line);
            if (line.toLowerCase().startsWith("transfer-encoding:") && line.toLowerCase().contains("chunked")) {
                ch = true;
            }
        }
        chunked = ch;
    }

    /** Returns a header value (case-insensitive name) or null. */
    public String header(String name) {
        for (String h : headers) {
            int c = h.indexOf(':');
            if (c > 0 && h.substring(0, c).trim().equalsIgnoreCase(name)) {
                return h.substring(c + 1).trim();
            }
        }
        return null;
    }

    private String readLine(long timeoutMs) throws IOException {
        ByteArrayOutputStream b = new ByteArrayOutputStream();
        long deadline = System.currentTimeMillis() + timeoutMs;
        while (true) {
            int c;
            try {
                c = in.read();
            } catch (SocketTimeoutException e) {
                if (System.currentTimeMillis() > deadline) {
                    throw e;
                }
                continue;
            }
            if (c < 0) {
                throw new IOException("connection closed");
            }
            if (c == '\n') {
                String s = b.toString(StandardCharsets.UTF_8);
                return s.endsWith("\r") ? s.substring(0, s.length() - 1) : s;
            }
            b.write(c);
        }
    }

    /** Reads body bytes until {@code text} has appeared in the body or the timeout passes. */
    public String awaitBody(String text, long timeoutMs) throws IOException {
        long deadline = System.currentTimeMillis() + timeoutMs;
        while (body.indexOf(text) < 0) {
            if (System.currentTimeMillis() > deadline) {
                throw new AssertionError("timed out waiting for " + text + " in body: " + body);
            }
            if (!readSome()) {
                if (ended) {
                    throw new AssertionError("stream ended before " + text + " in body: " + body);
                }
            }
        }
        return body.toString();
    }

    /** True if the server ended the response (or closed) within the timeout. */
    public boolean awaitEnd(long timeoutMs) throws IOException {
        long deadline = System.currentTimeMillis() + timeoutMs;
        while (!ended && System.currentTimeMillis() < deadline) {
            readSome();
        }
        return ended;
    }

    public String body() {
        return body.toString();
    }

    /** How many chunks began after body offset {@code from} and at or before {@code to}. */
    public int chunksStartedIn(int from, int to) {
        int n = 0;
        for (int at : chunkStarts) {
            if (at > from && at <= to) {
                n++;
            }
        }
        return n;
    }

    private boolean readSome() throws IOException {
        try {
            if (chunked) {
                if (chunkLeft == 0) {
                    String size = readLine(200);
                    if (size.isEmpty()) {
                        size = readLine(200);
                    }
                    chunkLeft = Integer.parseInt(size.trim(), 16);
                    if (chunkLeft == 0) {
                        ended = true;
                        return false;
                    }
                    chunkStarts.add(body.length());
                }
                byte[] buf = new byte[chunkLeft];
                int n = in.read(buf);
                if (n < 0) {
                    ended = true;
                    return false;
                }
                chunkLeft -= n;
                append(buf, n);
                return true;
            }
            byte[] buf = new byte[4096];
            int n = in.read(buf);
            if (n < 0) {
                ended = true;
                return false;
            }
            append(buf, n);
            return true;
        } catch (SocketTimeoutException e) {
            return false;
        } catch (IOException e) {
            ended = true;
            return false;
        }
    }

    private void append(byte[] buf, int n) {
        pendingBytes.write(buf, 0, n);
        byte[] all = pendingBytes.toByteArray();
        // keep an incomplete UTF-8 sequence for the next read
        int end = all.length;
        int back = 0;
        while (back < 3 && end - back - 1 >= 0 && (all[end - back - 1] & 0xC0) == 0x80) {
            back++;
        }
        if (end - back - 1 >= 0 && (all[end - back - 1] & 0x80) != 0) {
            int lead = all[end - back - 1] & 0xFF;
            int need = lead >= 0xF0 ? 3 : lead >= 0xE0 ? 2 : lead >= 0xC0 ? 1 : 0;
            if (need > back) {
                end = end - back - 1;
            }
        }
        body.append(new String(all, 0, end, StandardCharsets.UTF_8));
        pendingBytes.reset();
        pendingBytes.write(all, end, all.length - end);
    }

    /** Stops reading without closing (a client that stopped reading). */
    public Socket socket() {
        return socket;
    }

    @Override
    public void close() throws IOException {
        socket.close();
    }
}
