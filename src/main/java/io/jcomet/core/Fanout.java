package io.jcomet.core;

import io.jcomet.protocol.Messages;
import java.util.ArrayList;
import java.util.List;

/**
 * One publication's way from the channel to its subscribers, whichever engine numbered it: the
 * seq assigned (or a shared engine's checked), the message built once and buffered, offered to
 * every stream under the channel's lock, then, after the lock, the streams flushed and the held
 * long-polls answered. The same path for /push, /batch, /broadcast and a shared engine's
 * publications, so a rule of delivery (seq order, the slow-stream drop, presence) holds for all.
 *
 * <p>Cost: the message's JSON is built once for every subscriber; the streams offered to are
 * collected in a per-thread scratch array (no allocation per publish), and long-polls are chained
 * through their own links once detached.
 *
 * <p>Threads: any publishing thread (request threads, a shared engine's threads, the sweeper never).
 * Under the channel's lock only queue appends happen ({@link Subscriber#offer}); long-polls are
 * written and streams flushed by the publishing thread after it (or at the end of a /batch's
 * {@link FlushScope}), so a slow client never stretches the lock. Lock order as in {@link Broker}.
 */
final class Fanout {
    /** {@link #publish}: the channel went away under the caller (closed or expired after its
     *  lookup); look it up again. Seqs are returned unsigned. */
    static final long CHANNEL_REMOVED = -1;

    /** Per publisher thread: the streams a publish offered its message to, flushed after the lock
     *  (outside a {@link FlushScope}; inside one, only the walk's snapshot). */
    private static final ThreadLocal<Subscriber[][]> SCRATCH = ThreadLocal.withInitial(() -> new Subscriber[1][16]);

    /** The broker's clock, epochs and the slow-stream drop. */
    private final Broker broker;
    private final HeldTimers timers;
    private final Stats stats;
    private final Presence presence;
    private final int bufferSize;
    private final int channelTimeoutMillis;

    Fanout(Broker broker, HeldTimers timers, Stats stats, Presence presence, int bufferSize, int channelTimeoutMillis) {
        this.broker = broker;
        this.timers = timers;
        this.stats = stats;
        this.presence = presence;
        this.bufferSize = bufferSize;
        this.channelTimeoutMillis = channelTimeoutMillis;
    }

