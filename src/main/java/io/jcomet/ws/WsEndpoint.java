package io.jcomet.ws;

import jakarta.websocket.CloseReason;
import jakarta.websocket.Endpoint;
import jakarta.websocket.EndpointConfig;
import jakarta.websocket.MessageHandler;
import jakarta.websocket.PongMessage;
import jakarta.websocket.RemoteEndpoint;
import jakarta.websocket.SendHandler;
import jakarta.websocket.SendResult;
import jakarta.websocket.Session;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;

/**
 * {@code /ws} through Jakarta WebSocket: the adapter for Tomcat and any container but Jetty (on
 * Jetty, {@link JettyWsSocket} serves {@code /ws}). One instance per socket (made by
 * {@link WsDeployer}'s configurator); it only carries frames between the session and its
 * {@link WsConnection}, which holds every rule. The container calls {@link #onOpen},
 * {@link #onClose} and {@link #onError} on its own threads, one at a time for a given socket;
 * {@link #onResult} on whichever thread completes a send.
 */
public final class WsEndpoint extends Endpoint implements WsSocket, SendHandler {
    /** Where Jetty (not Tomcat) tells an endpoint which local address the socket arrived on. */
    static final String LOCAL_ADDRESS = "jakarta.websocket.endpoint.localAddress";
    /** Where Jetty tells an endpoint the peer's address (a container that does not: no per-address limits on /ws). */
    static final String REMOTE_ADDRESS = "jakarta.websocket.endpoint.remoteAddress";
    /** Where {@link WsDeployer}'s configurator keeps the upgrade request's X-Forwarded-For. */
    static final String FORWARDED_FOR = "io.jcomet.ws.forwardedFor";

    /** Decoding the shared UTF-8 JSON once per message and thread, not once per socket (fan-out): the Jakarta API sends Strings. */
    private static final ThreadLocal<Object[]> LAST_DECODED = ThreadLocal.withInitial(() -> new Object[2]);

    private final WsHub hub;
    private Session session;
    private RemoteEndpoint.Async remote;
    private volatile WsConnection conn;

    WsEndpoint(WsHub hub) {
        this.hub = hub;
    }

    @Override
    public void onOpen(Session session, EndpointConfig config) {
        this.session = session;
        this.remote = session.getAsyncRemote();
        Object local = session.getUserProperties().get(LOCAL_ADDRESS);
        Object peer = session.getUserProperties().get(REMOTE_ADDRESS);
        Object xff = session.getUserProperties().get(FORWARDED_FOR);
        WsConnection c = WsConnection.open(hub, this,
                local instanceof InetSocketAddress ? (InetSocketAddress) local : null,
                peer instanceof InetSocketAddress ? (InetSocketAddress) peer : null,
                xff instanceof String ? (String) xff : null);
        if (c == null) {
            return; // refused and closed
        }
        conn = c;
        session.addMessageHandler(String.class, (MessageHandler.Whole<String>) c::onMessage);
        session.addMessageHandler(PongMessage.class, (MessageHandler.Whole<PongMessage>) p -> c.pong(p.getApplicationData()));
        session.addMessageHandler(ByteBuffer.class, (MessageHandler.Whole<ByteBuffer>) c::binary);
        c.subscribeFromQuery(session.getQueryString());
    }

    @Override
    public void onClose(Session session, CloseReason reason) {
        WsConnection c = conn;
        if (c != null) {
            c.closed(reason == null ? -1 : reason.getCloseCode().getCode());
        }
    }

    @Override
    public void onError(Session session, Throwable t) {
        // the container closes the session after this and calls onClose; nothing to add per error
    }

    // ------------------------------------------------------------------ WsSocket

    @Override
    public void sendText(byte[] json) {
        Object[] last = LAST_DECODED.get();
        if (last[0] != json) {
            last[1] = new String(json, StandardCharsets.UTF_8);
            last[0] = json;
        }
        remote.sendText((String) last[1], this);
    }

    @Override
    public void onResult(SendResult result) {
        conn.sent(result.isOK());
    }

    @Override
    public void sendPing(long payload) throws IOException {
        remote.sendPing(ByteBuffer.allocate(8).putLong(0, payload));
    }

    @Override
    public void close(int code, String reason) {
        try {
            session.close(new CloseReason(CloseReason.CloseCodes.getCloseCode(code), reason));
        } catch (IOException | RuntimeException e) {
            // already closed or closing
        }
    }

    @Override
    public void setIdleTimeoutMillis(long millis) {
        try {
            session.setMaxIdleTimeout(millis);
        } catch (RuntimeException closedAlready) {
            // nothing to shorten
        }
    }
}
