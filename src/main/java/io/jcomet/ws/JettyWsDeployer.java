package io.jcomet.ws;

import io.jcomet.core.Broker;
import jakarta.servlet.ServletContext;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Collections;
import java.util.List;
import java.util.Locale;
import org.eclipse.jetty.ee10.servlet.ServletContextHandler;
import org.eclipse.jetty.ee10.websocket.servlet.WebSocketUpgradeFilter;
import org.eclipse.jetty.http.HttpHeader;
import org.eclipse.jetty.websocket.core.FrameHandler;
import org.eclipse.jetty.websocket.core.server.WebSocketMappings;
import org.eclipse.jetty.websocket.core.server.WebSocketServerComponents;

/**
 * Registers {@code /ws} with Jetty's own WebSocket core (no Jakarta layer): a mapping in the
 * context's {@link WebSocketMappings}, reached through Jetty's {@link WebSocketUpgradeFilter}.
 * The handshake checks what {@link WsDeployer}'s configurator checks on other containers (Origin
 * against ws_allowed_origins: 403; X-Forwarded-For kept for the admission policy) and declines
 * every extension (permessage-deflate would compress each message once per socket, and keep a
 * compressor per socket). Each socket is a {@link JettyWsSocket}.
 *
 * <p>Loaded only on Jetty, and only when the web app sees Jetty's WebSocket classes (jetty-base's
 * {@code jcomet-websocket} module, the embedded launcher, {@code mvn jetty:run}); otherwise
 * {@link WsBootstrap} uses the Jakarta endpoint. Deploying thread only; the creator runs on
 * Jetty's request threads and keeps nothing of the upgrade request but the X-Forwarded-For string.
 */
final class JettyWsDeployer {
    private JettyWsDeployer() {}

    /** Returns a sentence for the start-up log. */
    static String deploy(ServletContext ctx, Broker broker, WsHub hub) {
        ServletContextHandler handler = ServletContextHandler.getServletContextHandler(ctx);
        if (handler == null) {
            throw new IllegalStateException("not a Jetty ee10 servlet context");
        }
        WebSocketServerComponents.ensureWebSocketComponents(handler.getServer(), handler);
        WebSocketUpgradeFilter.ensureFilter(ctx);
        WebSocketMappings mappings = WebSocketMappings.ensureMappings(handler);
        int frame = broker.config().wsMaxFrameBytes();
        List<String> origins = broker.config().wsAllowedOrigins();
        byte[] forbidden = "{\"type\":\"error\",\"reason\":\"Origin not in ws_allowed_origins\"}\n".getBytes(StandardCharsets.UTF_8);
        mappings.addMapping(WebSocketMappings.parsePathSpec(WsHub.PATH), (request, response, callback) -> {
            String origin = request.getHeaders().get(HttpHeader.ORIGIN);
            // no Origin header: not a browser, so not a cross-site page riding on a user's cookies
            if (origin != null && !origins.contains("*") && !origins.contains(origin.toLowerCase(Locale.ROOT))) {
                hub.reject(WsHub.Reject.ORIGIN);
                response.setStatus(403);
                response.getHeaders().put(HttpHeader.CONTENT_TYPE, "application/json; charset=utf-8");
                response.write(true, ByteBuffer.wrap(forbidden), callback);
                return null;
            }
            response.setExtensions(Collections.emptyList());
            List<String> xff = request.getHeaders().getValuesList(HttpHeader.X_FORWARDED_FOR);
            return new JettyWsSocket(hub, xff.isEmpty() ? null : String.join(",", xff));
        }, (socket, request, response) -> (FrameHandler) socket, configuration -> {
            // Frames as Jetty's Jakarta layer makes them: up to 64 KB each, a longer message sent as
            // fragments, a longer client frame parsed in 64 KB fragments. ws_max_frame_bytes is
            // JettyWsSocket's check (1009), so that messages the server sends are not cut at it.
            configuration.setMaxFrameSize(Math.max(65536, frame));
            configuration.setAutoFragment(true);
            configuration.setIdleTimeout(Duration.ofSeconds(60)); // until WsConnection.open sets the real one
        });
        return WsBootstrap.settings(broker, "Jetty WebSocket core");
    }
}
