package io.jcomet.ws;

import io.jcomet.core.Broker;
import jakarta.servlet.ServletContext;
import jakarta.websocket.DeploymentException;
import jakarta.websocket.server.ServerContainer;
import jakarta.websocket.server.ServerEndpointConfig;
import java.util.List;
import java.util.Locale;

/**
 * Registers {@code /ws} with the container's Jakarta WebSocket {@link ServerContainer}. Kept apart
 * from {@link WsBootstrap} so that a container without the WebSocket API never loads a
 * {@code jakarta.websocket} class. Deploying thread only.
 */
final class WsDeployer {
    private WsDeployer() {}

    /** Returns a sentence for the start-up log. */
    static String deploy(ServletContext ctx, Object container, Broker broker, WsHub hub) throws DeploymentException {
        ServerContainer sc = (ServerContainer) container;
        int frame = broker.config().wsMaxFrameBytes();
        sc.setDefaultMaxTextMessageBufferSize(frame);
        sc.setDefaultMaxBinaryMessageBufferSize(256); // binary frames are refused (1003); keep the buffer small
        List<String> origins = broker.config().wsAllowedOrigins();
        ServerEndpointConfig cfg = ServerEndpointConfig.Builder.create(WsEndpoint.class, WsHub.PATH)
                .configurator(new ServerEndpointConfig.Configurator() {
                    @Override
                    public <T> T getEndpointInstance(Class<T> type) {
                        return type.cast(new WsEndpoint(hub));
                    }

                    /** The X-Forwarded-For of the upgrade, for the admission policy's client address (a trusted proxy's). */
                    @Override
                    public void modifyHandshake(ServerEndpointConfig sec, jakarta.websocket.server.HandshakeRequest request,
                            jakarta.websocket.HandshakeResponse response) {
                        List<String> xff = request.getHeaders().get("X-Forwarded-For");
                        if (xff != null && !xff.isEmpty()) {
                            sec.getUserProperties().put(WsEndpoint.FORWARDED_FOR, String.join(",", xff));
                        }
                    }

                    @Override
                    public boolean checkOrigin(String origin) {
                        // no Origin header: not a browser, so not a cross-site page riding on a user's cookies
                        if (origin == null || origins.contains("*") || origins.contains(origin.toLowerCase(Locale.ROOT))) {
                            return true;
                        }
                        hub.reject(WsHub.Reject.ORIGIN);
                        return false;
                    }
                })
                .build();
        sc.addEndpoint(cfg);
        return WsBootstrap.settings(broker, "Jakarta WebSocket, " + sc.getClass().getName());
    }
}
