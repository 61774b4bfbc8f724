package io.jcomet.ws;

import jakarta.websocket.CloseReason;
import jakarta.websocket.Endpoint;
import jakarta.websocket.EndpointConfig;
import jakarta.websocket.MessageHandler;
import jakarta.websocket.PongMessage;
import jakarta.websocket.Session;
import java.io.IOException;
import java.net.InetSocketAddress;

/**
 * {@code /ws}: one instance per socket (made by {@link WsDeployer}'s configurator), holding only
 * its {@link WsConnection}. The container calls {@link #onOpen}, {@link #onClose} and
 * {@link #onError} on its own threads, one at a time for a given socket.
 */
public final class WsEndpoint extends Endpoint {
    /** Where Jetty (not Tomcat) tells an endpoint which local address the socket arrived on. */
    static final String LOCAL_ADDRESS = "jakarta.websocket.endpoint.localAddress";
    /** Where Jetty tells an endpoint the peer's address (a container that does not: no per-address limits on /ws). */
    static final String REMOTE_ADDRESS = "jakarta.websocket.endpoint.remoteAddress";
    /** Where {@link WsDeployer}'s configurator keeps the upgrade request's X-Forwarded-For. */
    static final String FORWARDED_FOR = "io.jcomet.ws.forwardedFor";

    private final WsHub hub;
    private WsConnection conn;

    WsEndpoint(WsHub hub) {
        this.hub = hub;
    }

    @Override
    public void onOpen(Session session, EndpointConfig config) {
        Object local = session.getUserProperties().get(LOCAL_ADDRESS);
        if (local instanceof InetSocketAddress
                && ((InetSocketAddress) local).getPort() == hub.broker.config().adminPort()) {
            hub.reject(WsHub.Reject.WRONG_PORT);
            try {
                session.close(new CloseReason(CloseReason.CloseCodes.VIOLATED_POLICY, "front endpoint: not on the admin port"));
            } catch (IOException e) {
                // gone already
            }
            return;
        }
        // the admission policy, as for HTTP: the address from the upgrade request (X-Forwarded-For
        // only from a trusted proxy); a container that does not say who the peer is: not limited per address
        io.jcomet.core.Admission admission = hub.broker.admission();
        Object remote = session.getUserProperties().get(REMOTE_ADDRESS);
        int bucket = io.jcomet.core.Admission.NOT_LIMITED;
        if (remote instanceof InetSocketAddress && ((InetSocketAddress) remote).getAddress() != null) {
            Object xff = session.getUserProperties().get(FORWARDED_FOR);
            bucket = admission.bucket(admission.client(((InetSocketAddress) remote).getAddress().getHostAddress(),
                    xff instanceof String ? (String) xff : null));
        }
        io.jcomet.core.Admission.Refusal refused = admission.admitSocket(bucket);
        if (refused != null) {
            try {
                session.close(new CloseReason(refused.overloaded() ? CloseReason.CloseCodes.TRY_AGAIN_LATER
                        : CloseReason.CloseCodes.VIOLATED_POLICY, refused.reason()));
            } catch (IOException e) {
                // gone already
            }
            return;
        }
        // the socket lives while it has noops (polling_timeout) or pongs (ws_ping_interval) going
        // through; twice the longer of the two, plus slack, is surely dead
        int beat = Math.max(hub.broker.config().pollingTimeoutSeconds(), hub.broker.config().wsPingIntervalSeconds());
        session.setMaxIdleTimeout((beat * 2L + 10) * 1000L);
        conn = new WsConnection(hub, session, bucket);
        session.addMessageHandler(String.class, conn);
        session.addMessageHandler(PongMessage.class, (MessageHandler.Whole<PongMessage>) conn::pong);
        session.addMessageHandler(java.nio.ByteBuffer.class, (MessageHandler.Whole<java.nio.ByteBuffer>) conn::binary);
        hub.opened(conn);
        conn.subscribeFromQuery(session.getQueryString());
    }

    @Override
    public void onClose(Session session, CloseReason reason) {
        if (conn != null) {
            conn.closed(reason);
        }
    }

    @Override
    public void onError(Session session, Throwable t) {
        // the container closes the session after this and calls onClose; nothing to add per error
    }
}
