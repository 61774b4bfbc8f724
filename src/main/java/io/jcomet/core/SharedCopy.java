package io.jcomet.core;

import io.jcomet.protocol.Messages;

/**
 * A shared engine's channel as this node holds it: a faithful local copy (seq, epoch, buffer,
 * token, timeout) of the store's, kept while this node has subscribers on it. The engine hands over
 * each publication the store numbered ({@link #deliver}) and, on a channel's first subscriber or
 * after its link to the store was lost, the store's whole state ({@link #resync}); both go through
 * the one fan-out path ({@link Fanout#publish}),
 * the one a memory engine's append takes.
 *
 * <p>Threads: the engine's delivery threads (one at a time per channel, in seq order) and request
 * threads (a subscriber's attach), never holding a channel's lock: this takes the channel's lock,
 * one at a time, and the table's only with none held (see {@link Broker}'s lock order).
 */
final class SharedCopy {
    private final Broker broker;
    private final ChannelTable table;
    private final Stats stats;
    /** Where a shared engine's publications and a resync's missed messages are delivered. */
    private final Fanout fanout;
    private final int channelTimeoutMillis;

    SharedCopy(Broker broker, ChannelTable table, Stats stats, Fanout fanout, int channelTimeoutMillis) {
        this.broker = broker;
        this.table = table;
        this.stats = stats;
        this.fanout = fanout;
        this.channelTimeoutMillis = channelTimeoutMillis;
    }

    /**
     * {@link EngineEvents#publication}: a message the store numbered, delivered to this node's
     * subscribers. Called on the engine's thread for this channel, in seq order; a channel this node
     * no longer has is skipped.
     */
    void deliver(String cname, int seq, String epoch, Message.Kind kind, String content) {
        Channel ch = table.get(cname);
        if (ch != null) {
            fanout.publish(ch, kind == Message.Kind.BROADCAST ? "broadcast" : "data", kind, Messages.contentTail(content), seq, epoch);
        }
    }

    /**
     * A shared engine copies the store's state of a channel into the local one (created if needed):
     * on the first subscriber, and again after the link to the store was lost, so messages this node
     * missed reach its subscribers in order. Returns false when the local table is full.
     */
    boolean resync(String cname, Engine.SharedState state) {
        // nothing published, never signed: a channel a subscriber made (here or on another node),
        // which goes with its last subscriber as on one node, never from the admin's slots
        boolean subscribersOnly = state.nextSeq() == 1 && state.token() == null && state.timeoutSeconds() == 0
                && state.buffered().isEmpty();
        Channel ch;
        while (true) {
            ch = subscribersOnly
                    ? table.getOrCreate(cname, Math.min(1000, channelTimeoutMillis), broker.now(), true)
                    : table.getOrCreate(cname, channelTimeoutMillis, broker.now());
            if (ch == null) {
                stats.addReject(Stats.Reject.TOO_MANY_CHANNELS);
                return false;
            }
            synchronized (ch) {
                assert LockOrder.enter(ch);
                try {
                    if (!ch.removed) {
                        if (!state.epoch().equals(ch.sharedEpoch)) {
                            int first = state.buffered().isEmpty() ? state.nextSeq() : state.buffered().get(0).seq();
                            resetLocked(ch, state.epoch(), first);
                        }
                        if (state.token() != null) {
                            ch.token = state.token();
                        }
                        if (state.timeoutSeconds() > 0) {
                            ch.timeoutMillis = (int) Math.min(Integer.MAX_VALUE / 2, state.timeoutSeconds() * 1000L);
                        }
                        ch.lastActive = broker.now();
                        break;
                    }
                } finally {
                    assert LockOrder.exit(ch);
                }
            }
            // removed between the lookup and the lock (closed, expired): look again with no lock held,
            // since the table's lock and another channel's are never taken under a channel's
        }
        for (Engine.Stored m : state.buffered()) {
            String type = m.kind() == Message.Kind.BROADCAST ? "broadcast" : "data";
            fanout.publish(ch, type, m.kind(), Messages.contentTail(m.content()), m.seq(), state.epoch());
        }
        synchronized (ch) {
            assert LockOrder.enter(ch);
            try {
                if (Seq.diff(state.nextSeq(), ch.nextSeq) > 0) {
                    ch.nextSeq = state.nextSeq(); // messages past the store's buffer: gone for good
                }
            } finally {
                assert LockOrder.exit(ch);
            }
        }
        return true;
    }

    /** The store has another epoch for the channel: forget the old buffer. Caller holds the lock. */
    static void resetLocked(Channel ch, String epoch, int nextSeq) {
        assert LockOrder.holdsChannel(ch);
        ch.sharedEpoch = epoch;
        ch.nextSeq = nextSeq;
        if (ch.ring != null) {
            ch.ring.clear();
        }
    }
}
