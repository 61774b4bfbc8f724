package io.jcomet.fidelity;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * Sends one scripted request sequence to a comet server (icomet or jcomet) and writes every answer
 * to a transcript: status, the headers that matter, the body exactly as received. The script is
 * {@code src/test/resources/icomet/script.txt}; icomet's transcript, recorded with this class
 * against icomet 0.2.5 built from source, is {@code src/test/resources/icomet/icomet-0.2.5.transcript};
 * {@code IcometTranscriptTest} records jcomet with the same script and compares.
 *
 * <p>Run against a server: {@code java -cp target/test-classes io.jcomet.fidelity.TranscriptRecorder
 * <script> <admin port> <front port> <out file>} (host 127.0.0.1). The script format is described
 * at the top of script.txt.
 *
 * <p>Raw sockets, one connection per request ({@code Connection: close}), HTTP/1.1 with chunked
 * decoding, so held and streaming answers are read as they arrive. Threads: the caller's only.
 */
public final class TranscriptRecorder {
    /** Headers written to the transcript (lower case); the rest (Date, Server, lengths) vary by server and run. */
    static final List<String> HEADERS = List.of("content-type", "access-control-allow-origin", "allow");

    private final String host;
    private final int adminPort;
    private final int frontPort;
    private final Map<String, Conn> open = new HashMap<>();
    private final StringBuilder out = new StringBuilder();
    private int entry;
    private String caseName = "-";
    private String lastToken = ""; // the token of the last /sign answer: {token} in a request line

    private static final java.util.regex.Pattern TOKEN = java.util.regex.Pattern.compile("\"token\":\"([0-9a-f]{32})\"");

    public TranscriptRecorder(String host, int adminPort, int frontPort) {
        this.host = host;
        this.adminPort = adminPort;
        this.frontPort = frontPort;
    }

    public static void main(String[] args) throws Exception {
        if (args.length != 4) {
            System.err.println("usage: TranscriptRecorder <script> <admin port> <front port> <out file>");
            System.exit(2);
        }
        String script = Files.readString(Path.of(args[0]), StandardCharsets.UTF_8);
        String t = new TranscriptRecorder("127.0.0.1", Integer.parseInt(args[1]), Integer.parseInt(args[2])).run(script);
        Files.writeString(Path.of(args[3]), t, StandardCharsets.UTF_8);
        System.out.println("wrote " + args[3] + " (" + t.lines().filter(l -> l.startsWith("#")).count() + " entries)");
    }

    /** Runs the whole script; returns the transcript. */
    public String run(String script) throws Exception {
        try {
            int lineNo = 0;
            for (String raw : script.split("\n", -1)) {
                lineNo++;
                String line = raw.strip();
                if (line.isEmpty() || line.startsWith("//")) {
                    continue;
                }
                try {
                    step(line);
                } catch (IOException e) {
                    throw new IOException("script line " + lineNo + " (" + line + "): " + e, e);
                }
            }
        } finally {
            for (Conn c : open.values()) {
                c.close();
            }
            open.clear();
        }
        return out.toString();
    }

    private void step(String line) throws Exception {
        String[] w = line.split(" ", 2);
        String verb = w[0];
        String rest = w.length > 1 ? w[1] : "";
        switch (verb) {
            case "CASE": {
                caseName = rest;
                return;
            }
            case "SLEEP": {
                Thread.sleep(Long.parseLong(rest));
                return;
            }
            case "WAITSUBS": { // WAITSUBS cname n: until /info?cname reports n held subscribers (not recorded)
                String[] a = rest.split(" ");
                waitSubscribers(a[0], Integer.parseInt(a[1]));
                return;
            }
            case "ASYNC": { // ASYNC id <request>: send, read nothing yet
                String[] a = rest.split(" ", 2);
                open.put(a[0], send(a[1]));
                return;
            }
            case "OPEN": { // OPEN id <request>: send and record the status and headers of a stream
                String[] a = rest.split(" ", 2);
                Conn c = send(a[1]);
                open.put(a[0], c);
                begin(line);
                if (c.readHead(5000)) {
                    head(c);
                } else {
                    out.append("no answer within 5000 ms\n");
                }
                return;
            }
            case "AWAIT": { // AWAIT id ms: the whole answer of an ASYNC request, or that there was none
                String[] a = rest.split(" ");
                Conn c = open.remove(a[0]);
                begin(line);
                long ms = Long.parseLong(a[1]);
                try {
                    if (!c.readHead(ms)) {
                        out.append("no answer within ").append(ms).append(" ms\n");
                        return;
                    }
                    head(c);
                    body("body", c.readAll(ms));
                } finally {
                    c.close();
                }
                return;
            }
            case "READ": { // READ id ms: the body bytes of a stream that arrive within ms
                String[] a = rest.split(" ");
                Conn c = open.get(a[0]);
                begin(line);
                body("data", c.readFor(Long.parseLong(a[1])));
                return;
            }
            case "CLOSE": {
                Conn c = open.remove(rest);
                if (c != null) {
                    c.close();
                }
                return;
            }
            default: { // <METHOD> admin|front <path> [ct=..] [from=..] [body=...rest of line]
                Conn c = send(line);
                begin(line);
                try {
                    if (!c.readHead(10_000)) {
                        out.append("no answer within 10000 ms\n");
                        return;
                    }
                    head(c);
                    body("body", c.readAll(10_000));
                } finally {
                    c.close();
                }
            }
        }
    }

