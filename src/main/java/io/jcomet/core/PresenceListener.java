package io.jcomet.core;

/**
 * Told when a channel gets its first subscriber (online) and loses its last (offline). Called while
 * the channel's lock is held, so events of one channel arrive in order: implementations must only
 * enqueue (never block).
 */
public interface PresenceListener {
    void presence(String cname, boolean online);

    /**
     * The broker is closing (server stopping): end whatever this listener holds open, so the
     * container's graceful stop does not wait on it. Called once, from the closing thread.
     */
    default void brokerClosed() {
    }
}
