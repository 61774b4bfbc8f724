package io.jcomet.launcher;

import io.jcomet.core.Broker;
import java.io.File;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.eclipse.jetty.ee10.webapp.WebAppContext;
import org.eclipse.jetty.io.ArrayByteBufferPool;
import org.eclipse.jetty.server.HttpConfiguration;
import org.eclipse.jetty.server.HttpConnectionFactory;
import org.eclipse.jetty.server.Server;
import org.eclipse.jetty.server.ServerConnector;
import org.eclipse.jetty.util.thread.QueuedThreadPool;

/**
 * jcomet in an embedded Jetty 12: one admin connector and N front connectors, and the web app
 * deployed from {@code webapp/} with its own web.xml, so tests exercise the same deployment a
 * container would run. Used by the integration tests (on ephemeral ports) and by {@link Main}.
 *
 * <p>Connectors are opened before the server starts so that their real ports are known and the
 * admin port can be handed to the web app's configuration. Connector settings follow the
 * measured set-up for 101 connectors: no acceptor threads (the selector accepts), one selector per connector, and
 * a small pool, because a held async request holds no thread.
 *
 * <p>Threads: build and start from one thread; {@link #stop} from any thread.
 */
public final class EmbeddedJcomet implements AutoCloseable {
    private final Server server;
    private final ServerConnector admin;
    private final List<ServerConnector> fronts;
    private final WebAppContext webapp;

    private EmbeddedJcomet(Server server, ServerConnector admin, List<ServerConnector> fronts, WebAppContext webapp) {
        this.server = server;
        this.admin = admin;
        this.fronts = fronts;
        this.webapp = webapp;
    }

    public static Builder builder() {
        return new Builder();
    }

    public int adminPort() {
        return admin.getLocalPort();
    }

    public int frontPort(int i) {
        return fronts.get(i).getLocalPort();
    }

    public List<Integer> frontPorts() {
        List<Integer> p = new ArrayList<>();
        for (ServerConnector c : fronts) {
            p.add(c.getLocalPort());
        }
        return p;
    }

    public String host() {
        String h = admin.getHost();
        return h == null || h.equals("0.0.0.0") ? "127.0.0.1" : h;
    }

    /** The web app's broker (in-process tests and demos). */
    public Broker broker() {
        return (Broker) webapp.getServletContext().getAttribute(Broker.class.getName());
    }

    /**
     * Stops the web app and the server. The broker is closed first, so every held request is
     * answered ({@code reconnect}) before Jetty's graceful stop waits for open requests to end.
     */
    public synchronized void stop() {
        if (server.isStopped()) {
            return;
        }
        try {
            Broker b = broker();
            if (b != null) {
                b.close();
            }
            server.stop();
        } catch (Exception e) {
            throw new IllegalStateException("stopping jcomet", e);
        }
    }

    @Override
    public void close() {
        stop();
    }

    /** Options; port 0 means an ephemeral port. */
    public static final class Builder {
        private String host = "127.0.0.1";
        private String frontHost;
        private int adminPort = 0;
        private int frontPort = 0;
        private int frontCount = 1;
        private int maxThreads = 64;
        private long idleTimeoutMillis = JettyTuning.FRONT_IDLE_TIMEOUT_MS;
        private String webappDir = System.getProperty("jcomet.webapp", "webapp");
        private final Map<String, String> settings = new LinkedHashMap<>();

        public Builder host(String host) { this.host = host; return this; }
        public Builder frontHost(String frontHost) { this.frontHost = frontHost; return this; }
        public Builder adminPort(int port) { this.adminPort = port; return this; }
        public Builder frontPorts(int first, int count) {
            if (count < 1) {
                throw new IllegalArgumentException("front port count must be at least 1");
            }
            this.frontPort = first;
            this.frontCount = count;
            return this;
        }
        public Builder maxThreads(int n) { this.maxThreads = n; return this; }
        /** Connector idle timeout; 0 disables it (saves a timer per connection; see BENCHMARKS.md). */
        public Builder idleTimeout(long millis) { this.idleTimeoutMillis = millis; return this; }
        public Builder webappDir(String dir) { this.webappDir = dir; return this; }
        /** Any jcomet configuration key, passed as a context init parameter {@code jcomet.<key>}. */
        public Builder set(String key, String value) { settings.put(key, value); return this; }