    /**
     * Appends to the channel and delivers; returns the message's seq (unsigned), or
     * {@link #CHANNEL_REMOVED}. {@code sharedSeq} 0: this node assigns the seq; otherwise a shared
     * engine assigned it (and {@code sharedEpoch} names the store's epoch): a seq the channel
     * already has is not delivered again, and a new epoch resets the local copy first.
     */
    long publish(Channel ch, String type, Message.Kind kind, byte[] tail, int sharedSeq, String sharedEpoch) {
        long t0 = System.nanoTime();
        // inside a /batch: streams are flushed at its end (FlushScope), not after this publish
        FlushScope scope = FlushScope.active();
        if (scope != null) {
            scope.makeRoom(tail.length + 2 * ch.name.length() + FlushScope.FRAME_SLACK);
        }
        Message m;
        Subscriber polls;
        Subscriber[] streams = null;
        int offered = 0;
        List<Subscriber> slow = null;
        synchronized (ch) {
            assert LockOrder.enter(ch);
            try {
                if (ch.removed) {
                    return CHANNEL_REMOVED;
                }
                presence.onlineLocked(ch);
                if (sharedSeq != 0) {
                    if (sharedEpoch != null && !sharedEpoch.equals(ch.sharedEpoch)) {
                        SharedCopy.resetLocked(ch, sharedEpoch, sharedSeq); // the store lost the channel's data: a new epoch
                    } else if (Seq.diff(sharedSeq, ch.nextSeq) < 0) {
                        return Integer.toUnsignedLong(sharedSeq); // already have it (a resync and a live message crossed)
                    }
                    ch.nextSeq = sharedSeq;
                }
                m = appendLocked(ch, type, kind, tail);
                polls = ch.detachPolls(stats);
                // a snapshot first: an offer that makes a subscriber leave (re-entering the broker on this
                // thread) must not cut the walk of the list short
                int n = ch.streamCount;
                streams = n == 0 ? null : scratch(n);
                int taken = 0;
                for (Subscriber s = ch.streams; s != null; s = s.next) {
                    streams[taken++] = s;
                }
                for (int k = 0; k < taken; k++) { // taken is n, unless the list and the count disagree
                    Subscriber s = streams[k];
                    streams[k] = null;
                    if (s.isEnded() || s.channel != ch) {
                        continue; // left while we walked
                    }
                    if (s.offer(m)) {
                        if (scope == null) {
                            streams[offered++] = s;
                        } else {
                            offered++;
                            scope.hold(s);
                        }
                    } else {
                        ch.unlink(s, stats);
                        if (slow == null) {
                            slow = new ArrayList<>(2);
                        }
                        slow.add(s);
                    }
                }
                stats.addPublished();
            } finally {
                assert LockOrder.exit(ch);
            }
        }
        // streams: written now, outside the lock, each from its own ordered queue (or at the scope's end)
        if (scope == null) {
            for (int i = 0; i < offered; i++) {
                streams[i].flush();
                streams[i] = null;
            }
        } else if (offered > 0) {
            scope.held(m.json().length + FlushScope.FRAME_SLACK);
        }
        int delivered = offered + answerPolls(polls, m);
        stats.addDelivered(delivered);
        stats.addFanout(System.nanoTime() - t0);
        if (slow != null) {
            for (Subscriber s : slow) {
                broker.dropSlow(s);
            }
        }
        return Integer.toUnsignedLong(m.seq());
    }

    /** Numbers the message (the channel's next seq), builds its JSON once and buffers it. */
    private Message appendLocked(Channel ch, String type, Message.Kind kind, byte[] tail) {
        assert LockOrder.holdsChannel(ch);
        if (ch.madeByFront) {
            ch.madeByFront = false; // published to: kept for channel_timeout like any other
            ch.timeoutMillis = channelTimeoutMillis;
        }
        int seq = ch.nextSeq;
        ch.nextSeq = seq + 1 == 0 ? 1 : seq + 1; // 0 means "where are you?" on the wire: never a message seq
        Message m = new Message(kind, seq, Messages.published(type, ch.name, seq, broker.epoch(ch), tail));
        if (ch.ring == null) {
            ch.ring = new MessageRing(bufferSize);
        }
        ch.ring.add(m);
        ch.lastActive = broker.now();
        return m;
    }

    /**
     * Answers the detached long-polls (this thread's alone now, so their links chain the answered
     * ones): every answer written first, then every response ended (see
     * {@link Subscriber#sendDeferringEnd}), in the order written: the first answered had the
     * longest time to re-poll. Returns how many were answered.
     */
    private int answerPolls(Subscriber polls, Message m) {
        int delivered = 0;
        Subscriber answered = null;
        Subscriber lastAnswered = null;
        for (Subscriber s = polls, next; s != null; s = next) {
            next = s.next;
            s.next = null;
            if (s.claim()) {
                timers.remove(s);
                if (s.sendDeferringEnd(m)) {
                    if (lastAnswered == null) {
                        answered = s;
                    } else {
                        lastAnswered.next = s;
                    }
                    lastAnswered = s;
                }
                delivered++;
            }
        }
        for (Subscriber s = answered, next; s != null; s = next) {
            next = s.next;
            s.next = null;
            s.endDeferred();
        }
        return delivered;
    }

    private static Subscriber[] scratch(int n) {
        Subscriber[][] holder = SCRATCH.get();
        if (holder[0].length < n) {
            holder[0] = new Subscriber[Math.max(n, holder[0].length * 2)];
        }
        return holder[0];
    }
}
