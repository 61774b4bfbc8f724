package io.jcomet.core;

import io.jcomet.protocol.Transport;

/**
 * One named channel: its subscribers, its recent messages and its sequence counter.
 *
 * <p>Every field except the final ones is guarded by this object's monitor ({@code synchronized
 * (channel)}); the {@link Broker} is the only code that takes it, and never holds it while taking
 * another channel's lock or blocking. Subscribers are kept in two intrusive doubly linked lists,
 * one-shot long-polls apart from streams, so a publish detaches every long-poll in O(1) and answers
 * them after releasing the lock. The channel is the one place that counts subscribers held
 * ({@link Stats#addHeld}): every link, unlink and detach updates the count as it changes the list.
 * {@code removed} is set once, under the lock, when the channel is
 * closed or expires; a thread that looked the channel up before then sees it and looks again.
 */
public final class Channel {
    final String name;
    final int slot;
    final long incarnation;    // printed unsigned in the epoch

    int nextSeq = 1;
    MessageRing ring;          // created on first publish: a channel that only holds subscribers costs no buffer
    String token;
    String sharedEpoch;        // a shared engine's channel: the store's epoch (null with engine=memory)
    int timeoutMillis;         // channel_timeout, or what /sign's expires asked for
    int lastActive;            // broker clock: last publish, or when the last subscriber left
    boolean removed;
    boolean online;            // presence as last reported: "1 cname" sent and "0 cname" not yet
    int announcedAt;           // broker clock: when "1 cname" was last sent
    boolean madeByFront;       // created for a subscriber and neither published to nor signed since

    Subscriber polls;          // one-shot subscribers (long-poll)
    int pollCount;
    Subscriber streams;        // streaming subscribers (stream, sse, iframe)
    int streamCount;

    Channel(String name, int slot, long incarnation, int timeoutMillis, int now) {
        this.name = name;
        this.slot = slot;
        this.incarnation = incarnation;
        this.timeoutMillis = timeoutMillis;
        this.lastActive = now;
    }

    public String name() {
        return name;
    }

    int subscriberCount() {
        return pollCount + streamCount;
    }

    /** Links {@code s} and counts it held; caller holds the lock and has checked the subscriber limit. */
    void link(Subscriber s, Stats stats) {
        stats.addHeld(s.transport(), 1);
        s.channel = this;
        s.prev = null;
        if (s.transport().streaming()) {
            s.next = streams;
            if (streams != null) {
                streams.prev = s;
            }
            streams = s;
            streamCount++;
        } else {
            s.next = polls;
            if (polls != null) {
                polls.prev = s;
            }
            polls = s;
            pollCount++;
        }
    }

    /** Unlinks {@code s} if it is linked here and counts it no longer held; caller holds the lock. */
    boolean unlink(Subscriber s, Stats stats) {
        if (s.channel != this) {
            return false;
        }
        stats.addHeld(s.transport(), -1);
        boolean streaming = s.transport().streaming();
        if (s.prev != null) {
            s.prev.next = s.next;
        } else if (streaming) {
            streams = s.next;
        } else {
            polls = s.next;
        }
        if (s.next != null) {
            s.next.prev = s.prev;
        }
        s.prev = null;
        s.next = null;
        s.channel = null;
        if (streaming) {
            streamCount--;
        } else {
            pollCount--;
        }
        return true;
    }

    /**
     * Detaches all long-poll subscribers and returns them as a chain through {@code next}; caller
     * holds the lock. The chain is private to the caller afterwards: no one else touches the links
     * of a subscriber whose {@code channel} is null. They are no longer counted held.
     */
    Subscriber detachPolls(Stats stats) {
        if (pollCount > 0) {
            stats.addHeld(Transport.POLL, -pollCount);
        }
        Subscriber head = polls;
        for (Subscriber s = head; s != null; s = s.next) {
            s.channel = null;
            s.prev = null;
        }
        polls = null;
        pollCount = 0;
        return head;
    }

    /** Detaches the streams the same way. */
    Subscriber detachStreams(Stats stats) {
        Subscriber head = streams;
        for (Subscriber s = head; s != null; s = s.next) {
            stats.addHeld(s.transport(), -1); // stream, sse, iframe and ws are counted apart
            s.channel = null;
            s.prev = null;
        }
        streams = null;
        streamCount = 0;
        return head;
    }
}
