package io.jcomet.servlet;

import com.fasterxml.jackson.databind.JsonNode;
import io.jcomet.core.Broker;
import io.jcomet.protocol.Framing;
import io.jcomet.protocol.Transport;
import io.jcomet.support.JsonFrames;
import io.jcomet.support.Wire;
import jakarta.servlet.AsyncContext;
import jakarta.servlet.ServletOutputStream;
import jakarta.servlet.WriteListener;
import jakarta.servlet.http.HttpServletResponse;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.lang.reflect.Proxy;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;

/**
 * An {@link HttpSubscriber} over a scripted response (tests): every HTTP transport with its real
 * framing, its real state machine and non-blocking writes, and no socket.
 */
public final class HttpWire implements Wire {
    private final Transport transport;
    private final String callback; // JSONP and iframe
    private final Framing framing;
    private final Out out = new Out();
    private HttpSubscriber subscriber;
    private int completions;

    private HttpWire(Transport transport, String callback, Framing framing) {
        this.transport = transport;
        this.callback = callback;
        this.framing = framing;
    }

    public static HttpWire longPoll() { return new HttpWire(Transport.POLL, null, Framing.longPoll(null)); }
    public static HttpWire jsonpLongPoll() { return new HttpWire(Transport.POLL, "cb", Framing.longPoll("cb")); }
    public static HttpWire stream() { return new HttpWire(Transport.STREAM, null, Framing.stream()); }
    public static HttpWire sse() { return new HttpWire(Transport.SSE, null, Framing.sse()); }
    public static HttpWire iframe() { return new HttpWire(Transport.IFRAME, "icomet_cb", Framing.iframe("icomet_cb")); }

    /** A non-blocking output that takes everything, fails when told, and runs a hook inside a write. */
    static final class Out extends ServletOutputStream {
        final ByteArrayOutputStream written = new ByteArrayOutputStream();
        volatile boolean failing;
        volatile boolean completed; // a completed response's output is closed: writing or flushing it fails
        Runnable duringWrite;

        @Override
        public boolean isReady() {
            return true;
        }

        @Override
        public void setWriteListener(WriteListener l) {
        }

        @Override
        public void write(int b) throws IOException {
            write(new byte[] {(byte) b}, 0, 1);
        }

        @Override
        public void write(byte[] b, int off, int len) throws IOException {
            if (failing) {
                throw new IOException("connection reset by peer");
            }
            if (completed) {
                throw new IOException("Closed");
            }
            synchronized (written) {
                written.write(b, off, len);
            }
            Runnable r = duringWrite;
            duringWrite = null;
            if (r != null) {
                r.run();
            }
        }

        @Override
        public void flush() throws IOException {
            if (completed) {
                throw new IOException("Closed");
            }
        }

        String text() {
            synchronized (written) {
                return written.toString(StandardCharsets.UTF_8);
            }
        }
    }

    @Override
    public Transport transport() {
        return transport;
    }

    @Override
    public void subscribe(Broker broker, String cname, int seq) {
        HttpServletResponse resp = (HttpServletResponse) Proxy.newProxyInstance(getClass().getClassLoader(),
                new Class<?>[] {HttpServletResponse.class}, (p, m, a) -> switch (m.getName()) {
                    case "isCommitted" -> false;
                    case "getOutputStream" -> out;
                    default -> null;
                });
        AsyncContext ctx = (AsyncContext) Proxy.newProxyInstance(getClass().getClassLoader(),
                new Class<?>[] {AsyncContext.class}, (p, m, a) -> {
                    switch (m.getName()) {
                        case "getResponse":
                            return resp;
                        case "complete":
                            synchronized (this) {
                                completions++;
                            }
                            out.completed = true;
                            return null;
                        default:
                            return null;
                    }
                });
        subscriber = new HttpSubscriber(broker, framing, ctx, out, 0);
        subscriber.start();
        // as CometServlet: an icomet-style JSONP long-poll is answered one message at a time
        boolean oneMessage = transport == Transport.POLL && callback != null;
        broker.subscribe(subscriber, new Broker.SubscribeRequest(cname, seq, null, null, oneMessage));
    }

    @Override
    public void duringNextWrite(Runnable r) {
        out.duringWrite = r;
    }

    @Override
    public void failWrites() {
        out.failing = true;
    }

    @Override
    public void clientLeaves() {
        subscriber.onError(new IOException("client closed the connection"));
    }

    @Override
    public List<JsonNode> received() {
        String text = out.text();
        List<JsonNode> msgs = new ArrayList<>();
        switch (transport) {
            case POLL -> {
                if (text.isEmpty()) {
                    return msgs;
                }
                String body = text;
                if (callback != null) {
                    if (!body.startsWith(callback + "(") || !body.endsWith(");\n")) {
                        throw new AssertionError("not a JSONP answer: " + body);
                    }
                    body = body.substring(callback.length() + 1, body.length() - 3);
                } else if (!body.endsWith("\n")) {
                    throw new AssertionError("a long-poll answer ends with a newline: " + body);
                }
                msgs.addAll(JsonFrames.messages(body));
            }
            case STREAM -> {
                for (String line : text.split("\n")) {
                    if (!line.isEmpty()) {
                        msgs.add(JsonFrames.parse(line));
                    }
                }
            }
            case SSE -> {
                for (String event : text.split("\n\n")) {
                    for (String line : event.split("\n")) {
                        if (line.startsWith("data: ")) {
                            msgs.add(JsonFrames.parse(line.substring(6)));
                        } else if (!line.isEmpty() && !line.startsWith("retry: ") && !line.startsWith("id: ")) {
                            throw new AssertionError("not an SSE field: " + line);
                        }
                    }
                }
            }
            case IFRAME -> {
                String prefix = "<script>parent." + callback + "(";
                for (String line : text.split("\n")) {
                    if (line.startsWith(prefix)) {
                        if (!line.endsWith(");</script>")) {
                            throw new AssertionError("not a script element: " + line);
                        }
                        msgs.add(JsonFrames.parse(line.substring(prefix.length(), line.length() - ");</script>".length())));
                    }
                }
            }
            default -> throw new IllegalStateException(transport.toString());
        }
        return msgs;
    }

    @Override
    public int open() {
        return subscriber.state() == HttpSubscriber.State.DONE ? 0 : 1;
    }

    @Override
    public synchronized int completions() {
        return completions;
    }

    @Override
    public boolean finished() {
        return subscriber.state() == HttpSubscriber.State.DONE;
    }

    @Override
    public String toString() {
        return callback != null && transport == Transport.POLL ? "jsonp" : transport.key();
    }
}
