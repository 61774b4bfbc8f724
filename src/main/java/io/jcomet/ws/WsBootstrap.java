package io.jcomet.ws;

import io.jcomet.core.Broker;
import jakarta.servlet.ServletContext;
import jakarta.servlet.ServletContextEvent;
import jakarta.servlet.ServletContextListener;
import java.util.logging.Level;
import java.util.logging.Logger;

/**
 * Turns on {@code /ws} when the container offers Jakarta WebSocket (the attribute
 * {@code jakarta.websocket.server.ServerContainer}: Tomcat always, Jetty with its
 * {@code ee10-websocket-jakarta} module). Without it the web app runs as before and says so in one
 * log line. Declared in web.xml after {@code JcometBootstrap}, whose broker it uses. Deploying
 * thread only.
 */
public final class WsBootstrap implements ServletContextListener {
    private static final Logger LOG = Logger.getLogger("io.jcomet");
    static final String SERVER_CONTAINER = "jakarta.websocket.server.ServerContainer";

    @Override
    public void contextInitialized(ServletContextEvent event) {
        ServletContext ctx = event.getServletContext();
        Broker broker = (Broker) ctx.getAttribute(Broker.class.getName());
        Object container = ctx.getAttribute(SERVER_CONTAINER);
        if (broker == null || container == null) {
            LOG.info("jcomet: WebSocket /ws off: " + (broker == null ? "no broker"
                    : "the container offers no Jakarta WebSocket (Jetty: enable the ee10-websocket-jakarta module)"));
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
}
