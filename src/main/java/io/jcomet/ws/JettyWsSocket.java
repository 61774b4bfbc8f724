package io.jcomet.ws;

import java.io.ByteArrayOutputStream;
import java.net.InetSocketAddress;
import java.net.SocketAddress;
import java.nio.ByteBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import org.eclipse.jetty.util.Callback;
import org.eclipse.jetty.websocket.core.CloseStatus;
import org.eclipse.jetty.websocket.core.CoreSession;
import org.eclipse.jetty.websocket.core.Frame;
import org.eclipse.jetty.websocket.core.FrameHandler;
import org.eclipse.jetty.websocket.core.OpCode;
import org.eclipse.jetty.websocket.core.OutgoingEntry;
import org.eclipse.jetty.websocket.core.WebSocketConnection;
import org.eclipse.jetty.websocket.core.WebSocketCoreSession;

/**
 * {@code /ws} on Jetty: one socket through Jetty's own WebSocket core, with no Jakarta layer in
 * between (that layer gives each session its own encoder and decoder lists and keeps the upgrade
 * request: docs/BENCHMARKS.md, "WebSocket (/ws)"). Made by {@link JettyWsDeployer} for each upgrade;
 * it only carries frames between Jetty's session and its {@link WsConnection}, which holds every
 * rule, exactly as {@link WsEndpoint} does on other containers.
 *
 * <p>Output: a message is the broker's one UTF-8 array for all its sockets, wrapped (not copied) as
 * the payload of this socket's text frame. This object is also the completion callback of the one
 * send in flight (so a send allocates nothing else here).
 *
 * <p>A message frame goes straight to the connection's frame writer ({@link
 * WebSocketConnection#enqueueFrame}), past the session's own outgoing chain: that chain (frame
 * checks, the session's output state, auto-fragmenting, extensions, and a second queue with its own
 * lock and completion step in front of the writer) costs about as much CPU per frame as the
 * writer itself, and none of it applies here: no extension is ever negotiated, a frame no longer
 * than the session's frame size is never fragmented, the server does not mask, and one frame is
 * in flight per socket at a time. What the chain guards still holds: once Jetty has queued a close
 * frame, or the connection closed, the writer fails every later frame, and the failure reaches
 * {@link #failed} as it did before. Longer frames, pings and closes keep the session's chain.
 *
 * <p>Threads: Jetty calls {@link #onOpen}, {@link #onFrame}, {@link #onError}, {@link #onClosed}
 * one at a time for a socket; {@code partial} and {@code binaryMessage} are touched only there.
 * {@link #succeeded}/{@link #failed} run on whichever thread completes a send. {@code conn} is set
 * once in {@link #onOpen}, before any frame is read or sent.
 */
final class JettyWsSocket implements FrameHandler, WsSocket, Callback {
    private final WsHub hub;
    /** The upgrade request's X-Forwarded-For (for the admission policy's client address), or null. */
    private final String forwardedFor;
    private CoreSession session;
    /** Jetty's frame writer for this socket when the session is Jetty's own (always, in Jetty), else null. */
    private WebSocketConnection writer;
    /** Messages up to this many bytes go straight to {@code writer} (no fragmenting needed). */
    private long directMax;
    private volatile WsConnection conn;

    // Jetty's frame thread for this socket only
    /** A text message arriving in fragments; null between messages (the usual case: one frame each). */
    private ByteArrayOutputStream partial;
    /** The message being continued is binary (its first frame already closed the socket). */
    private boolean binaryMessage;

    JettyWsSocket(WsHub hub, String forwardedFor) {
        this.hub = hub;
        this.forwardedFor = forwardedFor;
    }

    @Override
    public void onOpen(CoreSession coreSession, Callback callback) {
        session = coreSession;
        if (coreSession instanceof WebSocketCoreSession) {
            writer = ((WebSocketCoreSession) coreSession).getConnection();
            directMax = coreSession.getMaxFrameSize();
        }
        callback.succeeded();
        WsConnection c = WsConnection.open(hub, this, inet(coreSession.getLocalAddress()),
                inet(coreSession.getRemoteAddress()), forwardedFor);
        if (c != null) {
            conn = c;
            c.subscribeFromQuery(coreSession.getRequestURI().getRawQuery());
        }
        coreSession.demand(); // a refused socket too: its close handshake needs the client's close frame read
    }

    private static InetSocketAddress inet(SocketAddress a) {
        return a instanceof InetSocketAddress ? (InetSocketAddress) a : null;
    }