    private void begin(String line) {
        out.append("#").append(++entry).append(' ').append(caseName).append('\n').append("> ").append(line).append('\n');
    }

    private void head(Conn c) {
        out.append("status ").append(c.status).append('\n');
        for (String h : HEADERS) {
            String v = c.headers.get(h);
            if (v != null) {
                out.append(h).append(": ").append(v).append('\n');
            }
        }
    }

    private void body(String label, byte[] b) {
        String text = new String(b, StandardCharsets.UTF_8);
        java.util.regex.Matcher m = TOKEN.matcher(text);
        if (m.find()) {
            lastToken = m.group(1);
        }
        out.append(label).append(' ').append(escape(text)).append('\n');
    }

    /** The body on one line, Java-escaped and quoted. */
    static String escape(String s) {
        StringBuilder b = new StringBuilder(s.length() + 2).append('"');
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            switch (c) {
                case '"': b.append("\\\""); break;
                case '\\': b.append("\\\\"); break;
                case '\n': b.append("\\n"); break;
                case '\r': b.append("\\r"); break;
                case '\t': b.append("\\t"); break;
                default:
                    if (c < 0x20 || c == 0x7f) {
                        b.append(String.format("\\u%04x", (int) c));
                    } else {
                        b.append(c);
                    }
            }
        }
        return b.append('"').toString();
    }

    /** Reverses {@link #escape}. */
    static String unescape(String q) {
        StringBuilder b = new StringBuilder();
        for (int i = 1; i < q.length() - 1; i++) {
            char c = q.charAt(i);
            if (c != '\\') {
                b.append(c);
                continue;
            }
            char n = q.charAt(++i);
            switch (n) {
                case 'n': b.append('\n'); break;
                case 'r': b.append('\r'); break;
                case 't': b.append('\t'); break;
                case 'u': b.append((char) Integer.parseInt(q.substring(i + 1, i + 5), 16)); i += 4; break;
                default: b.append(n);
            }
        }
        return b.toString();
    }

    private void waitSubscribers(String cname, int n) throws Exception {
        long deadline = System.nanoTime() + 5_000_000_000L;
        String last = "";
        while (System.nanoTime() < deadline) {
            Conn c = send("GET admin /info?cname=" + cname);
            try {
                if (c.readHead(5000)) {
                    last = new String(c.readAll(5000), StandardCharsets.UTF_8);
                    if (last.replace(" ", "").contains("\"subscribers\":" + n + "}")) {
                        return;
                    }
                }
            } finally {
                c.close();
            }
            Thread.sleep(20);
        }
        throw new IOException("channel " + cname + " never had " + n + " subscribers; last /info: " + last);
    }

    private Conn send(String request) throws IOException {
        String[] a = request.split(" ", 4);
        String method = a[0];
        int port = a[1].equals("admin") ? adminPort : a[1].equals("front") ? frontPort : -1;
        if (port < 0) {
            throw new IOException("expected admin or front, got " + a[1]);
        }
        String path = a[2].replace("{token}", lastToken);
        String opts = a.length > 3 ? a[3] : "";
        String body = null;
        int bodyAt = opts.indexOf("body=");
        if (bodyAt >= 0) {
            body = opts.substring(bodyAt + 5);
            opts = opts.substring(0, bodyAt);
        }
        String from = null;
        StringBuilder req = new StringBuilder(method).append(' ').append(path).append(" HTTP/1.1\r\nHost: ")
                .append(host).append(':').append(port).append("\r\nConnection: close\r\n");
        for (String o : opts.strip().split(" ")) {
            if (o.startsWith("ct=")) {
                req.append("Content-Type: ").append(o.substring(3)).append("\r\n");
            } else if (o.startsWith("from=")) {
                from = o.substring(5);
            } else if (o.startsWith("hdr=")) { // hdr=Name:value
                req.append(o.substring(4)).append("\r\n");
            } else if (!o.isEmpty()) {
                throw new IOException("unknown request option " + o);
            }
        }
        byte[] bodyBytes = body == null ? new byte[0] : body.getBytes(StandardCharsets.UTF_8);
        if (body != null) {
            req.append("Content-Length: ").append(bodyBytes.length).append("\r\n");
        }
        req.append("\r\n");
        Socket s = new Socket();
        if (from != null) {
            s.bind(new InetSocketAddress(InetAddress.getByName(from), 0));
        }
        s.connect(new InetSocketAddress(host, port), 5000);
        OutputStream o = s.getOutputStream();
        o.write(req.toString().getBytes(StandardCharsets.UTF_8));
        o.write(bodyBytes);
        o.flush();
        return new Conn(s, method.equals("HEAD"));
    }

    /** One HTTP/1.1 exchange on its own socket. */
    static final class Conn {
        final Socket socket;
        final InputStream in;
        final boolean head;
        int status;
        final Map<String, String> headers = new HashMap<>();
        private boolean chunked;
        private long length = -1;   // Content-Length, when given
        private long chunkLeft;     // bytes left in the current chunk
        private boolean ended;
        private final byte[] buf = new byte[8192]; // read but not yet consumed: buf[pos..limit)
        private int pos;
        private int limit;

        Conn(Socket s, boolean head) throws IOException {
            this.socket = s;
            this.in = s.getInputStream();
            this.head = head;
        }

        void close() {
            try {
                socket.close();
            } catch (IOException ignored) {
                // closing
            }
        }

        /** Reads the status line and headers; false when none arrived within ms. */
        boolean readHead(long ms) throws IOException {
            long deadline = System.nanoTime() + ms * 1_000_000;
            String statusLine = line(deadline);
            if (statusLine == null) {
                return false;
            }
            status = Integer.parseInt(statusLine.split(" ")[1]);
            String h;
            while ((h = line(deadline)) != null && !h.isEmpty()) {
                int colon = h.indexOf(':');
                String name = h.substring(0, colon).strip().toLowerCase(Locale.ROOT);
                headers.putIfAbsent(name, h.substring(colon + 1).strip());
            }
            chunked = "chunked".equalsIgnoreCase(headers.get("transfer-encoding"));
            if (headers.containsKey("content-length")) {
                length = Long.parseLong(headers.get("content-length"));
            }
            if (head || status == 204 || status == 304 || length == 0) {
                ended = true;
            }
            return true;
        }

        /** The rest of the body, up to its end (or ms). */
        byte[] readAll(long ms) throws IOException {
            return read(System.nanoTime() + ms * 1_000_000, true);
        }

        /** What body bytes arrive within ms. */
        byte[] readFor(long ms) throws IOException {
            return read(System.nanoTime() + ms * 1_000_000, false);
        }

        private byte[] read(long deadline, boolean untilEnd) throws IOException {
            ByteArrayOutputStream body = new ByteArrayOutputStream();
            while (!ended) {
                if (chunked) {
                    if (chunkLeft == 0) {
                        String size = line(deadline);
                        if (size == null) {
                            break;
                        }
                        if (size.isEmpty()) {
                            continue; // the CRLF after a chunk
                        }
                        int semi = size.indexOf(';');
                        chunkLeft = Long.parseLong((semi < 0 ? size : size.substring(0, semi)).strip(), 16);
                        if (chunkLeft == 0) {
                            ended = true;
                            break;
                        }
                    }
                    int b = byteAt(deadline);
                    if (b < 0) {
                        break;
                    }
                    body.write(b);
                    chunkLeft--;
                } else {
                    if (length >= 0 && body.size() >= length) {
                        ended = true;
                        break;
                    }
                    int b = byteAt(deadline);
                    if (b == -2) {
                        ended = true; // closed: the end of a body without length
                        break;
                    }
                    if (b < 0) {
                        break;
                    }
                    body.write(b);
                }
                if (!untilEnd && System.nanoTime() > deadline) {
                    break;
                }
            }
            return body.toByteArray();
        }

        /** One byte; -1 at the deadline, -2 when the peer closed. */
        private int byteAt(long deadline) throws IOException {
            if (pos < limit) {
                return buf[pos++] & 0xff;
            }
            long left = (deadline - System.nanoTime()) / 1_000_000;
            if (left <= 0) {
                return -1;
            }
            socket.setSoTimeout((int) Math.max(1, left));
            int n;
            try {
                n = in.read(buf);
            } catch (SocketTimeoutException e) {
                return -1;
            } catch (IOException e) {
                return -2; // reset by the peer
            }
            if (n < 0) {
                return -2;
            }
            pos = 0;
            limit = n;
            return buf[pos++] & 0xff;
        }

        /** A CRLF- (or LF-) terminated line without its terminator; null at the deadline or end. */
        private String line(long deadline) throws IOException {
            ByteArrayOutputStream l = new ByteArrayOutputStream();
            while (true) {
                int b = byteAt(deadline);
                if (b < 0) {
                    return null;
                }
                if (b == '\n') {
                    String s = l.toString(StandardCharsets.ISO_8859_1);
                    return s.endsWith("\r") ? s.substring(0, s.length() - 1) : s;
                }
                l.write(b);
            }
        }
    }
}
