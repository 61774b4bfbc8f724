package io.jcomet.jetty;

import io.jcomet.config.ConfigSources;
import io.jcomet.config.JcometConfig;
import io.jcomet.os.OpenFileLimit;
import java.io.IOException;
import java.lang.management.ManagementFactory;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.Set;
import java.util.concurrent.atomic.LongAdder;
import java.util.stream.Stream;
import javax.management.MBeanServer;
import javax.management.ObjectName;
import org.eclipse.jetty.server.Connector;
import org.eclipse.jetty.server.HttpConnectionFactory;
import org.eclipse.jetty.server.Server;
import org.eclipse.jetty.server.ServerConnector;
import org.eclipse.jetty.server.SslConnectionFactory;
import org.eclipse.jetty.util.component.ContainerLifeCycle;

/**
 * The connection-level front door, below the web app: a deadline for request heads, a cap on open
 * connections per client address, and a reserve of open files the front connectors cannot take,
 * so the admin port keeps working when the front is flooded. One instance per server, added as a
 * bean of the {@link Server}; it wires the server's connectors when the server starts, so every
 * connector added before the start is covered (the embedded launcher, jetty-base's
 * etc/jcomet-front-connectors.xml and mvn jetty:run's src/main/jetty XML create it the same way;
 * settings and reasons: io.jcomet.launcher.JettyTuning and the keys of {@link JcometConfig}).
 *
 * <ul>
 *   <li>{@code request_head_timeout_ms}: every HTTP/1.1 connector, front and admin
 *       ({@link HeadDeadlineConnectionFactory}), and on TLS connectors the handshake before it
 *       ({@link HandshakeDeadline});</li>
 *   <li>{@code admin_inline} (on by default): the admin connector(s) handle the admin API's short
 *       requests without a body on their selector thread ({@link #INLINE_PATHS},
 *       {@link HeadDeadlineConnectionFactory});</li>
 *   <li>{@code max_connections_per_client}: the front connectors share one cap, the admin
 *       connector(s) have their own ({@link AddressConnectionCap}); {@code client_limits_exempt}
 *       addresses are not capped;</li>
 *   <li>{@code admin_fd_reserve}: a {@link FrontConnectionLimit} on the front connectors together,
 *       at the process's open-file limit ({@link OpenFileLimit}) minus the files open at start
 *       minus the reserve. Past it a new front connection is closed at once, while the admin
 *       connector accepts as usual.</li>
 * </ul>
 * Counters are published over JMX ({@link FrontDoorMBean}) for the web app's /info and /metrics.
 *
 * <p>Threads: built and started by the thread that starts the server; counters are written by
 * selector and scheduler threads ({@link LongAdder}) and read by anyone.
 */
public final class FrontDoor extends ContainerLifeCycle implements FrontDoorMBean {
    private final JcometConfig config;
    private final Server server;
    private final List<Connector> fronts;
    private final LongAdder headTimeouts = new LongAdder();
    private final LongAdder connectionsPerClient = new LongAdder();
    private final LongAdder frontFdLimit = new LongAdder();
    private volatile long frontMaxConnections = -1;
    private ObjectName name;
    /** The connectors are wired once, at the first start (a restarted server keeps its wiring). */
    private boolean wired;

    /**
     * jetty-base and jetty:run: the jcomet settings are read from the same sources as the web app
     * reads them (the jcomet.config file, -Djcomet.* system properties, JCOMET_* variables).
     */
    public FrontDoor(Server server, Collection<? extends Connector> fronts) {
        this(JcometConfig.from(ConfigSources.load(n -> null, List.of(), System.getenv(), System.getProperties())), server, fronts);
    }

    /**
     * Adds a front door over {@code fronts} to {@code server}, the jcomet settings read as the web app
     * reads them: the entry point of mvn jetty:run's XML, which loads this class reflectively.
     */
    public static FrontDoor addTo(Server server, Collection<? extends Connector> fronts) {
        FrontDoor door = new FrontDoor(server, fronts);
        server.addBean(door);
        return door;
    }

    public FrontDoor(JcometConfig config, Server server, Collection<? extends Connector> fronts) {
        this.config = config;
        this.server = server;
        this.fronts = new ArrayList<>(fronts);
    }

    @Override
    protected void doStart() throws Exception {
        if (!wired) {
            wire();
            wired = true;
        }
        register();
        super.doStart();
    }

    /**
     * The admin paths run on the selector thread (admin_inline): those whose handler does bounded
     * work without waiting and answers with one small buffered write, at the web app's root
     * context: /push, /pub, /sign, /close, /clear and /check, on either engine (on the Redis engine
     * they are answered when Redis answers, without a thread waiting). Never /broadcast (every channel), /info (counts the open files,
     * a million at C1000K), /metrics (a long answer) or /psub: each would hold every other
     * connection of the selector meanwhile.
     */
    static final Set<String> INLINE_PATHS = Set.of("/push", "/pub", "/sign", "/close", "/clear", "/check");

