package io.jcomet.ws;

/**
 * What {@link WsConnection} needs of the container's socket: the one thing a container adapter
 * supplies. Two adapters implement it: {@link JettyWsSocket} (Jetty's own WebSocket core, on
 * Jetty) and {@link WsEndpoint} (Jakarta WebSocket, on Tomcat and any other container). They only
 * carry frames; every protocol and admission rule is {@link WsConnection}'s.
 *
 * <p>Threads: {@link #sendText} is called with the connection's lock held, at most one send in
 * flight at a time; the adapter reports its end with {@link WsConnection#sent} (possibly inside
 * {@code sendText}, on the caller's thread). The others may be called from any thread.
 */
interface WsSocket {
    /**
     * Sends one text frame holding {@code json} (UTF-8, exactly the bytes given: the array is
     * shared by every socket the message goes to, so it is only read). Throws
     * {@link IllegalStateException} when the socket is closed or closing.
     */
    void sendText(byte[] json);

    /** Sends a ping with this 8-byte payload; throws when the socket cannot take it now. */
    void sendPing(long payload) throws java.io.IOException;

    /** Starts the close handshake with this code (RFC 6455) and reason; never throws. */
    void close(int code, String reason);

    /** The idle timeout after which the container drops the connection. */
    void setIdleTimeoutMillis(long millis);
}
