package io.jcomet.bench;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.HashMap;
import java.util.Locale;
import java.util.Map;

/**
 * Minimal incremental HTTP/1.1 response parser: status line, headers, then a body framed by
 * Content-Length, chunked transfer coding, or the end of the connection.
 *
 * <p>Threads: one instance belongs to one connection and is only touched by the thread that reads
 * that connection (a selector thread, or the thread of a {@link BlockingHttpClient}).
 *
 * <p>Bytes may arrive split anywhere (inside the status line, a header, a chunk size or a CRLF):
 * {@link #feed(ByteBuffer)} consumes what it can and returns a complete response, or null when it
 * needs more input. Bytes after a complete response stay in the buffer (never expected here: the
 * client sends one request at a time).
 */
final class HttpResponseParser {

    /** Largest status or header line accepted. */
    static final int MAX_LINE = 8192;
    /** Largest body accepted (a replayed long-poll batch is at most a channel buffer of messages). */
    static final int MAX_BODY = 16 << 20;

    /** Thrown on a malformed response; the connection must be closed. */
    static final class BadResponseException extends Exception {
        BadResponseException(String msg) {
            super(msg);
        }
    }

    private enum State { STATUS, HEADERS, BODY_LENGTH, CHUNK_SIZE, CHUNK_DATA, CHUNK_CRLF, TRAILERS, BODY_EOF }

    private State state = State.STATUS;
    private byte[] line = new byte[128];
    private int lineLen;
    private boolean lineSawCr;

    private int status;
    private String version;
    private Map<String, String> headers;
    private byte[] body = new byte[0];
    private int bodyLen;
    private long remaining; // body bytes left (Content-Length or current chunk)
    private boolean streaming; // see streaming()

    /**
     * Streaming mode, for an endless 200 response (a comet stream): {@link #feed} returns the head
     * (status and headers, empty body) as soon as it is complete and then keeps the body, which
     * the caller takes line by line with {@link #takeLine()}. Other responses parse as usual.
     */
    void streaming(boolean on) {
        streaming = on;
    }

    /** Streaming: the next complete body line (without its LF), or null when none is complete. */
    String takeLine() {
        for (int i = 0; i < bodyLen; i++) {
            if (body[i] == '\n') {
                String l = new String(body, 0, i, StandardCharsets.UTF_8);
                System.arraycopy(body, i + 1, body, 0, bodyLen - i - 1);
                bodyLen -= i + 1;
                return l;
            }
        }
        return null;
    }

    /** Resets for the next response on the same connection. */
    void reset() {
        state = State.STATUS;
        lineLen = 0;
        lineSawCr = false;
        status = 0;
        version = null;
        headers = null;
        bodyLen = 0;
        remaining = 0;
        if (body.length > 4096) {
            body = new byte[0]; // do not keep a large buffer per idle connection
        }
        if (line.length > 1024) {
            line = new byte[128];
        }
    }

    /** True once some byte of a response has been consumed and the response is not complete yet. */
    boolean inProgress() {
        return state != State.STATUS || lineLen > 0;
    }

    /**
     * Consumes bytes from {@code in}; returns the response once complete (the parser is then reset
     * for the next one), or null when more bytes are needed.
     */
    HttpResponse feed(ByteBuffer in) throws BadResponseException {
        while (in.hasRemaining()) {
            switch (state) {
                case STATUS: {
                    String l = readLine(in);
                    if (l == null) {
                        return null;
                    }
                    if (l.isEmpty()) {
                        continue; // tolerate stray CRLF between responses
                    }
                    parseStatus(l);
                    headers = new HashMap<>();
                    state = State.HEADERS;
                    break;
                }
                case HEADERS: {
                    String l = readLine(in);
                    if (l == null) {
                        return null;
                    }
                    if (!l.isEmpty()) {
                        addHeader(l);
                        break;
                    }
                    HttpResponse done = startBody();
                    if (done != null) {
                        return done;
                    }
                    break;
                }
                case BODY_LENGTH: {
                    int n = (int) Math.min(remaining, in.remaining());
                    append(in, n);
                    remaining -= n;
                    if (remaining == 0) {
                        return complete();
                    }
                    break;
                }
                case CHUNK_SIZE: {
                    String l = readLine(in);
                    if (l == null) {
                        return null;
                    }
                    int semi = l.indexOf(';');
                    String hex = (semi >= 0 ? l.substring(0, semi) : l).trim();
                    long size;
                    try {
                        size = Long.parseLong(hex, 16);
                    } catch (NumberFormatException e) {
                        throw new BadResponseException("bad chunk size: " + l);
                    }
                    if (size < 0 || bodyLen + size > MAX_BODY) { // streaming: unread lines count too
                        throw new BadResponseException("chunk too large: " + size);
                    }
                    if (size == 0) {
                        state = State.TRAILERS;
                    } else {
                        remaining = size;
                        state = State.CHUNK_DATA;
                    }
                    break;
                }
                case CHUNK_DATA: {
                    int n = (int) Math.min(remaining, in.remaining());
                    append(in, n);
                    remaining -= n;
                    if (remaining == 0) {
                        state = State.CHUNK_CRLF;
                    }
                    break;
                }
                case CHUNK_CRLF: {
                    String l = readLine(in);
                    if (l == null) {
                        return null;
                    }
                    if (!l.isEmpty()) {
                        throw new BadResponseException("missing CRLF after chunk");
                    }
                    state = State.CHUNK_SIZE;
                    break;
                }
                case TRAILERS: {
                    String l = readLine(in);
                    if (l == null) {
                        return null;
                    }
                    if (l.isEmpty()) {
                        return complete();
                    }
                    break; // ignore trailer fields
                }
                case BODY_EOF: {
                    int n = in.remaining();
                    if (bodyLen + n > MAX_BODY) {
                        throw new BadResponseException("body too large");
                    }
                    append(in, n);
                    break;
                }
                default:
                    throw new IllegalStateException(state.toString());
            }
        }
        return null;
    }

