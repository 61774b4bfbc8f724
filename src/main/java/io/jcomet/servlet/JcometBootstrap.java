package io.jcomet.servlet;

import io.jcomet.config.ConfigException;
import io.jcomet.config.ConfigSources;
import io.jcomet.config.JcometConfig;
import io.jcomet.core.Broker;
import jakarta.servlet.ServletContext;
import jakarta.servlet.ServletContextEvent;
import jakarta.servlet.ServletContextListener;
import java.util.List;
import java.util.logging.Level;
import java.util.logging.Logger;

/**
 * The web app's lifecycle: reads the configuration when the context starts (a bad value fails the
 * deployment with a message naming key and value), creates the {@link Broker} and publishes it as
 * the context attribute {@code io.jcomet.core.Broker}; when the context stops, every held request is
 * answered with {@code reconnect} and the sweeper stops. Called by the container's deploying
 * thread only.
 */
public final class JcometBootstrap implements ServletContextListener {
    private static final Logger LOG = Logger.getLogger("io.jcomet");
    private Thread shutdownHook;

    private static final java.util.concurrent.atomic.AtomicBoolean DEMO_WARNED = new java.util.concurrent.atomic.AtomicBoolean();

    /**
     * WARNING the first time a web app with the demo starts in this JVM, INFO after: a server has
     * one, and a test run that starts dozens of demo servers in one JVM shows the warning once.
     */
    static Level demoWarningLevel() {
        return DEMO_WARNED.compareAndSet(false, true) ? Level.WARNING : Level.INFO;
    }

    /** Settings only the embedded launcher uses: it opens its connectors from them; a container has its own. */
    static final List<String> LAUNCHER_ONLY = List.of("admin_host", "front_host", "front_port", "front_count");

    /**
     * Warnings for settings given to the web app in a container that it cannot apply: the
     * connectors (address, front ports) are the container's (jetty-base's start.d, Tomcat's
     * server.xml, the jetty:run configuration in pom.xml), so icomet.conf's {@code listen} lines and
     * the same keys from any other source change nothing there. {@code admin_port} does apply: it
     * names the connector whose requests are admin requests.
     */
    static List<String> notApplied(ConfigSources.Loaded loaded) {
        List<String> warnings = new java.util.ArrayList<>();
        for (String key : LAUNCHER_ONLY) {
            String origin = loaded.origin(key);
            if (origin != null) {
                warnings.add(key + "=" + loaded.get(key) + " (from " + origin + ") is NOT applied: in a container the"
                        + " connectors are the container's (jetty-base start.d/*.ini, Tomcat's server.xml, pom.xml under"
                        + " mvn jetty:run); only the embedded launcher opens its connectors from " + key + " (docs/DEPLOY.md)");
            }
        }
        return warnings;
    }

    @Override
    public void contextInitialized(ServletContextEvent event) {
        ServletContext ctx = event.getServletContext();
        JcometConfig config;
        Object given = ctx.getAttribute(JcometConfig.class.getName());
        if (given instanceof JcometConfig) {
            // the embedded launcher merged the same sources with the ports its connectors really use
            config = (JcometConfig) given;
        } else try {
            ConfigSources.Loaded loaded = ConfigSources.load(ctx);
            loaded.notes().forEach(n -> LOG.info("jcomet: " + n));
            notApplied(loaded).forEach(w -> LOG.warning("jcomet: " + w));
            config = JcometConfig.from(loaded);
        } catch (ConfigException e) {
            LOG.log(Level.SEVERE, "jcomet: " + e.getMessage());
            throw e;
        }
        Broker broker = new Broker(config);
        ctx.setAttribute(Broker.class.getName(), broker);
        FrontDoorCounters.attach(broker.stats(), config.adminPort());
        if (config.demo()) {
            // development only (mvn jetty:run turns it on): never part of a production deployment
            jakarta.servlet.ServletRegistration.Dynamic demo = ctx.addServlet("chat-demo", "io.jcomet.demo.ChatDemoServlet");
            demo.addMapping("/demo/*");
            demo.setLoadOnStartup(2);
            LOG.log(demoWarningLevel(), "jcomet: demo=true: the chat demo answers at /demo/chat/* and /chat.html; never enable it on a public server");
        }
        // On SIGTERM a container first stops accepting and closes connections, and only then
        // destroys contexts: by then held clients could no longer be told to reconnect. A JVM
        // shutdown hook answers them first (portable: no container API).
        shutdownHook = new Thread(broker::close, "jcomet-reconnect-on-exit");
        try {
            Runtime.getRuntime().addShutdownHook(shutdownHook);
        } catch (IllegalStateException | SecurityException e) {
            shutdownHook = null; // already shutting down, or not permitted: contextDestroyed still closes
        }
        LOG.info("jcomet " + Broker.VERSION + " started: auth=" + config.auth().name().toLowerCase()
                + " max_channels=" + config.maxChannels()
                + " max_subscribers_per_channel=" + config.maxSubscribersPerChannel()
                + " channel_buffer_size=" + config.channelBufferSize()
                + " polling_timeout=" + config.pollingTimeoutSeconds() + "s"
                + "; admin API only on requests that arrive on port " + config.adminPort()
                + " (a container without a connector on that port has no admin API: see docs/DEPLOY.md)");
    }

    @Override
    public void contextDestroyed(ServletContextEvent event) {
        if (shutdownHook != null) {
            try {
                Runtime.getRuntime().removeShutdownHook(shutdownHook);
            } catch (IllegalStateException e) {
                // the JVM is exiting: the hook runs (or ran) anyway
            }
        }
        Object b = event.getServletContext().getAttribute(Broker.class.getName());
        if (b instanceof Broker) {
            ((Broker) b).close();
        }
    }
}
