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
        private long idleTimeoutMillis = 120_000;
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
            pool.setName("jcomet");
            // No reserved threads: with them, each request makes the selector hand its selecting to
            // a parked reserved thread (a wake-up) and re-park it afterwards; on 2 cores that cost
            // more than dispatching the request to the pool. Measured with bench publish, 16 keep-alive
            // publishers: 43k -> 52k pushes/s, 25 -> 21 us of server CPU per push (BENCHMARKS.md).
            pool.setReservedThreads(0);
            // 1 KB buckets (Jetty's default is 4 KB): the buffers every write takes for a moment
            // (chunk and response headers) and output buffers held for a long time (open streams, if
            // output aggregation is ever turned on) land in different buckets, so a bucket never
            // scans past thousands of held buffers (measured with 10,000 aggregating streams: 101 ->
            // 15 us of CPU per delivery; docs/BENCHMARKS.md).
            // Idle memory bounded at 64 MB heap + 64 MB direct, as in jetty-base.
            ArrayByteBufferPool buffers = new ArrayByteBufferPool(0, 1024, 65536, -1, 64L << 20, 64L << 20);
            Server server = new Server(pool, null, buffers);
            server.setStopAtShutdown(false); // Main registers a hook that calls stop(): broker first
            server.setStopTimeout(5000);

            HttpConfiguration http = new HttpConfiguration();
            http.setSendServerVersion(false);
            http.setSendDateHeader(false);      // one header less per message; comet clients do not use it
            // Taken while writing. No aggregation (1): jcomet writes each message once and flushes it
            // anyway, and an aggregating response keeps this buffer until it completes, i.e. an open
            // stream for its whole life (measured +3.5 KB RSS per stream with 2048, nothing with 1).
            http.setOutputBufferSize(3072);
            http.setOutputAggregationSize(1);
            http.setRequestHeaderSize(8192);
            http.setResponseHeaderSize(4096);
            // Jetty's parser builds a header-field cache (an ArrayTrie of ~47 KB) on a connection's
            // second request; with long-polls re-polling over keep-alive that is 47 KB per client
            // (measured: 10,000 re-polling subscribers exhausted a 1 GB heap). Comet requests are tiny.
            http.setHeaderCacheSize(0);

            ServerConnector admin = connector(server, http, host, adminPort);
            List<ServerConnector> fronts = new ArrayList<>();
            String fh = frontHost == null ? host : frontHost;
            for (int i = 0; i < frontCount; i++) {
                fronts.add(connector(server, http, fh, frontPort == 0 ? 0 : frontPort + i));
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

        private ServerConnector connector(Server server, HttpConfiguration http, String host, int port) {
            ServerConnector c = new ServerConnector(server, 0, 1, new HttpConnectionFactory(http));
            c.setHost(host);
            c.setPort(port);
            c.setAcceptQueueSize(1024);
            // longer than any polling_timeout we would configure: the sweeper ends held requests, not this
            c.setIdleTimeout(idleTimeoutMillis);
            return c;
        }
    }
}