        public EmbeddedJcomet start() throws Exception {
            QueuedThreadPool pool = new QueuedThreadPool(Math.max(maxThreads, 8 + frontCount + 1), 4);
            // every value and its reason: JettyTuning, shared with jetty-base's ini files and mvn jetty:run
            pool.setName(JettyTuning.THREAD_NAME_PREFIX);
            pool.setIdleTimeout(JettyTuning.THREAD_IDLE_TIMEOUT_MS);
            pool.setReservedThreads(JettyTuning.RESERVED_THREADS);
            ArrayByteBufferPool buffers = new ArrayByteBufferPool(JettyTuning.BUFFER_POOL_MIN_CAPACITY,
                    JettyTuning.BUFFER_POOL_FACTOR, JettyTuning.BUFFER_POOL_MAX_CAPACITY, JettyTuning.BUFFER_POOL_MAX_BUCKET_SIZE,
                    JettyTuning.BUFFER_POOL_MAX_HEAP_MEMORY, JettyTuning.BUFFER_POOL_MAX_DIRECT_MEMORY);
            Server server = new Server(pool, null, buffers);
            server.setStopAtShutdown(false); // Main registers a hook that calls stop(): broker first
            server.setStopTimeout(5000);

            HttpConfiguration http = httpConfiguration();

            ServerConnector admin = connector(server, http, host, adminPort, JettyTuning.ADMIN_ACCEPT_QUEUE_SIZE);
            List<ServerConnector> fronts = new ArrayList<>();
            String fh = frontHost == null ? host : frontHost;
            for (int i = 0; i < frontCount; i++) {
                fronts.add(connector(server, http, fh, frontPort == 0 ? 0 : frontPort + i, JettyTuning.FRONT_ACCEPT_QUEUE_SIZE));
            }
            for (ServerConnector c : fronts) {
                server.addConnector(c);
            }
            server.addConnector(admin);
            admin.open();
            for (ServerConnector c : fronts) {
                c.open();
            }

            // No HttpSession support (security stays: webdefault.xml declares constraints): comet
            // clients have no use for a session, and the session machinery
            // keeps objects with every request (measured: docs/BENCHMARKS.md).
            WebAppContext webapp = new WebAppContext(null, null, null, null, null, org.eclipse.jetty.ee10.servlet.ServletContextHandler.SECURITY);
            webapp.setContextPath("/");
            File dir = new File(webappDir);
            if (!new File(dir, "WEB-INF/web.xml").isFile()) {
                throw new IllegalStateException("no web app at " + dir.getAbsolutePath()
                        + " (run from the project directory or set -Djcomet.webapp=<dir>)");
            }
            webapp.setWar(dir.getAbsolutePath());
            webapp.setParentLoaderPriority(true); // jcomet's classes come from this class path, not WEB-INF/classes
            webapp.setThrowUnavailableOnStartupException(true);
            settings.forEach((k, v) -> webapp.setInitParameter("jcomet." + k, v));
            webapp.setInitParameter("jcomet.admin_port", Integer.toString(admin.getLocalPort()));
            // The web app must see the admin port these connectors really use: merge the same sources
            // it would read (environment, system properties) under this builder's settings and the
            // real ports, and hand it the result, so no JCOMET_ADMIN_PORT can move the admin API elsewhere.
            Map<String, String> merged = new LinkedHashMap<>(io.jcomet.config.ConfigSources.load(
                    n -> null, List.of(), System.getenv(), System.getProperties()).values());
            merged.putAll(settings);
            merged.put("admin_port", Integer.toString(admin.getLocalPort()));
            merged.put("front_port", frontPort == 0 ? "0" : Integer.toString(frontPort)); // ephemeral ones are not a range
            merged.put("front_count", Integer.toString(fronts.size()));
            io.jcomet.config.JcometConfig effective = io.jcomet.config.JcometConfig.from(merged);
            for (ServerConnector c : fronts) {
                if (c.getLocalPort() == admin.getLocalPort()) {
                    throw new IllegalStateException("admin port " + admin.getLocalPort() + " is also a front port");
                }
            }
            webapp.setAttribute(io.jcomet.config.JcometConfig.class.getName(), effective);
            // head deadline, connections per client address, open files kept for the admin port
            server.addBean(new io.jcomet.jetty.FrontDoor(effective, server, fronts));
            // Jakarta WebSocket for /ws, as jetty-base's ee10-websocket-jakarta module gives it
            org.eclipse.jetty.ee10.websocket.jakarta.server.config.JakartaWebSocketServletContainerInitializer.configure(webapp, null);
            server.setHandler(webapp);
            // what Jetty refuses before the web app (bad path encoding, oversized URI) answers as jcomet does
            server.setErrorHandler(new JsonErrorHandler(
                    () -> (Broker) webapp.getServletContext().getAttribute(Broker.class.getName())));
            try {
                server.start();
            } catch (Exception e) {
                server.stop();
                throw e;
            }
            if (!webapp.isAvailable()) {
                server.stop();
                throw new IllegalStateException("jcomet web app failed to start", webapp.getUnavailableException());
            }
            return new EmbeddedJcomet(server, admin, fronts, webapp);
        }

        /** Every connector's HTTP settings: {@link JettyTuning#HTTP_CONFIG} (JettyTuningTest checks each one is applied). */
        static HttpConfiguration httpConfiguration() {
            HttpConfiguration http = new HttpConfiguration();
            http.setInputBufferSize(JettyTuning.INPUT_BUFFER_SIZE);
            http.setRequestHeaderSize(JettyTuning.REQUEST_HEADER_SIZE);
            http.setResponseHeaderSize(JettyTuning.RESPONSE_HEADER_SIZE);
            http.setMaxResponseHeaderSize(JettyTuning.MAX_RESPONSE_HEADER_SIZE);
            http.setOutputBufferSize(JettyTuning.OUTPUT_BUFFER_SIZE);
            http.setOutputAggregationSize(JettyTuning.OUTPUT_AGGREGATION_SIZE);
            http.setSendServerVersion(JettyTuning.SEND_SERVER_VERSION);
            http.setSendDateHeader(JettyTuning.SEND_DATE_HEADER);
            http.setHeaderCacheSize(JettyTuning.HEADER_CACHE_SIZE);
            return http;
        }

        private ServerConnector connector(Server server, HttpConfiguration http, String host, int port, int acceptQueueSize) {
            ServerConnector c = new ServerConnector(server, JettyTuning.ACCEPTORS, JettyTuning.SELECTORS, new HttpConnectionFactory(http));
            c.setHost(host);
            c.setPort(port);
            c.setAcceptQueueSize(acceptQueueSize);
            // it does not end a held request (the sweeper does), only an idle kept-alive connection
            c.setIdleTimeout(idleTimeoutMillis);
            return c;
        }
    }
}
