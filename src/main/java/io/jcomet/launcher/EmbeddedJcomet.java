package io.jcomet.launcher;

import io.jcomet.core.Broker;
import java.io.File;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.eclipse.jetty.alpn.server.ALPNServerConnectionFactory;
import org.eclipse.jetty.ee10.webapp.WebAppContext;
import org.eclipse.jetty.http2.server.HTTP2ServerConnectionFactory;
import org.eclipse.jetty.io.ArrayByteBufferPool;
import org.eclipse.jetty.server.HttpConfiguration;
import org.eclipse.jetty.server.HttpConnectionFactory;
import org.eclipse.jetty.server.SecureRequestCustomizer;
import org.eclipse.jetty.server.Server;
import org.eclipse.jetty.server.ServerConnector;
import org.eclipse.jetty.server.SslConnectionFactory;
import org.eclipse.jetty.util.ssl.KeyStoreScanner;
import org.eclipse.jetty.util.ssl.SslContextFactory;
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
 * <p>Optionally ({@link Builder#tlsPort}) an https front connector: TLS 1.2/1.3 whose ALPN offers h2
 * and http/1.1, set up from {@link JettyTuning}'s TLS sections as jetty-base's jcomet-tls module is,
 * with a keystore given to the builder or the generated {@link DevCertificate}, reloaded when its
 * file changes.
 *
 * <p>Threads: build and start from one thread; {@link #stop} from any thread.
 */
public final class EmbeddedJcomet implements AutoCloseable {
    private final Server server;
    private final ServerConnector admin;
    private final List<ServerConnector> fronts;
    private final WebAppContext webapp;
    /** The https front connector, or null. */
    private final ServerConnector tls;

    private EmbeddedJcomet(Server server, ServerConnector admin, List<ServerConnector> fronts, WebAppContext webapp,
            ServerConnector tls) {
        this.server = server;
        this.admin = admin;
        this.fronts = fronts;
        this.webapp = webapp;
        this.tls = tls;
    }

    /** The https front port, or -1 when the server has none. */
    public int tlsPort() {
        return tls == null ? -1 : tls.getLocalPort();
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
        private int tlsPort = -1;
        private Path keyStore;
        private String keyStorePassword;
        private String keyStoreAlias;

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
        /** Adds the https front connector on this port (0: ephemeral; {@link JettyTuning#TLS_PORT} is the usual one). */
        public Builder tlsPort(int port) {
            if (port < 0 || port > 65535) {
                throw new IllegalArgumentException("https port must be 0..65535");
            }
            this.tlsPort = port;
            return this;
        }
        /**
         * The https certificate: a PKCS12 keystore, its password and the alias of the entry to serve
         * (null: the only one). Without it the https connector serves the {@link DevCertificate}.
         */
        public Builder tlsKeyStore(Path path, String password, String alias) {
            this.keyStore = path;
            this.keyStorePassword = password;
            this.keyStoreAlias = alias;
            return this;
        }
        /** Any jcomet configuration key, passed as a context init parameter {@code jcomet.<key>}. */
        public Builder set(String key, String value) { settings.put(key, value); return this; }

        public EmbeddedJcomet start() throws Exception {
            // + up to 4 selectors of the https connector (Jetty's default for -1)
            QueuedThreadPool pool = new QueuedThreadPool(Math.max(maxThreads, 8 + frontCount + 1 + (tlsPort >= 0 ? 4 : 0)), 4);
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
            ServerConnector tls = tlsPort < 0 ? null : tlsConnector(server, http, fh);
            if (tls != null) {
                server.addConnector(tls);
            }
            admin.open();
            for (ServerConnector c : fronts) {
                c.open();
            }
            if (tls != null) {
                tls.open();
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
            // /ws: the web app registers itself with Jetty's WebSocket core (io.jcomet.ws.JettyWsDeployer,
            // as in jetty-base's jcomet-websocket module); no Jakarta WebSocket container here
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
            return new EmbeddedJcomet(server, admin, fronts, webapp, tls);
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

        /**
         * The https front: TLS ({@link JettyTuning#TLS_CONTEXT}), ALPN choosing h2
         * ({@link JettyTuning#HTTP2}) or http/1.1, the same HTTP settings as every connector plus the
         * request customizer that marks requests secure, and a scanner that reloads the keystore when
         * its file changes ({@link JettyTuning#TLS_RELOAD}).
         */
        private ServerConnector tlsConnector(Server server, HttpConfiguration http, String host) throws java.io.IOException {
            Path ks = keyStore;
            String password = keyStorePassword;
            String alias = keyStoreAlias;
            if (ks == null) {
                ks = DevCertificate.ensure(DevCertificate.DEFAULT);
                password = DevCertificate.PASSWORD;
                alias = JettyTuning.TLS_DEV_ALIAS;
                System.err.println("jcomet: https serves the self-signed DEVELOPMENT certificate " + ks.toAbsolutePath()
                        + " (browsers warn; give a keystore for anything else: docs/DEPLOY.md)");
            }
            SslContextFactory.Server ssl = tlsContext(ks, password, alias);
            HttpConfiguration https = new HttpConfiguration(http);
            https.addCustomizer(new SecureRequestCustomizer());
            HTTP2ServerConnectionFactory h2 = new HTTP2ServerConnectionFactory(https);
            h2.setMaxConcurrentStreams(JettyTuning.H2_MAX_CONCURRENT_STREAMS);
            ALPNServerConnectionFactory alpn = new ALPNServerConnectionFactory("h2", "http/1.1");
            alpn.setDefaultProtocol("http/1.1");
            ServerConnector c = new ServerConnector(server, JettyTuning.ACCEPTORS, JettyTuning.TLS_SELECTORS,
                    new SslConnectionFactory(ssl, alpn.getProtocol()), alpn, h2, new HttpConnectionFactory(https));
            c.setHost(host);
            c.setPort(tlsPort);
            c.setAcceptQueueSize(JettyTuning.FRONT_ACCEPT_QUEUE_SIZE);
            c.setIdleTimeout(idleTimeoutMillis);
            KeyStoreScanner reload = new KeyStoreScanner(ssl);
            reload.setScanInterval(JettyTuning.TLS_RELOAD_SCAN_INTERVAL_S);
            server.addBean(reload);
            return c;
        }

        /** The TLS settings of {@link JettyTuning#TLS_CONTEXT} with this keystore (JettyTuningTest checks each one). */
        static SslContextFactory.Server tlsContext(Path keyStore, String password, String alias) {
            SslContextFactory.Server ssl = new SslContextFactory.Server();
            ssl.setKeyStorePath(keyStore.toAbsolutePath().toString());
            ssl.setKeyStoreType("PKCS12");
            ssl.setKeyStorePassword(password);
            if (alias != null && !alias.isEmpty()) {
                ssl.setCertAlias(alias);
            }
            ssl.setIncludeProtocols(JettyTuning.TLS_PROTOCOLS.split(","));
            ssl.setExcludeCipherSuites(JettyTuning.TLS_EXCLUDE_CIPHER_SUITES.split(","));
            ssl.setSessionCachingEnabled(JettyTuning.TLS_SESSION_CACHING);
            ssl.setSslSessionCacheSize(JettyTuning.TLS_SESSION_CACHE_SIZE);
            ssl.setSslSessionTimeout(JettyTuning.TLS_SESSION_TIMEOUT_S);
            return ssl;
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
