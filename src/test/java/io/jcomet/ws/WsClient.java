package io.jcomet.ws;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.WebSocket;
import java.time.Duration;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;

/**
 * A test WebSocket client on the JDK's {@link java.net.http.WebSocket}: collects every text
 * message (partial frames joined) in a queue and records the close. With {@code reading=false} it
 * asks the JDK for no messages at all, so nothing is read from the socket: a slow reader.
 *
 * <p>Threads: the JDK's listener thread fills the queue; the test thread takes from it.
 */
public final class WsClient implements AutoCloseable {
    private static final HttpClient HTTP = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();

    /** Set once the handshake completed. */
    public volatile WebSocket ws;
    private final BlockingQueue<String> texts = new LinkedBlockingQueue<>();
    /** Close code and reason, as "1008 reason". */
    public final CompletableFuture<String> closed = new CompletableFuture<>();

    private WsClient() {
    }

    public static WsClient open(int port, String pathAndQuery, String... headers) throws Exception {
        return open(port, pathAndQuery, true, headers);
    }

    public static WsClient open(int port, String pathAndQuery, boolean reading, String... headers) throws Exception {
        return open(HTTP, URI.create("ws://127.0.0.1:" + port + pathAndQuery), reading, headers);
    }

    /** A WebSocket to any URI ({@code wss://...} with a client that trusts the server's certificate). */
    public static WsClient open(HttpClient http, URI uri, boolean reading, String... headers) throws Exception {
        WsClient client = new WsClient();
        // the listener only touches the client's own queue and future: it never waits for the handshake
        WebSocket.Listener listener = new WebSocket.Listener() {
            private final StringBuilder partial = new StringBuilder();

            @Override
            public void onOpen(WebSocket webSocket) {
                if (reading) {
                    webSocket.request(1);
                }
            }

            @Override
            public CompletionStage<?> onText(WebSocket webSocket, CharSequence data, boolean last) {
                partial.append(data);
                if (last) {
                    client.texts.add(partial.toString());
                    partial.setLength(0);
                }
                webSocket.request(1);
                return null;
            }

            @Override
            public CompletionStage<?> onClose(WebSocket webSocket, int statusCode, String reason) {
                client.closed.complete(statusCode + " " + reason);
                return null;
            }

            @Override
            public void onError(WebSocket webSocket, Throwable error) {
                client.closed.complete("error " + error);
            }
        };
        WebSocket.Builder b = http.newWebSocketBuilder().connectTimeout(Duration.ofSeconds(5));
        for (int i = 0; i < headers.length; i += 2) {
            b.header(headers[i], headers[i + 1]);
        }
        client.ws = b.buildAsync(uri, listener).get(10, TimeUnit.SECONDS);
        return client;
    }

    /**
     * A WebSocket handshake over a plain socket; returns the response head (status line and
     * headers). For refused handshakes, which the JDK client does not always report promptly.
     */
    public static String rawHandshake(int port, String pathAndQuery, String... headers) throws java.io.IOException {
        StringBuilder req = new StringBuilder("GET ").append(pathAndQuery).append(" HTTP/1.1\r\nHost: 127.0.0.1:").append(port)
                .append("\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n")
                .append("Sec-WebSocket-Version: 13\r\n");
        for (int i = 0; i < headers.length; i += 2) {
            req.append(headers[i]).append(": ").append(headers[i + 1]).append("\r\n");
        }
        try (java.net.Socket s = new java.net.Socket("127.0.0.1", port)) {
            s.setSoTimeout(5000);
            s.getOutputStream().write(req.append("\r\n").toString().getBytes(java.nio.charset.StandardCharsets.US_ASCII));
            StringBuilder head = new StringBuilder();
            java.io.InputStream in = s.getInputStream();
            int c;
            while ((c = in.read()) >= 0) {
                head.append((char) c);
                if (head.length() >= 4 && head.lastIndexOf("\r\n\r\n") == head.length() - 4) {
                    break;
                }
            }
            return head.toString();
        }
    }

    /** The next text message, or an AssertionError after {@code seconds}. */
    public String next(int seconds) throws InterruptedException {
        String t = texts.poll(seconds, TimeUnit.SECONDS);
        if (t == null) {
            throw new AssertionError("no WebSocket message within " + seconds + " s");
        }
        return t;
    }

    /** The next text message within {@code millis}, or null. */
    public String poll(long millis) throws InterruptedException {
        return texts.poll(millis, TimeUnit.MILLISECONDS);
    }

    public void send(String text) throws Exception {
        ws.sendText(text, true).get(10, TimeUnit.SECONDS);
    }

    @Override
    public void close() {
        if (!ws.isOutputClosed()) {
            ws.sendClose(WebSocket.NORMAL_CLOSURE, "bye");
        }
        ws.abort();
    }
}
