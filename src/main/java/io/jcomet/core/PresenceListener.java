package io.jcomet.core;

/**
 * Told, as icomet's {@code /psub} reports it, when a channel is created (online), again every
 * {@code channel_timeout} while it lives (online), and when it is freed (offline). Called while
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