    /**
     * The connection ended. Returns the response when its body was delimited by the end of the
     * connection; throws when a response was cut short; returns null when nothing was pending.
     */
    HttpResponse eof() throws BadResponseException {
        if (state == State.BODY_EOF) {
            HttpResponse r = new HttpResponse(status, headers, java.util.Arrays.copyOf(body, bodyLen), false);
            reset();
            return r;
        }
        if (inProgress()) {
            throw new BadResponseException("connection closed in the middle of a response (" + state + ")");
        }
        return null;
    }

    private void parseStatus(String l) throws BadResponseException {
        // HTTP/1.1 200 OK
        int sp1 = l.indexOf(' ');
        if (sp1 < 0 || !l.startsWith("HTTP/")) {
            throw new BadResponseException("bad status line: " + l);
        }
        version = l.substring(0, sp1);
        int sp2 = l.indexOf(' ', sp1 + 1);
        String code = sp2 < 0 ? l.substring(sp1 + 1) : l.substring(sp1 + 1, sp2);
        try {
            status = Integer.parseInt(code.trim());
        } catch (NumberFormatException e) {
            throw new BadResponseException("bad status code: " + l);
        }
        if (status < 100 || status > 999) {
            throw new BadResponseException("bad status code: " + l);
        }
    }

    private void addHeader(String l) throws BadResponseException {
        int colon = l.indexOf(':');
        if (colon <= 0) {
            throw new BadResponseException("bad header line: " + l);
        }
        String name = l.substring(0, colon).trim().toLowerCase(Locale.ROOT);
        String value = l.substring(colon + 1).trim();
        headers.merge(name, value, (a, b) -> a + ", " + b);
    }

    private HttpResponse startBody() throws BadResponseException {
        if (status / 100 == 1) {
            // interim response (100 Continue): skip it, a final one follows
            state = State.STATUS;
            headers = null;
            return null;
        }
        String te = headers.get("transfer-encoding");
        String cl = headers.get("content-length");
        if (te != null && te.toLowerCase(Locale.ROOT).contains("chunked")) {
            state = State.CHUNK_SIZE;
            return streaming && status == 200 ? new HttpResponse(status, headers, new byte[0], true) : null;
        }
        if (status == 204 || status == 304) {
            return complete();
        }
        if (cl != null) {
            try {
                remaining = Long.parseLong(cl.trim());
            } catch (NumberFormatException e) {
                throw new BadResponseException("bad Content-Length: " + cl);
            }
            if (remaining < 0 || remaining > MAX_BODY) {
                throw new BadResponseException("bad Content-Length: " + cl);
            }
            if (remaining == 0) {
                return complete();
            }
            state = State.BODY_LENGTH;
            return null;
        }
        state = State.BODY_EOF;
        return null;
    }

    private HttpResponse complete() {
        boolean keepAlive;
        String conn = headers.get("connection");
        String c = conn == null ? "" : conn.toLowerCase(Locale.ROOT);
        if ("HTTP/1.0".equals(version)) {
            keepAlive = c.contains("keep-alive");
        } else {
            keepAlive = !c.contains("close");
        }
        HttpResponse r = new HttpResponse(status, headers, java.util.Arrays.copyOf(body, bodyLen), keepAlive);
        reset();
        return r;
    }

    private void append(ByteBuffer in, int n) {
        if (bodyLen + n > body.length) {
            body = java.util.Arrays.copyOf(body, Math.max(bodyLen + n, Math.max(256, body.length * 2)));
        }
        in.get(body, bodyLen, n);
        bodyLen += n;
    }

    /** Reads up to LF; returns the line without CR LF, or null when the line is not complete yet. */
    private String readLine(ByteBuffer in) throws BadResponseException {
        while (in.hasRemaining()) {
            byte b = in.get();
            if (b == '\n') {
                String s = new String(line, 0, lineLen, StandardCharsets.ISO_8859_1);
                lineLen = 0;
                lineSawCr = false;
                return s;
            }
            if (lineSawCr) {
                // a lone CR inside a line: keep it
                put((byte) '\r');
                lineSawCr = false;
            }
            if (b == '\r') {
                lineSawCr = true;
            } else {
                put(b);
            }
        }
        return null;
    }

    private void put(byte b) throws BadResponseException {
        if (lineLen == MAX_LINE) {
            throw new BadResponseException("line too long");
        }
        if (lineLen == line.length) {
            line = java.util.Arrays.copyOf(line, Math.min(MAX_LINE, line.length * 2));
        }
        line[lineLen++] = b;
    }
}
