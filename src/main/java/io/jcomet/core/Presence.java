package io.jcomet.core;

import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.function.IntSupplier;

/**
 * icomet's presence: {@code 1 cname} when a channel comes to life (created by sign, publish or
 * subscribe), again every {@code channel_timeout} while it lives (the {@link Sweeper}), and
 * {@code 0 cname} when it is freed. A channel's changes go to the {@link Engine} (which tells the
 * cluster once, for a shared engine) and come back through {@link EngineEvents#presence} to
 * {@link #tell} this node's listeners (admin {@code /psub}).
 *
 * <p>Threads: the {@code ...Locked} methods run under the channel's lock (they read and write its
 * {@code online} and {@code announcedAt}), so one channel's "1" and "0" keep their order; listeners
 * are told on the caller's thread, and their writes never block (bounded by max_pending_bytes).
 * The listener list is copy-on-write: added and removed from request threads, read from any.
 */
final class Presence {
    private final List<PresenceListener> listeners = new CopyOnWriteArrayList<>();
    private final Engine engine;
    /** The broker's clock (ms), read only when a channel comes online: not on every publish. */
    private final IntSupplier now;

    Presence(Engine engine, IntSupplier now) {
        this.engine = engine;
        this.now = now;
    }

    void add(PresenceListener l) {
        listeners.add(l);
    }

    void remove(PresenceListener l) {
        listeners.remove(l);
    }

    /** The channel holds or was given something: reported online unless it already is. */
    void onlineLocked(Channel ch) {
        assert LockOrder.holdsChannel(ch);
        if (!ch.online) {
            ch.online = true;
            ch.announcedAt = now.getAsInt();
            engine.presence(ch.name, true);
        }
    }

    /** The channel is being removed: reported offline if it was online. */
    void offlineLocked(Channel ch) {
        assert LockOrder.holdsChannel(ch);
        if (ch.online) {
            ch.online = false;
            engine.presence(ch.name, false);
        }
    }

    /** The sweeper: a live channel's "1 cname" again once {@code everyMillis} passed since the last. */
    void repeatLocked(Channel ch, int now, int everyMillis) {
        assert LockOrder.holdsChannel(ch);
        if (!ch.removed && ch.online && now - ch.announcedAt >= everyMillis) {
            ch.announcedAt = now;
            engine.presence(ch.name, true);
        }
    }

    /** {@link EngineEvents#presence}: this node's listeners hear the change. */
    void tell(String cname, boolean online) {
        for (PresenceListener l : listeners) {
            l.presence(cname, online);
        }
    }

    /** The broker stops: admin /psub streams end now, not when the container gives up on them. */
    void brokerClosed() {
        for (PresenceListener l : listeners) {
            l.brokerClosed();
        }
    }
}