    private void wire() {
        List<Connector> admins = new ArrayList<>();
        for (Connector c : server.getConnectors()) {
            // a connector of another kind (mvn jetty:run's own, which builds its ServerConnector only
            // when it starts) is left as it is
            if (!fronts.contains(c) && c instanceof ServerConnector) {
                admins.add(c);
            }
        }
        long headTimeout = config.requestHeadTimeoutMillis();
        Set<String> inline = config.adminInline() ? INLINE_PATHS : Set.of();
        for (Connector c : server.getConnectors()) {
            if (!(c instanceof ServerConnector sc)) {
                continue;
            }
            HttpConnectionFactory http = sc.getConnectionFactory(HttpConnectionFactory.class);
            Set<String> inlineHere = admins.contains(c) ? inline : Set.of();
            if ((headTimeout > 0 || !inlineHere.isEmpty()) && http != null && !(http instanceof HeadDeadlineConnectionFactory)) {
                sc.addConnectionFactory(new HeadDeadlineConnectionFactory(http, headTimeout, headTimeouts, inlineHere));
            }
            if (headTimeout > 0 && sc.getConnectionFactory(SslConnectionFactory.class) != null) {
                sc.addBean(new HandshakeDeadline(sc.getScheduler(), headTimeout, headTimeouts));
            }
        }
        int perClient = config.maxConnectionsPerClient();
        if (perClient > 0) {
            AddressConnectionCap front = new AddressConnectionCap(perClient, this::exempt, connectionsPerClient);
            AddressConnectionCap admin = new AddressConnectionCap(perClient, this::exempt, connectionsPerClient);
            fronts.forEach(c -> ((ContainerLifeCycle) c).addBean(front));
            admins.forEach(c -> ((ContainerLifeCycle) c).addBean(admin));
        }
        long max = frontMaxConnections(OpenFileLimit.ofThisProcess().soft(), openFilesNow(), config.adminFdReserve());
        if (max > 0 && !fronts.isEmpty()) {
            frontMaxConnections = max;
            FrontConnectionLimit limit = new FrontConnectionLimit((int) Math.min(Integer.MAX_VALUE, max), frontFdLimit);
            fronts.forEach(c -> ((ContainerLifeCycle) c).addBean(limit));
        }
    }

    @Override
    protected void doStop() throws Exception {
        super.doStop();
        unregister();
    }

    /**
     * The front connectors' connection limit: the open-file limit minus the files open now minus
     * the reserve; -1 (no limit) when the reserve is 0 or the limit is unknown or unlimited.
     */
    static long frontMaxConnections(long openFileLimit, long openNow, int reserve) {
        if (reserve <= 0 || openFileLimit <= 0 || openFileLimit == OpenFileLimit.UNLIMITED || openNow < 0) {
            return -1;
        }
        return Math.max(1, openFileLimit - openNow - reserve);
    }

    /** Files this process has open now, or -1 where /proc/self/fd cannot be listed. */
    private static long openFilesNow() {
        try (Stream<Path> fds = Files.list(Path.of("/proc/self/fd"))) {
            return fds.count();
        } catch (IOException | RuntimeException e) {
            return -1;
        }
    }

    /** The client_limits_exempt rule, the web app's own matcher (addresses and CIDR ranges). */
    private boolean exempt(String ip) {
        // IPv6's loopback is this host, as the default's 127.0.0.1 is
        return config.clientLimitsExempt().matches(ip.equals("0:0:0:0:0:0:0:1") ? "127.0.0.1" : ip);
    }

    /** The admin port's number for the JMX name: the web app finds its server's counters by it. */
    private int adminPort() {
        for (Connector c : server.getConnectors()) {
            if (!fronts.contains(c) && c instanceof ServerConnector sc) {
                return sc.getLocalPort() > 0 ? sc.getLocalPort() : sc.getPort();
            }
        }
        return config.adminPort();
    }

    private void register() throws Exception {
        MBeanServer mbs = ManagementFactory.getPlatformMBeanServer();
        name = objectName(adminPort());
        if (mbs.isRegistered(name)) {
            mbs.unregisterMBean(name); // a server on the same port before this one, in the same JVM (tests)
        }
        mbs.registerMBean(this, name);
    }

    private void unregister() {
        try {
            if (name != null) {
                ManagementFactory.getPlatformMBeanServer().unregisterMBean(name);
            }
        } catch (Exception ignored) {
            // already gone
        }
    }

    /** The JMX name under which the server with this admin port publishes its counters. */
    public static ObjectName objectName(int adminPort) throws javax.management.MalformedObjectNameException {
        return new ObjectName("io.jcomet:type=FrontDoor,admin_port=" + adminPort);
    }

    @Override
    public long getHeadTimeouts() { return headTimeouts.sum(); }

    @Override
    public long getConnectionsPerClient() { return connectionsPerClient.sum(); }

    @Override
    public long getFrontFdLimit() { return frontFdLimit.sum(); }

    @Override
    public long getFrontMaxConnections() { return frontMaxConnections; }
}
