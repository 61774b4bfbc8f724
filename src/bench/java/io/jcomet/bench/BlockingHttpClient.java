package io.jcomet.bench;

import java.io.Closeable;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;

/**
 * A keep-alive HTTP/1.1 client on one blocking socket, for the admin API (publishers and /info).
 * One request at a time; reconnects when the server closed the connection (and retries a request
 * once if a kept-alive connection turned out to be closed before any byte of the answer came).
 *
 * <p>Threads: one instance per thread (each publisher thread owns its own).
 */
final class BlockingHttpClient implements Closeable {

    private final String host;
    private final int port;
    private final int timeoutMs;
    private final String hostHeader;
    private final byte[] buf = new byte[16 * 1024];
    private final HttpResponseParser parser = new HttpResponseParser();
    private Socket socket;
    private InputStream in;
    private OutputStream out;
    long connects;

    BlockingHttpClient(String host, int port, int timeoutMs) {
        this.host = host;
        this.port = port;
        this.timeoutMs = timeoutMs;
        this.hostHeader = host + ":" + port;
    }

    /** GET {@code pathAndQuery}; the query must already be URL-encoded. */
    HttpResponse get(String pathAndQuery) throws IOException {
        byte[] req = ("GET " + pathAndQuery + " HTTP/1.1\r\nHost: " + hostHeader + "\r\n\r\n")
                .getBytes(StandardCharsets.UTF_8);
        boolean reused = socket != null;
        try {
            return exchange(req);
        } catch (StaleConnectionException e) {
            if (!reused) {
                throw new IOException("connection closed before the answer", e);
            }
            close();
            return exchange(req);
        }
    }

    private static final class StaleConnectionException extends IOException {
        StaleConnectionException(String m) {
            super(m);
        }
    }

    private HttpResponse exchange(byte[] req) throws IOException {
        if (socket == null) {
            Socket s = new Socket();
            s.setTcpNoDelay(true);
            s.setSoTimeout(timeoutMs);
            s.connect(new InetSocketAddress(host, port), timeoutMs);
            socket = s;
            in = s.getInputStream();
            out = s.getOutputStream();
            connects++;
        }
        parser.reset();
        boolean gotAny = false;
        try {
            out.write(req);
            out.flush();
            while (true) {
                int n = in.read(buf);
                if (n < 0) {
                    HttpResponse r = parser.eof();
                    close();
                    if (r != null) {
                        return r;
                    }
                    if (!gotAny) {
                        throw new StaleConnectionException("closed by server");
                    }
                    throw new IOException("connection closed in the middle of a response");
                }
                gotAny = true;
                HttpResponse r = parser.feed(ByteBuffer.wrap(buf, 0, n));
                if (r != null) {
                    if (!r.keepAlive()) {
                        close();
                    }
                    return r;
                }
            }
        } catch (HttpResponseParser.BadResponseException e) {
            close();
            throw new IOException("bad response: " + e.getMessage(), e);
        } catch (IOException e) {
            if (!(e instanceof StaleConnectionException)) {
                close();
            }
            if (!gotAny && !(e instanceof java.net.SocketTimeoutException)
                    && !(e instanceof StaleConnectionException)) {
                throw new StaleConnectionException(e.toString());
            }
            throw e;
        }
    }

    @Override
    public void close() {
        if (socket != null) {
            try {
                socket.close();
            } catch (IOException ignored) {
                // closing anyway
            }
        }
        socket = null;
        in = null;
        out = null;
    }
}