    @Override
    public void onFrame(Frame frame, Callback callback) {
        WsConnection c = conn;
        byte op = frame.getOpCode();
        if (op == OpCode.CLOSE) {
            callback.succeeded(); // Jetty answers it
            return;
        }
        if (c != null) {
            switch (op) {
                case OpCode.TEXT:
                    binaryMessage = false;
                    text(c, frame);
                    break;
                case OpCode.BINARY:
                    binaryMessage = true;
                    c.binary(frame.getPayload());
                    break;
                case OpCode.CONTINUATION:
                    if (!binaryMessage) {
                        text(c, frame);
                    }
                    break;
                case OpCode.PONG:
                    c.pong(frame.getPayload());
                    break;
                default: // PING: Jetty answers it with a pong once the callback completes
                    break;
            }
        }
        callback.succeeded();
        session.demand();
    }

    /**
     * A text frame: a whole message is decoded (strict UTF-8, else 1007) and handed on; fragments
     * are joined. A message over ws_max_frame_bytes closes the socket (1009), whole or in fragments
     * (Jetty's parser cuts a frame over 64 KB into fragments, so none is buffered whole past that).
     */
    private void text(WsConnection c, Frame frame) {
        ByteBuffer payload = frame.getPayload();
        int n = payload == null ? 0 : payload.remaining();
        int limit = hub.broker.config().wsMaxFrameBytes();
        if ((partial == null ? 0 : partial.size()) + (long) n > limit) {
            partial = null;
            close(WsConnection.TOO_BIG, "a text message over ws_max_frame_bytes (" + limit + ")");
            return;
        }
        if (frame.isFin() && partial == null) {
            deliver(c, n == 0 ? ByteBuffer.allocate(0) : payload);
            return;
        }
        if (partial == null) {
            partial = new ByteArrayOutputStream(Math.min(limit, 1024));
        }
        if (n > 0) {
            byte[] b = new byte[n];
            payload.get(b);
            partial.write(b, 0, n);
        }
        if (frame.isFin()) {
            byte[] whole = partial.toByteArray();
            partial = null;
            deliver(c, ByteBuffer.wrap(whole));
        }
    }

    private void deliver(WsConnection c, ByteBuffer utf8) {
        String s;
        try {
            s = StandardCharsets.UTF_8.newDecoder().onMalformedInput(CodingErrorAction.REPORT)
                    .onUnmappableCharacter(CodingErrorAction.REPORT).decode(utf8).toString();
        } catch (CharacterCodingException e) {
            close(CloseStatus.BAD_PAYLOAD, "invalid UTF-8 in a text frame");
            return;
        }
        c.onMessage(s);
    }

    @Override
    public void onError(Throwable cause, Callback callback) {
        callback.succeeded(); // Jetty closes the session next and calls onClosed
    }

    @Override
    public void onClosed(CloseStatus closeStatus, Callback callback) {
        WsConnection c = conn;
        if (c != null) {
            c.closed(closeStatus == null ? -1 : closeStatus.getCode());
        }
        callback.succeeded();
    }

    // ------------------------------------------------------------------ WsSocket

    @Override
    public void sendText(byte[] json) {
        Frame frame = new Frame(OpCode.TEXT, true, ByteBuffer.wrap(json));
        WebSocketConnection w = writer;
        if (w != null && json.length <= directMax) {
            w.enqueueFrame(new OutgoingEntry.Builder(frame, this).build());
        } else {
            session.sendFrame(frame, this, false);
        }
    }

    /** The send under way was written. */
    @Override
    public void succeeded() {
        conn.sent(true);
    }

    @Override
    public void failed(Throwable x) {
        conn.sent(false);
    }

    /** Completing a send only queues the next one (asynchronous writes): safe on Jetty's selector thread. */
    @Override
    public InvocationType getInvocationType() {
        return InvocationType.NON_BLOCKING;
    }

    @Override
    public void sendPing(long payload) {
        session.sendFrame(new Frame(OpCode.PING, ByteBuffer.allocate(8).putLong(0, payload)), Callback.NOOP, false);
    }

    @Override
    public void close(int code, String reason) {
        try {
            session.close(code, reason, Callback.NOOP);
        } catch (RuntimeException closedAlready) {
            // nothing to close
        }
    }

    @Override
    public void setIdleTimeoutMillis(long millis) {
        session.setIdleTimeout(Duration.ofMillis(millis));
    }
}
