package io.jcomet.core;

import io.jcomet.config.JcometConfig;
import io.jcomet.protocol.Json;
import io.jcomet.protocol.Messages;
import io.jcomet.protocol.Transport;
import java.nio.charset.StandardCharsets;
import java.security.SecureRandom;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;

/**
 * The publish/subscribe core, independent of HTTP: the servlet layer turns requests into calls
 * here, and later transports (WebSocket) or fan-out (a Redis bridge calling {@link #publish}) plug
 * into the same seam.
 *
 * <h2>Threads</h2>
 * <ul>
 * <li>Request threads call {@link #subscribe}, {@link #publish} and the admin operations. Each takes
 * at most one channel lock at a time, plus short-lived table or timer-stripe locks, never nested
 * inside a channel lock except the timer add (stripe locks are leaves).</li>
 * <li>Container I/O threads call {@link #forget} (via {@link Subscriber#onClientGone}) when a client
 * goes away.</li>
 * <li>One sweeper thread ({@code jcomet-sweeper}) sends noops to subscribers whose
 * {@code polling_timeout} passed, expires idle channels and reports presence offline.</li>
 * </ul>
 * Long-poll subscribers are answered after the channel lock is released; streaming subscribers are
 * written to under it so that two concurrent publishes reach each stream in seq order (their
 * writes are non-blocking and bounded, see the servlet layer).
 */
public final class Broker implements AutoCloseable {
    public static final String VERSION = "0.1.0";

    private final JcometConfig config;
    private final ChannelTable table;
    private final HeldTimers timers = new HeldTimers();
    private final Stats stats = new Stats();
    private final SecureRandom random = new SecureRandom();
    private final List<PresenceListener> presence = new CopyOnWriteArrayList<>();
    private final long startNanos = System.nanoTime();
    private final String epochPrefix;
    private final int pollingTimeoutMillis;
    private final int channelTimeoutMillis;
    private final Thread sweeper;
    private volatile boolean closed;
    private int scanCursor; // sweeper thread only

    public Broker(JcometConfig config) {
        this.config = config;
        this.table = new ChannelTable(config.maxChannels(), config.adminReservedChannels());
        this.pollingTimeoutMillis = config.pollingTimeoutSeconds() * 1000;
        this.channelTimeoutMillis = config.channelTimeoutSeconds() * 1000;
        // Names this server run; a channel's epoch is this plus its incarnation number, so a client
        // can tell a restarted server (or a re-created channel) from a gap in the same channel.
        this.epochPrefix = Long.toString((System.currentTimeMillis() / 1000) & 0xffffffffL, 36)
                + Integer.toString(random.nextInt(36 * 36), 36) + ".";
        this.sweeper = new Thread(this::sweepLoop, "jcomet-sweeper");
        this.sweeper.setDaemon(true);
        this.sweeper.start();
    }

    public JcometConfig config() { return config; }
    public Stats stats() { return stats; }

