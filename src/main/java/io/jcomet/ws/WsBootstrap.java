package io.jcomet.ws;

import io.jcomet.core.Broker;
import jakarta.servlet.ServletContext;
import jakarta.servlet.ServletContextEvent;
import jakarta.servlet.ServletContextListener;
import java.util.logging.Level;
import java.util.logging.Logger;

/**
 * Turns on {@code /ws}. On Jetty, through Jetty's own WebSocket core ({@link JettyWsDeployer}) when
 * the web app sees its classes (jetty-base's {@code jcomet-websocket} module, the embedded
 * launcher, {@code mvn jetty:run}); elsewhere (Tomcat), or on a Jetty that hides them, through
 * Jakarta WebSocket when the container offers it (the attribute
 * {@code jakarta.websocket.server.ServerContainer}). Both adapters serve the same
 * {@link WsConnection}. Without either the web app runs as before and says so in one log line.
 * Declared in web.xml after {@code JcometBootstrap}, whose broker it uses. Deploying thread only.
 */
public final class WsBootstrap implements ServletContextListener {
    private static final Logger LOG = Logger.getLogger("io.jcomet");
    static final String SERVER_CONTAINER = "jakarta.websocket.server.ServerContainer";

    @Override
    public void contextInitialized(ServletContextEvent event) {
        ServletContext ctx = event.getServletContext();
        Broker broker = (Broker) ctx.getAttribute(Broker.class.getName());
        Object container = ctx.getAttribute(SERVER_CONTAINER);
        String jettyRefused = null;
        if (broker != null && ctx.getClass().getName().startsWith("org.eclipse.jetty.")) {
            WsHub hub = new WsHub(broker);
            try {
                LOG.info("jcomet: " + JettyWsDeployer.deploy(ctx, broker, hub));
                ctx.setAttribute(WsHub.ATTRIBUTE, hub);
                return;
            } catch (Exception | LinkageError e) {
                hub.close();
                jettyRefused = e.toString();
            }
        }
        if (jettyRefused != null) {
            LOG.warning("jcomet: WebSocket /ws: Jetty's WebSocket core is not visible to the web app (" + jettyRefused
                    + "); jetty-base: enable the jcomet-websocket module. "
                    + (container == null ? "" : "Using Jakarta WebSocket instead (more memory per socket: docs/BENCHMARKS.md)"));
        }
        if (broker == null || container == null) {
            LOG.info("jcomet: WebSocket /ws off: " + (broker == null ? "no broker"
                    : "the container offers neither Jetty's WebSocket core nor Jakarta WebSocket (jetty-base: enable the jcomet-websocket module)"));
            return;
        }
        WsHub hub = new WsHub(broker);
        try {
            LOG.info("jcomet: " + WsDeployer.deploy(ctx, container, broker, hub));
            ctx.setAttribute(WsHub.ATTRIBUTE, hub);
        } catch (Exception | LinkageError e) {
            hub.close();
            LOG.log(Level.WARNING, "jcomet: WebSocket /ws off: registering the endpoint failed: " + e, e);
        }
    }

    @Override
    public void contextDestroyed(ServletContextEvent event) {
        Object hub = event.getServletContext().getAttribute(WsHub.ATTRIBUTE);
        if (hub instanceof WsHub) {
            ((WsHub) hub).close();
            LOG.info("jcomet: WebSocket /ws stopped");
        }
    }

    /** What the log says /ws runs with, the same for both adapters ({@code how}: which one serves it). */
    static String settings(Broker broker, String how) {
        var c = broker.config();
        return "WebSocket /ws on the front ports (" + how + "): ws_max_channels=" + c.wsMaxChannels()
                + " ws_max_frame_bytes=" + c.wsMaxFrameBytes()
                + " ws_max_frames_per_second=" + c.wsMaxFramesPerSecond()
                + " ws_allowed_origins=" + String.join(",", c.wsAllowedOrigins())
                + " ws_ping_interval=" + c.wsPingIntervalSeconds() + "s"
                + " ws_max_sockets_per_client=" + c.wsMaxSocketsPerClient()
                + " max_pending_bytes=" + c.maxPendingBytes();
    }
}
