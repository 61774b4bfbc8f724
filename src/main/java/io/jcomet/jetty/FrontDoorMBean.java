package io.jcomet.jetty;

/**
 * The connection-level counters of {@link FrontDoor}, published over JMX as
 * {@code io.jcomet:type=FrontDoor,admin_port=<port>} so that the web app, loaded by another class
 * loader in jetty-base, adds them to /info and /metrics (io.jcomet.servlet.FrontDoorCounters).
 */
public interface FrontDoorMBean {
    /** Connections closed because a request head missed request_head_timeout_ms. */
    long getHeadTimeouts();

    /** Connections closed at accept because their address had max_connections_per_client open. */
    long getConnectionsPerClient();

    /** Front connections closed at accept to keep admin_fd_reserve open files free. */
    long getFrontFdLimit();

    /** The front connection limit from the open-file limit, or -1 when there is none. */
    long getFrontMaxConnections();
}
