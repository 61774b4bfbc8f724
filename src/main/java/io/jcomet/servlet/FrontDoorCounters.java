package io.jcomet.servlet;

import io.jcomet.core.Stats;
import java.lang.management.ManagementFactory;
import javax.management.MBeanServer;
import javax.management.ObjectName;

/**
 * Adds the connection-level counters that the Jetty server keeps below the web app (head
 * deadline, connections per client, front open-file limit: io.jcomet.jetty.FrontDoor in the
 * embedded launcher, jetty-base and mvn jetty:run) to {@link Stats}, so /info and /metrics show
 * them. The server publishes them over JMX as {@code io.jcomet:type=FrontDoor,admin_port=<port>}:
 * JMX crosses the class loaders of server and web app, and in a container without them (Tomcat)
 * the counts are simply 0. Only JDK and servlet-layer types here, so the WAR stays portable.
 *
 * <p>Threads: attached once at start; the suppliers are read by whoever renders /info or /metrics.
 */
final class FrontDoorCounters {
    private FrontDoorCounters() {}

    static void attach(Stats stats, int adminPort) {
        ObjectName name;
        try {
            name = new ObjectName("io.jcomet:type=FrontDoor,admin_port=" + adminPort);
        } catch (javax.management.MalformedObjectNameException e) {
            return;
        }
        MBeanServer mbs = ManagementFactory.getPlatformMBeanServer();
        stats.addExternal(Stats.Reject.HEAD_TIMEOUT, () -> read(mbs, name, "HeadTimeouts"));
        stats.addExternal(Stats.Reject.CONNECTIONS_PER_CLIENT, () -> read(mbs, name, "ConnectionsPerClient"));
        stats.addExternal(Stats.Reject.FRONT_FD_LIMIT, () -> read(mbs, name, "FrontFdLimit"));
    }

    private static long read(MBeanServer mbs, ObjectName name, String attribute) {
        try {
            return mbs.isRegistered(name) ? ((Number) mbs.getAttribute(name, attribute)).longValue() : 0;
        } catch (Exception e) {
            return 0;
        }
    }
}