    /** Broker clock: milliseconds since start, as an int that wraps after 24 days (compared by difference). */
    int now() {
        return (int) TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - startNanos);
    }

    public long uptimeMillis() {
        return TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - startNanos);
    }

    /**
     * The channel's epoch. A channel a subscriber made and nothing was published to yet reports the
     * run's "nothing here yet" epoch ({@code <prefix>0}), the same a seq=0 query about a channel that
     * does not exist gets: such channels come and go with their subscribers (see {@link #subscribe}),
     * and a client that saw one has missed nothing from its next incarnation.
     */
    String epoch(Channel c) {
        return c.madeByFront ? epochPrefix + "0" : epochPrefix + Long.toUnsignedString(c.incarnation, 36);
    }

    private boolean epochMatches(Channel c, String clientEpoch) {
        return clientEpoch == null || clientEpoch.isEmpty() || clientEpoch.equals(epoch(c))
                || clientEpoch.equals(epochPrefix + "0"); // saw it before its first message in this run
    }

    // ------------------------------------------------------------------ subscribe

    /** What a subscriber asks for. {@code seq} 0 means "tell me where the channel is". */
    public record SubscribeRequest(String cname, int seq, String token, String epoch) {}

    /**
     * Subscribes {@code s}: answers at once (next_seq, buffered messages, gap, 401/404/429) or links
     * it to the channel until a message, a noop, a close or the client's departure ends it.
     */
    public void subscribe(Subscriber s, SubscribeRequest req) {
        if (closed) {
            if (s.claim()) {
                s.end(Message.control(Messages.reconnect(req.cname(), 1000)));
            }
            return;
        }
        while (true) {
            Channel ch;
            if (config.auth() == JcometConfig.Auth.NONE) {
                ch = table.get(req.cname());
                if (ch == null && !s.transport().streaming() && (req.seq() != 1 || !epochIsUnset(req.epoch()))) {
                    // "where is the channel?" about a channel that does not exist: answered without
                    // creating it, so asking costs the table nothing
                    Message where = Message.control(Messages.nextSeq(req.cname(), 1, epochPrefix + "0"));
                    answer(s, new Message[] {where}, 1);
                    return;
                }
                if (ch == null) {
                    // made for this subscriber; freed once it has none again, unless published to,
                    // and never from the slots kept for the admin API
                    ch = table.getOrCreate(req.cname(), Math.min(1000, channelTimeoutMillis), now(), true);
                    if (ch == null) {
                        refuse(s, 429, Stats.Reject.TOO_MANY_CHANNELS, Messages.status("429", req.cname(), "Too many channels"));
                        return;
                    }
                }
                if (subscribe(ch, s, req)) {
                    releaseIfUnused(ch);
                    return;
                }
                continue;
            } else {
                ch = table.get(req.cname());
                if (ch == null) {
                    refuse(s, 404, Stats.Reject.NOT_FOUND, Messages.status("404", req.cname(), "Not Found"));
                    return;
                }
            }
            if (subscribe(ch, s, req)) {
                return;
            }
            // the channel was removed between lookup and lock: look again
        }
    }

    private boolean subscribe(Channel ch, Subscriber s, SubscribeRequest req) {
        Message[] batch;
        int count;
        boolean streaming = s.transport().streaming();
        synchronized (ch) {
            if (ch.removed) {
                return false;
            }
            if (config.auth() == JcometConfig.Auth.TOKEN && (ch.token == null || !ch.token.equals(req.token()))) {
                refuse(s, 401, Stats.Reject.TOKEN, Messages.status("401", ch.name, "Token error"));
                return true;
            }
            if (ch.subscriberCount() >= config.maxSubscribersPerChannel()) {
                refuse(s, 429, Stats.Reject.TOO_MANY_SUBSCRIBERS, Messages.status("429", ch.name, "Too many subscribers"));
                return true;
            }
            int next = ch.nextSeq;
            int from = req.seq();
            int ringSize = ch.ring == null ? 0 : ch.ring.size();
            batch = new Message[ringSize + 2];
            count = 0;
            String epoch = epoch(ch);
            if (!epochMatches(ch, req.epoch())) {
                // The client last saw another incarnation (server restart, channel re-created): point it
                // at the oldest message that survived instead of the newest seq, so it loses nothing more.
                int resume = ringSize > 0 ? ch.ring.oldestSeq() : next;
                batch[count++] = Message.control(Messages.nextSeq(ch.name, resume, epoch));
                from = resume;
                if (!streaming) {
                    return answer(s, batch, count);
                }
            } else if (from == 0 || Seq.after(from, next)) {
                batch[count++] = Message.control(Messages.nextSeq(ch.name, next, epoch));
                from = next;
                if (!streaming) {
                    return answer(s, batch, count);
                }
            }
            if (Seq.diff(from, next) < 0) {
                // the client is behind: replay what the buffer holds, saying first what it no longer holds
                int oldest = ringSize > 0 ? ch.ring.oldestSeq() : next;
                if (Seq.diff(from, oldest) < 0) {
                    int lastLost = oldest - 1 == 0 ? -1 : oldest - 1; // seq 0 is never used
                    batch[count++] = Message.control(Messages.gap(ch.name, from, lastLost, epoch));
                }
                if (ringSize > 0) {
                    count += ch.ring.copyFrom(from, batch, count);
                }
            }
            if (!streaming && count > 0) {
                return answer(s, batch, count);
            }
            if (streaming && count > 0) {
                if (!s.sendAll(batch, count)) {
                    dropSlow(s);
                    return true;
                }
                stats.delivered(dataMessages(batch, count));
            }
            if (s.isEnded()) {
                return true; // the client left while we were deciding
            }
            ch.link(s);
            stats.held(s.transport(), 1);
            timers.add(s, now() + pollingTimeoutMillis);
            if (!ch.online) {
                ch.online = true;
                firePresence(ch.name, true);
            }
        }
        return true;
    }

    private boolean epochIsUnset(String clientEpoch) {
        return clientEpoch == null || clientEpoch.isEmpty() || clientEpoch.equals(epochPrefix + "0");
    }

    /**
     * Removes a channel a subscriber made when no subscriber holds it, nothing was published to it
     * and it was never reported online (the subscriber was answered at once): it held nothing
     * worth keeping. One that had subscribers goes in the sweeper a second after the last leaves,
     * as presence reports it offline (a long-poll between two requests keeps it).
     */
    private void releaseIfUnused(Channel ch) {
        boolean remove = false;
        synchronized (ch) {
            if (!ch.removed && ch.madeByFront && ch.subscriberCount() == 0 && !ch.online) {
                markRemoved(ch);
                remove = true;
            }
        }
        if (remove) {
            table.remove(ch);
        }
    }

    private boolean answer(Subscriber s, Message[] batch, int count) {
        if (s.claim() && s.sendAll(batch, count)) {
            stats.delivered(dataMessages(batch, count));
        }
        return true;
    }

    /** Published messages among {@code batch}: what "delivered" counts (control messages are not). */
    private static int dataMessages(Message[] batch, int count) {
        int n = 0;
        for (int i = 0; i < count; i++) {
            if (batch[i].kind() != Message.Kind.CONTROL) {
                n++;
            }
        }
        return n;
    }

    private void refuse(Subscriber s, int status, Stats.Reject reason, byte[] json) {
        stats.reject(reason);
        if (s.claim()) {
            s.refuse(status, Message.control(json));
        }
    }

    // ------------------------------------------------------------------ publish

    /** Publishes raw text content (admin /push); returns the message's seq. */
    public int publish(String cname, String content) {
        return publish(cname, content, Message.Kind.DATA);
    }

    /**
     * Publishes content to a channel, creating it if needed. The JSON is encoded once; long-poll
     * subscribers are answered after the lock is released, streams are written under it.
     */
    public int publish(String cname, String content, Message.Kind kind) {
        checkSize(content);
        // escape outside the lock; only the seq is filled in under it
        byte[] tail = contentTail(content);
        String type = kind == Message.Kind.BROADCAST ? "broadcast" : "data";
        while (true) {
            Channel ch = table.getOrCreate(cname, channelTimeoutMillis, now());
            if (ch == null) {
                stats.reject(Stats.Reject.TOO_MANY_CHANNELS);
                throw new CometException(429, Stats.Reject.TOO_MANY_CHANNELS, "Too many channels");
            }
            Integer seq = publish(ch, type, kind, tail);
            if (seq != null) {
                return seq;
            }
        }
    }

    private Integer publish(Channel ch, String type, Message.Kind kind, byte[] tail) {
        Message m;
        Subscriber polls;
        List<Subscriber> slow = null;
        synchronized (ch) {
            if (ch.removed) {
                return null;
            }
            if (ch.madeByFront) {
                ch.madeByFront = false; // published to: kept for channel_timeout like any other
                ch.timeoutMillis = channelTimeoutMillis;
            }
            int seq = ch.nextSeq;
            ch.nextSeq = seq + 1 == 0 ? 1 : seq + 1; // 0 means "where are you?" on the wire: never a message seq
            m = new Message(kind, seq, withHead(type, ch.name, seq, tail));
            if (ch.ring == null) {
                ch.ring = new MessageRing(config.channelBufferSize());
            }
            ch.ring.add(m);
            ch.lastActive = now();
            int n = ch.pollCount;
            polls = ch.detachPolls();
            if (n > 0) {
                stats.held(Transport.POLL, -n);
            }
            for (Subscriber s = ch.streams, next; s != null; s = next) {
                next = s.next;
                if (s.isEnded()) {
                    continue;
                }
                if (s.send(m)) {
                    stats.delivered.increment();
                } else {
                    ch.unlink(s);
                    stats.held(s.transport(), -1);
                    if (slow == null) {
                        slow = new ArrayList<>(2);
                    }
                    slow.add(s);
                }
            }
            stats.published.increment();
        }
        int delivered = 0;
        for (Subscriber s = polls, next; s != null; s = next) {
            next = s.next;
            s.next = null;
            if (s.claim()) {
                timers.remove(s);
                s.send(m);
                delivered++;
            }
        }
        stats.delivered.add(delivered);
        if (slow != null) {
            for (Subscriber s : slow) {
                dropSlow(s);
            }
        }
        return m.seq();
    }

    private void checkSize(String content) {
        // cheap bound first: UTF-8 is at most 3 bytes per char
        if ((long) content.length() * 3 > config.maxMessageSize()
                && content.getBytes(StandardCharsets.UTF_8).length > config.maxMessageSize()) {
            stats.reject(Stats.Reject.TOO_LARGE);
            throw new CometException(413, Stats.Reject.TOO_LARGE,
                    "content larger than max_message_size (" + config.maxMessageSize() + " bytes)");
        }
    }

    private static byte[] contentTail(String content) {
        StringBuilder b = new StringBuilder(content.length() + 16).append(",\"content\":");
        Json.quote(b, content).append('}');
        return b.toString().getBytes(StandardCharsets.UTF_8);
    }

    private static byte[] withHead(String type, String cname, int seq, byte[] tail) {
        StringBuilder h = new StringBuilder(40 + cname.length()).append("{\"type\":\"").append(type).append("\",\"cname\":");
        Json.quote(h, cname).append(",\"seq\":").append(Integer.toUnsignedString(seq));
        byte[] head = h.toString().getBytes(StandardCharsets.UTF_8);
        byte[] out = new byte[head.length + tail.length];
        System.arraycopy(head, 0, out, 0, head.length);
        System.arraycopy(tail, 0, out, head.length, tail.length);
        return out;
    }

    /** Sends {@code content} to every channel as a {@code broadcast} message with each channel's seq. */
    public int broadcast(String content) {
        checkSize(content);
        byte[] tail = contentTail(content);
        int n = 0;
        int hw = table.highWater();
        for (int i = 0; i < hw; i++) {
            Channel ch = table.slot(i);
            if (ch != null && publish(ch, "broadcast", Message.Kind.BROADCAST, tail) != null) {
                n++;
            }
        }
        return n;
    }

    // ------------------------------------------------------------------ admin operations

    /** Result of /sign. */
    public record Signed(String cname, int seq, String token, int expiresSeconds) {}

    /** Creates the channel if needed and returns its token (made once, from SecureRandom). */
    public Signed sign(String cname, int expiresSeconds) {
        while (true) {
            Channel ch = table.getOrCreate(cname, channelTimeoutMillis, now());
            if (ch == null) {
                stats.reject(Stats.Reject.TOO_MANY_CHANNELS);
                throw new CometException(429, Stats.Reject.TOO_MANY_CHANNELS, "Too many channels");
            }
            synchronized (ch) {
                if (ch.removed) {
                    continue;
                }
                ch.madeByFront = false; // the back end knows it now
                if (ch.token == null) {
                    byte[] b = new byte[16];
                    random.nextBytes(b);
                    ch.token = HexFormat.of().formatHex(b);
                }
                int expires = expiresSeconds > 0 ? expiresSeconds : config.channelTimeoutSeconds();
                ch.timeoutMillis = (int) Math.min(Integer.MAX_VALUE / 2, expires * 1000L);
                ch.lastActive = now();
                return new Signed(ch.name, ch.nextSeq, ch.token, expires);
            }
        }
    }

    /** Closes the channel: every subscriber gets {@code close}; returns the next seq, or -1 if unknown. */
    public long close(String cname) {
        Channel ch = table.get(cname);
        if (ch == null) {
            return -1;
        }
        Subscriber polls;
        Subscriber streams;
        int next;
        synchronized (ch) {
            if (ch.removed) {
                return -1;
            }
            next = ch.nextSeq;
            polls = detachAll(ch);
            streams = ch.detachStreams();
            markRemoved(ch);
        }
        table.remove(ch);
        Message close = Message.control(Messages.close(ch.name, next));
        endChain(polls, close);
        endChain(streams, close);
        return Integer.toUnsignedLong(next);
    }

    private Subscriber detachAll(Channel ch) {
        int np = ch.pollCount;
        int ns = ch.streamCount;
        if (np > 0) {
            stats.held(Transport.POLL, -np);
        }
        for (Subscriber s = ch.streams; s != null; s = s.next) {
            stats.held(s.transport(), -1);
        }
        return ch.detachPolls();
    }

    private void markRemoved(Channel ch) {
        ch.removed = true;
        if (ch.online) {
            ch.online = false;
            firePresence(ch.name, false);
        }
    }

    private void endChain(Subscriber head, Message last) {
        for (Subscriber s = head, next; s != null; s = next) {
            next = s.next;
            s.next = null;
            if (s.claim()) {
                timers.remove(s);
                s.end(last);
            }
        }
    }

    /** Drops the buffered messages; returns the next seq, or -1 if unknown. */
    public long clear(String cname) {
        Channel ch = table.get(cname);
        if (ch == null) {
            return -1;
        }
        synchronized (ch) {
            if (ch.ring != null) {
                ch.ring.clear();
            }
            return Integer.toUnsignedLong(ch.nextSeq);
        }
    }

    /** Subscribers held on the channel, or -1 if it does not exist. */
    public int subscribers(String cname) {
        Channel ch = table.get(cname);
        if (ch == null) {
            return -1;
        }
        synchronized (ch) {
            return ch.removed ? -1 : ch.subscriberCount();
        }
    }

    /** icomet's /check: a channel is online while it has subscribers. */
    public boolean online(String cname) {
        return subscribers(cname) > 0;
    }

    public int channels() { return table.size(); }

    /** Whether the channel exists now (a racy hint for rate limits; no lock). */
    public boolean exists(String cname) { return table.get(cname) != null; }
    public int maxChannels() { return table.capacity(); }

    /** Held front subscribers, all transports. */
    public long subscribers() {
        return stats.held(Transport.POLL) + stats.held(Transport.STREAM) + stats.held(Transport.SSE) + stats.held(Transport.IFRAME);
    }

    // ------------------------------------------------------------------ presence

    public void addPresenceListener(PresenceListener l) { presence.add(l); }
    public void removePresenceListener(PresenceListener l) { presence.remove(l); }

    private void firePresence(String cname, boolean online) {
        for (PresenceListener l : presence) {
            l.presence(cname, online);
        }
    }

    // ------------------------------------------------------------------ departures

    /**
     * Ends a subscriber's membership without answering it (client gone, response failed). Any
     * thread, any number of times.
     */
    void forget(Subscriber s, boolean gone) {
        if (!s.claim()) {
            return;
        }
        unlinkFromChannel(s);
        timers.remove(s);
        if (gone) {
            stats.disconnected();
        }
    }

    private void unlinkFromChannel(Subscriber s) {
        Channel ch = s.channel; // racy read: rechecked under the lock
        if (ch == null) {
            return;
        }
        synchronized (ch) {
            if (ch.unlink(s)) {
                stats.held(s.transport(), -1);
                if (ch.subscriberCount() == 0) {
                    ch.lastActive = now();
                }
            }
        }
    }

    /** A stream that could not take a message under the channel lock; the caller unlinked it. */
    private void dropSlow(Subscriber s) {
        if (s.clientGone()) {
            stats.disconnected();
        } else {
            stats.dropSlow();
        }
        if (s.claim()) {
            timers.remove(s);
            s.end(null);
        }
    }

    // ------------------------------------------------------------------ sweeper

    private void sweepLoop() {
        Subscriber[] scratch = new Subscriber[256];
        while (!closed) {
            try {
                Thread.sleep(100);
                sweepOnce(scratch);
            } catch (InterruptedException e) {
                return;
            } catch (RuntimeException | Error e) {
                // one bad subscriber must not stop heartbeats for all: report and go on
                System.err.println("jcomet-sweeper: " + e);
                e.printStackTrace();
            }
        }
    }

    /** One sweeper pass (also called by tests). */
    void sweepOnce(Subscriber[] scratch) {
        int now = now();
        timers.expire(now, scratch, this::expired);
        scanChannels(now);
    }

    private void expired(Subscriber s) {
        if (s.transport().streaming()) {
            if (s.isEnded()) {
                return;
            }
            Channel ch = s.channel;
            String cname = ch == null ? "" : ch.name;
            if (s.send(Message.control(Messages.noop(cname, s.noopSeq++)))) {
                stats.noops.increment();
                timers.add(s, now() + pollingTimeoutMillis);
            } else {
                unlinkFromChannel(s);
                dropSlow(s);
            }
            return;
        }
        if (!s.claim()) {
            return; // a publish or a departure got there first
        }
        Channel ch = s.channel;
        String cname = ch == null ? "" : ch.name;
        unlinkFromChannel(s);
        stats.noops.increment();
        s.end(Message.control(Messages.noop(cname, s.noopSeq)));
    }

    /** Scans a slice of the slot table for channels to expire; a full pass every ~2 s at most. */
    private void scanChannels(int now) {
        int hw = table.highWater();
        if (hw == 0) {
            return;
        }
        int chunk = Math.max(1024, hw / 20);
        for (int k = 0; k < chunk && k < hw; k++) {
            if (scanCursor >= hw) {
                scanCursor = 0;
            }
            Channel ch = table.slot(scanCursor++);
            if (ch == null) {
                continue;
            }
            boolean remove = false;
            synchronized (ch) {
                if (!ch.removed && ch.subscriberCount() == 0) {
                    if (now - ch.lastActive >= ch.timeoutMillis) {
                        markRemoved(ch);
                        remove = true;
                    } else if (ch.online && now - ch.lastActive >= 1000) {
                        // long-polls leave and come back between messages: report offline only after a second
                        ch.online = false;
                        firePresence(ch.name, false);
                    }
                }
            }
            if (remove) {
                table.remove(ch);
            }
        }
    }

    // ------------------------------------------------------------------ lifecycle

    /**
     * Stops the sweeper and ends every held subscriber with a {@code reconnect} message, so clients
     * come back to the next server instead of waiting for a timeout.
     */
    @Override
    public void close() {
        if (closed) {
            return;
        }
        closed = true;
        sweeper.interrupt();
        for (PresenceListener l : presence) {
            l.brokerClosed(); // admin /psub streams end now, not when the container gives up on them
        }
        int hw = table.highWater();
        for (int i = 0; i < hw; i++) {
            Channel ch = table.slot(i);
            if (ch == null) {
                continue;
            }
            Subscriber polls;
            Subscriber streams;
            synchronized (ch) {
                polls = detachAll(ch);
                streams = ch.detachStreams();
            }
            Message bye = Message.control(Messages.reconnect(ch.name, 1000));
            endChain(polls, bye);
            endChain(streams, bye);
        }
        try {
            sweeper.join(2000);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    public boolean isClosed() {
        return closed;
    }

    ChannelTable tableForTest() {
        return table;
    }

    /** Held subscribers in the timer lists (diagnostics and tests). */
    int timersQueued() {
        return timers.size();
    }
}
