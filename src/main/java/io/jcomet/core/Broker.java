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
import java.util.function.LongSupplier;

/**
 * The publish/subscribe core, independent of HTTP: the servlet layer turns requests into calls
 * here, and later transports (WebSocket) or fan-out (a Redis bridge calling {@link #publish}) plug
 * into the same seam.
 *
 * <h2>Threads</h2>
 * <ul>
 * <li>Request threads call {@link #subscribe}, {@link #publish} and the admin operations.</li>
 * <li>Container I/O threads call {@link #forget} (via {@link Subscriber#onClientGone}) when a client
 * goes away.</li>
 * <li>One sweeper thread ({@code jcomet-sweeper}) sends noops to subscribers whose
 * {@code polling_timeout} passed, expires idle channels (presence {@code 0 cname}) and repeats
 * {@code 1 cname} for live channels every {@code channel_timeout}.</li>
 * </ul>
 *
 * <h2>Lock order</h2>
 * channel, then subscriber ({@code HttpSubscriber}'s or a WebSocket connection's monitor), then
 * timer stripe ({@link HeldTimers}); the table's lock is never held with any of them. A thread
 * holds at most one channel lock. Methods named {@code ...Locked} run with the channel's lock held.
 * Under the channel lock the broker only <em>offers</em> a message to streams ({@link
 * Subscriber#offer}: a queue append that keeps seq order) and answers refusals; long-polls are
 * answered and streams {@link Subscriber#flush flushed} after the lock is released, so a slow
 * client never stretches it. Presence listeners (admin {@code /psub}) are still told under the
 * lock, so that "1 cname" and "0 cname" of one channel keep their order; their writes are
 * non-blocking and bounded by {@code max_pending_bytes}.
 */
public final class Broker implements AutoCloseable {
    /** The project's version from pom.xml (io/jcomet/version.properties, filtered by the build). */
    public static final String VERSION = projectVersion();

    private static String projectVersion() {
        try (java.io.InputStream in = Broker.class.getResourceAsStream("/io/jcomet/version.properties")) {
            java.util.Properties p = new java.util.Properties();
            if (in != null) {
                p.load(in);
            }
            String v = p.getProperty("version", "");
            return v.isEmpty() || v.startsWith("${") ? "unknown" : v; // classes run without the build's resources
        } catch (java.io.IOException e) {
            return "unknown";
        }
    }

    private final JcometConfig config;
    private final ChannelTable table;
    private final Engine engine;
    private final HeldTimers timers = new HeldTimers();
    private final Stats stats = new Stats();
    private final Admission admission;
    private final SecureRandom random = new SecureRandom();
    private final List<PresenceListener> presence = new CopyOnWriteArrayList<>();
    private final LongSupplier nanoClock;
    private final long startNanos;
    private final String epochPrefix;
    private final int pollingTimeoutMillis;
    private final int channelTimeoutMillis;
    /** When a held subscriber hears {@link Subscriber#onHeldLong} (0: never, the servlet watches at once). */
    private final int heldLongMillis;
    private final Thread sweeper;
    private final Idempotency idempotency;
    private volatile boolean closed;
    private final java.util.concurrent.atomic.AtomicBoolean closeCalled = new java.util.concurrent.atomic.AtomicBoolean();
    /** retry_ms of the reconnect messages sent on close (set before {@link #closed}). */
    private volatile int reconnectWindowMillis = MIN_RECONNECT_WINDOW_MS;
    private int scanCursor; // sweeper thread only
    /** Long-polls a sweep answered with a noop, ended after the sweep's writes (sweeper thread only). */
    private final ArrayList<Subscriber> noopsToEnd = new ArrayList<>();

    public Broker(JcometConfig config) {
        this(config, System::nanoTime, true);
    }

    /**
     * Tests: {@code nanoClock} stands for {@link System#nanoTime}, and without {@code sweeperThread}
     * nothing sweeps but the test's own {@link #sweepOnce} calls, so expiry is driven, not waited for.
     */
    Broker(JcometConfig config, LongSupplier nanoClock, boolean sweeperThread) {
        this.nanoClock = nanoClock;
        this.startNanos = nanoClock.getAsLong();
        this.config = config;
        this.table = new ChannelTable(config.maxChannels(), config.adminReservedChannels());
        this.admission = new Admission(config, stats, this::exists, new MemoryBudget(config.memoryBudgetPercent()));
        this.pollingTimeoutMillis = config.pollingTimeoutSeconds() * 1000;
        this.channelTimeoutMillis = config.channelTimeoutSeconds() * 1000;
        this.heldLongMillis = config.detectDisconnects() ? config.detectDisconnectsAfterMillis() : 0;
        // Names this server run; a channel's epoch is this plus its incarnation number, so a client
        // can tell a restarted server (or a re-created channel) from a gap in the same channel.
        this.epochPrefix = Long.toString((System.currentTimeMillis() / 1000) & 0xffffffffL, 36)
                + Integer.toString(random.nextInt(36 * 36), 36) + ".";
        this.engine = Engine.create(config);
        this.idempotency = new Idempotency(config.idempotencyWindowSeconds(), config.maxIdempotencyKeys(), nanoClock, stats);
        this.sweeper = sweeperThread ? new Thread(this::sweepLoop, "jcomet-sweeper") : null;
        if (sweeper != null) {
            sweeper.setDaemon(true);
            sweeper.start();
        }
        engine.start(this);
    }

    public JcometConfig config() { return config; }
    public Stats stats() { return stats; }
    /** The front door's one admission decision, which every transport asks before it subscribes. */
    public Admission admission() { return admission; }

    /** Broker clock: milliseconds since start, as an int that wraps after 24 days (compared by difference). */
    int now() {
        return (int) TimeUnit.NANOSECONDS.toMillis(nanoClock.getAsLong() - startNanos);
    }

    public long uptimeMillis() {
        return TimeUnit.NANOSECONDS.toMillis(nanoClock.getAsLong() - startNanos);
    }

    /**
     * The channel's epoch. A channel a subscriber made and nothing was published to yet reports the
     * run's "nothing here yet" epoch ({@code <prefix>0}), the same a seq=0 query about a channel that
     * does not exist gets: such channels come and go with their subscribers (see {@link #subscribe}),
     * and a client that saw one has missed nothing from its next incarnation.
     */
    String epoch(Channel c) {
        if (c.sharedEpoch != null) {
            return c.sharedEpoch; // a shared engine's channel: the store names the epoch
        }
        return c.madeByFront ? epochPrefix + "0" : epochPrefix + Long.toUnsignedString(c.incarnation, 36);
    }

    private boolean epochMatches(Channel c, String clientEpoch) {
        return clientEpoch == null || clientEpoch.isEmpty() || clientEpoch.equals(epoch(c))
                || clientEpoch.equals(epochPrefix + "0"); // saw it before its first message in this run
    }

    /** The epoch of a channel, or null when it does not exist (tests and diagnostics). */
    String epochOf(String cname) {
        Channel c = table.get(cname);
        return c == null ? null : epoch(c);
    }

    // ------------------------------------------------------------------ subscribe

    /**
     * What a subscriber asks for. {@code seq} 0 means "tell me where the channel is".
     *
     * <p>{@code epoch} non-null (even empty) marks a jcomet client: only it is told {@code gap} and
     * about another epoch; an icomet client (no epoch parameter) is answered as icomet answers it.
     * {@code oneMessage}: answer with one message at a time, never an array. icomet.js's JSONP
     * long-poll stops polling for good after an array answer (it sets its pause flag and never
     * clears it), so icomet-style JSONP callers get the oldest pending message and come back for
     * the next.
     */
    public record SubscribeRequest(String cname, int seq, String token, String epoch, boolean oneMessage) {
        public SubscribeRequest(String cname, int seq, String token, String epoch) {
            this(cname, seq, token, epoch, false);
        }
    }

    /**
     * Subscribes {@code s}: answers at once (next_seq, buffered messages, gap, 401/404/429) or links
     * it to the channel until a message, a noop, a close or the client's departure ends it.
     */
    public void subscribe(Subscriber s, SubscribeRequest req) {
        if (closed) {
            if (s.claim()) {
                s.end(Message.control(Messages.reconnect(req.cname(), reconnectWindowMillis)));
            }
            return;
        }
        while (true) {
            if (engine.shared() && !attachShared(s, req)) {
                return;
            }
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
                    // icomet answers an unsigned channel as a token error: a client cannot tell them apart anyway
                    refuse(s, 401, Stats.Reject.TOKEN, Messages.status("401", req.cname(), "Token error"));
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
        boolean done;
        ArrayList<Subscriber> ghosts = null;
        synchronized (ch) {
            if (!ch.removed && ch.subscriberCount() >= config.maxSubscribersPerChannel()) {
                ghosts = evictGoneLocked(ch); // before a newcomer is refused: a holder may have left unnoticed
            }
            done = subscribeLocked(ch, s, req);
        }
        if (ghosts != null) {
            for (Subscriber g : ghosts) {
                g.evicted();
            }
        }
        s.flush(); // a stream's replay and first messages, offered in order under the lock
        return done;
    }

    /** At most this many holders of a full channel are probed per newcomer (a bounded cost per refusal). */
    static final int GHOST_PROBE_LIMIT = 256;

    /**
     * A full channel: asks its holders (at most {@link #GHOST_PROBE_LIMIT}) whether their client is
     * already gone ({@link Subscriber#probeGone}, a non-blocking look at the connection) and unlinks
     * those that are, counted as disconnects and as evicted ghosts. Returns them (their transport is
     * told after the lock, {@link Subscriber#evicted}), or null when none was gone.
     */
    private ArrayList<Subscriber> evictGoneLocked(Channel ch) {
        ArrayList<Subscriber> gone = null;
        int probed = 0;
        for (int list = 0; list < 2; list++) {
            Subscriber x = list == 0 ? ch.polls : ch.streams;
            while (x != null && probed < GHOST_PROBE_LIMIT) {
                Subscriber next = x.next;
                probed++;
                if (!x.isEnded() && x.probeGone() && x.claim()) {
                    ch.unlink(x, stats);
                    timers.remove(x);
                    stats.addDisconnected();
                    stats.addEvictedGhost();
                    if (gone == null) {
                        gone = new ArrayList<>();
                    }
                    gone.add(x);
                }
                x = next;
            }
        }
        if (gone != null && ch.subscriberCount() == 0) {
            ch.lastActive = now();
        }
        return gone;
    }

    private boolean subscribeLocked(Channel ch, Subscriber s, SubscribeRequest req) {
        Message[] batch;
        int count;
        boolean streaming = s.transport().streaming();
        {
            if (ch.removed) {
                return false;
            }
            if (!ch.madeByFront) {
                announceLocked(ch); // a channel a subscriber made is announced once it holds one (below)
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
                if (Seq.diff(from, oldest) < 0 && req.epoch() != null) {
                    // only a jcomet client knows gap; icomet's clients get what is buffered (as from icomet)
                    // or, with nothing buffered (after /clear), are held until the next message
                    int lastLost = oldest - 1 == 0 ? -1 : oldest - 1; // seq 0 is never used
                    batch[count++] = Message.control(Messages.gap(ch.name, from, lastLost, epoch));
                }
                if (ringSize > 0) {
                    count += ch.ring.copyFrom(from, batch, count);
                }
            }
            if (req.oneMessage() && !streaming && count > 1) {
                count = 1;
            }
            if (!streaming && count > 0) {
                return answer(s, batch, count);
            }
            if (streaming && count > 0) {
                for (int i = 0; i < count; i++) {
                    if (!s.offer(batch[i])) {
                        dropSlow(s);
                        return true;
                    }
                }
                stats.addDelivered(dataMessages(batch, count));
            }
            if (s.isEnded()) {
                return true; // the client left while we were deciding
            }
            ch.link(s, stats);
            timers.add(s, now() + pollingTimeoutMillis);
            announceLocked(ch);
        }
        return true;
    }

    /** Shared engine: makes the local channel a synced copy before the subscriber is served; false when refused. */
    private boolean attachShared(Subscriber s, SubscribeRequest req) {
        String cname = req.cname();
        // a "where is the channel?" question (see subscribe) does not create it in the store either
        boolean probe = !s.transport().streaming() && (req.seq() != 1 || !epochIsUnset(req.epoch()))
                && table.get(cname) == null;
        boolean create = config.auth() == JcometConfig.Auth.NONE && !probe;
        try {
            if (engine.attach(cname, create)) {
                return true;
            }
            if (config.auth() == JcometConfig.Auth.NONE) {
                answer(s, new Message[] {Message.control(Messages.nextSeq(cname, 1, epochPrefix + "0"))}, 1);
                return false;
            }
            // as on one node: an unsigned channel is a token error
            refuse(s, 401, Stats.Reject.TOKEN, Messages.status("401", cname, "Token error"));
        } catch (CometException e) {
            refuse(s, e.status(), e.reject(), Messages.status(Integer.toString(e.status()), cname, e.reason()));
        }
        return false;
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
                markRemovedLocked(ch);
                remove = true;
            }
        }
        if (remove) {
            table.remove(ch);
        }
    }

    private boolean answer(Subscriber s, Message[] batch, int count) {
        if (s.claim() && s.sendAll(batch, count)) {
            stats.addDelivered(dataMessages(batch, count));
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

    /**
     * icomet's refusals on subscribe are protocol messages: HTTP 200 with the type ("401", "429") in
     * the body, which native clients that read bodies only on 2xx depend on. {@code icometType} is
     * kept for the reason counters and the log only.
     */
    private void refuse(Subscriber s, int icometType, Stats.Reject reason, byte[] json) {
        stats.addReject(reason);
        if (s.claim()) {
            s.refuse(200, Message.control(json));
        }
    }

    // ------------------------------------------------------------------ publish

    /** Publishes raw text content (admin /push); returns the message's seq. */
    public int publish(String cname, String content) {
        return publish(cname, content, Message.Kind.DATA);
    }

    /**
     * Publishes with an idempotency key (null: none): a publish with the same key on the same channel
     * within idempotency_window answers the first one's seq and publishes nothing, on either engine.
     */
    public int publish(String cname, String content, Message.Kind kind, String idempotencyKey) {
        if (idempotencyKey == null || idempotencyKey.isEmpty()) {
            return publish(cname, content, kind);
        }
        checkSize(content);
        if (engine.shared()) {
            return engine.publish(cname, kind, content, idempotencyKey);
        }
        return idempotency.publish(cname, idempotencyKey, () -> publish(cname, content, kind));
    }

    /**
     * /batch: several publishes in order, each as {@link #publish(String, String, Message.Kind, String)}
     * would make it alone. One outcome per publish: its seq ({@link Integer}) or the
     * {@link CometException} that refused it (counted). On a shared engine the engine sends them
     * together (see {@link Engine#publishAll}).
     */
    public Object[] publishAll(List<Engine.Publish> publishes) {
        Object[] out = new Object[publishes.size()];
        if (!engine.shared()) {
            for (int i = 0; i < out.length; i++) {
                Engine.Publish p = publishes.get(i);
                try {
                    out[i] = publish(p.cname(), p.content(), p.kind(), p.idempotencyKey());
                } catch (CometException e) {
                    out[i] = e;
                }
            }
            return out;
        }
        List<Engine.Publish> sized = new ArrayList<>(publishes.size());
        int[] at = new int[publishes.size()];
        for (int i = 0; i < out.length; i++) {
            try {
                checkSize(publishes.get(i).content());
                at[sized.size()] = i;
                sized.add(publishes.get(i));
            } catch (CometException e) {
                out[i] = e;
            }
        }
        Object[] sent = engine.publishAll(sized);
        for (int j = 0; j < sent.length; j++) {
            out[at[j]] = sent[j];
        }
        return out;
    }

    /**
     * Publishes content to a channel, creating it if needed. The JSON is encoded once; long-poll
     * subscribers are answered after the lock is released, streams are written under it.
     */
    public int publish(String cname, String content, Message.Kind kind) {
        checkSize(content);
        if (engine.shared()) {
            return engine.publish(cname, kind, content); // comes back through deliverShared on every node
        }
        // escape outside the lock; only the seq is filled in under it
        byte[] tail = Messages.contentTail(content);
        String type = kind == Message.Kind.BROADCAST ? "broadcast" : "data";
        while (true) {
            Channel ch = table.getOrCreate(cname, channelTimeoutMillis, now());
            if (ch == null) {
                stats.addReject(Stats.Reject.TOO_MANY_CHANNELS);
                throw new CometException(429, Stats.Reject.TOO_MANY_CHANNELS, "Too many channels");
            }
            long seq = publish(ch, type, kind, tail, 0, null);
            if (seq != CHANNEL_REMOVED) {
                return (int) seq;
            }
        }
    }

    /**
     * Appends to the channel and delivers. {@code sharedSeq} 0: this broker assigns the seq; otherwise
     * a shared engine assigned it (and {@code sharedEpoch} names the store's epoch).
     */
    private long publish(Channel ch, String type, Message.Kind kind, byte[] tail, int sharedSeq, String sharedEpoch) {
        long t0 = System.nanoTime();
        Message m;
        Subscriber polls;
        Subscriber[] streams = null;
        int taken = 0;
        int offered = 0;
        List<Subscriber> slow = null;
        synchronized (ch) {
            if (ch.removed) {
                return CHANNEL_REMOVED;
            }
            announceLocked(ch);
            if (sharedSeq != 0) {
                if (sharedEpoch != null && !sharedEpoch.equals(ch.sharedEpoch)) {
                    resetSharedLocked(ch, sharedEpoch, sharedSeq); // the store lost the channel's data: a new epoch
                } else if (Seq.diff(sharedSeq, ch.nextSeq) < 0) {
                    return Integer.toUnsignedLong(sharedSeq); // already have it (a resync and a live message crossed)
                }
                ch.nextSeq = sharedSeq;
            }
            if (ch.madeByFront) {
                ch.madeByFront = false; // published to: kept for channel_timeout like any other
                ch.timeoutMillis = channelTimeoutMillis;
            }
            int seq = ch.nextSeq;
            ch.nextSeq = seq + 1 == 0 ? 1 : seq + 1; // 0 means "where are you?" on the wire: never a message seq
            m = new Message(kind, seq, Messages.published(type, ch.name, seq, epoch(ch), tail));
            if (ch.ring == null) {
                ch.ring = new MessageRing(config.channelBufferSize());
            }
            ch.ring.add(m);
            ch.lastActive = now();
            polls = ch.detachPolls(stats);
            // a snapshot first: an offer that makes a subscriber leave (re-entering the broker on this
            // thread) must not cut the walk of the list short
            int n = ch.streamCount;
            streams = n == 0 ? null : scratch(n);
            int i = 0;
            for (Subscriber s = ch.streams; s != null; s = s.next) {
                streams[i++] = s;
            }
            taken = i; // n, unless the list and the count disagree
            for (int k = 0; k < taken; k++) {
                Subscriber s = streams[k];
                streams[k] = null;
                if (s.isEnded() || s.channel != ch) {
                    continue; // left while we walked
                }
                if (s.offer(m)) {
                    streams[offered++] = s;
                } else {
                    ch.unlink(s, stats);
                    if (slow == null) {
                        slow = new ArrayList<>(2);
                    }
                    slow.add(s);
                }
            }
            stats.addPublished();
        }
        // streams: written now, outside the lock, each from its own ordered queue
        for (int i = 0; i < offered; i++) {
            streams[i].flush();
            streams[i] = null;
        }
        int delivered = offered;
        // long-polls: every answer written first, then every response ended (see sendDeferringEnd);
        // the detached list is this thread's alone now, so its links chain the answered ones
        // (in the order they were written: the first answered had the longest time to re-poll)
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
        stats.addDelivered(delivered);
        stats.addFanout(System.nanoTime() - t0);
        if (slow != null) {
            for (Subscriber s : slow) {
                dropSlow(s);
            }
        }
        return Integer.toUnsignedLong(m.seq());
    }

    /** {@link #publish(Channel, String, Message.Kind, byte[], int, String)}: the channel went away under
     *  the caller (closed or expired after its lookup); look it up again. Seqs are returned unsigned. */
    private static final long CHANNEL_REMOVED = -1;

    /** Per publisher thread: the streams a publish offered its message to, flushed after the lock. */
    private static final ThreadLocal<Subscriber[][]> SCRATCH = ThreadLocal.withInitial(() -> new Subscriber[1][16]);

    private static Subscriber[] scratch(int n) {
        Subscriber[][] holder = SCRATCH.get();
        if (holder[0].length < n) {
            holder[0] = new Subscriber[Math.max(n, holder[0].length * 2)];
        }
        return holder[0];
    }

    private void checkSize(String content) {
        // cheap bound first: UTF-8 is at most 3 bytes per char
        if ((long) content.length() * 3 > config.maxMessageSize()
                && content.getBytes(StandardCharsets.UTF_8).length > config.maxMessageSize()) {
            stats.addReject(Stats.Reject.TOO_LARGE);
            throw new CometException(413, Stats.Reject.TOO_LARGE,
                    "content larger than max_message_size (" + config.maxMessageSize() + " bytes)");
        }
    }

    /** Sends {@code content} to every channel as a {@code broadcast} message with each channel's seq. */
    public int broadcast(String content) {
        checkSize(content);
        if (engine.shared()) {
            return engine.broadcast(content);
        }
        byte[] tail = Messages.contentTail(content);
        int n = 0;
        int hw = table.highWater();
        for (int i = 0; i < hw; i++) {
            Channel ch = table.slot(i);
            if (ch != null && publish(ch, "broadcast", Message.Kind.BROADCAST, tail, 0, null) != CHANNEL_REMOVED) {
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
        if (engine.shared()) {
            return engine.sign(cname, expiresSeconds, newToken());
        }
        while (true) {
            Channel ch = table.getOrCreate(cname, channelTimeoutMillis, now());
            if (ch == null) {
                stats.addReject(Stats.Reject.TOO_MANY_CHANNELS);
                throw new CometException(429, Stats.Reject.TOO_MANY_CHANNELS, "Too many channels");
            }
            synchronized (ch) {
                if (ch.removed) {
                    continue;
                }
                announceLocked(ch);
                ch.madeByFront = false; // the back end knows it now
                if (ch.token == null) {
                    ch.token = newToken();
                }
                int expires = expiresSeconds > 0 ? expiresSeconds : config.channelTimeoutSeconds();
                ch.timeoutMillis = (int) Math.min(Integer.MAX_VALUE / 2, expires * 1000L);
                ch.lastActive = now();
                // icomet: the seq of the oldest message still buffered, so a client starting there misses nothing
                int oldest = ch.ring != null && ch.ring.size() > 0 ? ch.ring.oldestSeq() : ch.nextSeq;
                return new Signed(ch.name, oldest, ch.token, expires);
            }
        }
    }

    private String newToken() {
        byte[] b = new byte[16];
        random.nextBytes(b);
        return HexFormat.of().formatHex(b);
    }

    /** Closes the channel: every subscriber gets {@code close}; returns the next seq, or -1 if unknown. */
    public long close(String cname) {
        return engine.shared() ? engine.close(cname) : closeLocal(cname);
    }

    /** Closes the channel on this node only (a shared engine calls it on every node). */
    public long closeLocal(String cname) {
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
            polls = ch.detachPolls(stats);
            streams = ch.detachStreams(stats);
            markRemovedLocked(ch);
        }
        table.remove(ch);
        Message close = Message.control(Messages.close(ch.name, next, epoch(ch)));
        endChain(polls, close);
        endChain(streams, close);
        return Integer.toUnsignedLong(next);
    }

    private void markRemovedLocked(Channel ch) {
        ch.removed = true;
        engine.released(ch.name);
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
        return engine.shared() ? engine.clear(cname) : clearLocal(cname);
    }

    /** Drops the buffered messages on this node only (a shared engine calls it on every node). */
    public long clearLocal(String cname) {
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

    /** Subscribers held on the channel (on every node with a shared engine), or -1 if it does not exist. */
    public int subscribers(String cname) {
        return engine.shared() ? engine.subscribers(cname) : localSubscribers(cname);
    }

    /** Subscribers held on the channel on this node, or -1 if this node does not have it. */
    public int localSubscribers(String cname) {
        Channel ch = table.get(cname);
        if (ch == null) {
            return -1;
        }
        synchronized (ch) {
            return ch.removed ? -1 : ch.subscriberCount();
        }
    }

    /**
     * icomet's /check: a channel is reported while it exists (signed, published to or subscribed, and
     * not yet expired or closed), whether or not a request is held on it at this moment: a long-poll
     * client is between two requests most of the time.
     */
    public boolean online(String cname) {
        return subscribers(cname) >= 0;
    }

    public int channels() { return table.size(); }

    /** Whether the channel exists now (a racy hint for rate limits; no lock). */
    public boolean exists(String cname) { return table.get(cname) != null; }
    public int maxChannels() { return table.capacity(); }

    /** Held front subscribers, all transports. */
    public long subscribers() {
        return stats.held(Transport.POLL) + stats.held(Transport.STREAM) + stats.held(Transport.SSE) + stats.held(Transport.IFRAME)
                + stats.held(Transport.WS);
    }

    // ------------------------------------------------------------------ shared engine callbacks

    /**
     * A shared engine delivers a message it got from the store to this node's subscribers, with the
     * seq and epoch the store assigned. Called on the engine's thread for this channel, in seq order;
     * a channel this node no longer has is skipped.
     */
    public void deliverShared(String cname, int seq, String epoch, Message.Kind kind, String content) {
        Channel ch = table.get(cname);
        if (ch != null) {
            publish(ch, kind == Message.Kind.BROADCAST ? "broadcast" : "data", kind, Messages.contentTail(content), seq, epoch);
        }
    }

    /**
     * A shared engine copies the store's state of a channel into the local one (created if needed):
     * on the first subscriber, and again after the link to the store was lost, so messages this node
     * missed reach its subscribers in order. Returns false when the local table is full.
     */
    public boolean syncShared(String cname, Engine.SharedState state) {
        // nothing published, never signed: a channel a subscriber made (here or on another node),
        // which goes with its last subscriber as on one node, never from the admin's slots
        boolean subscribersOnly = state.nextSeq() == 1 && state.token() == null && state.timeoutSeconds() == 0
                && state.buffered().isEmpty();
        Channel ch = subscribersOnly
                ? table.getOrCreate(cname, Math.min(1000, channelTimeoutMillis), now(), true)
                : table.getOrCreate(cname, channelTimeoutMillis, now());
        if (ch == null) {
            stats.addReject(Stats.Reject.TOO_MANY_CHANNELS);
            return false;
        }
        synchronized (ch) {
            if (ch.removed) {
                return syncShared(cname, state);
            }
            if (!state.epoch().equals(ch.sharedEpoch)) {
                int first = state.buffered().isEmpty() ? state.nextSeq() : state.buffered().get(0).seq();
                resetSharedLocked(ch, state.epoch(), first);
            }
            if (state.token() != null) {
                ch.token = state.token();
            }
            if (state.timeoutSeconds() > 0) {
                ch.timeoutMillis = (int) Math.min(Integer.MAX_VALUE / 2, state.timeoutSeconds() * 1000L);
            }
            ch.lastActive = now();
        }
        for (Engine.Stored m : state.buffered()) {
            String type = m.kind() == Message.Kind.BROADCAST ? "broadcast" : "data";
            publish(ch, type, m.kind(), Messages.contentTail(m.content()), m.seq(), state.epoch());
        }
        synchronized (ch) {
            if (Seq.diff(state.nextSeq(), ch.nextSeq) > 0) {
                ch.nextSeq = state.nextSeq(); // messages past the store's buffer: gone for good
            }
        }
        return true;
    }

    /** The store has another epoch for the channel: forget the old buffer. Caller holds the lock. */
    private static void resetSharedLocked(Channel ch, String epoch, int nextSeq) {
        ch.sharedEpoch = epoch;
        ch.nextSeq = nextSeq;
        if (ch.ring != null) {
            ch.ring.clear();
        }
    }

    /** The shared engine (memory when {@code engine=memory}). */
    public Engine engine() {
        return engine;
    }

    // ------------------------------------------------------------------ presence

    public void addPresenceListener(PresenceListener l) { presence.add(l); }
    public void removePresenceListener(PresenceListener l) { presence.remove(l); }

    /**
     * icomet's presence: {@code 1 cname} when a channel is created (by sign, publish or subscribe),
     * again every {@code channel_timeout} while it lives (the sweeper), {@code 0 cname} when it is
     * freed. Called under the channel's lock on every operation that may have created it.
     */
    private void announceLocked(Channel ch) {
        if (!ch.online) {
            ch.online = true;
            ch.announcedAt = now();
            firePresence(ch.name, true);
        }
    }

    private void firePresence(String cname, boolean online) {
        if (engine.shared()) {
            engine.presence(cname, online); // reported once for the cluster, through firePresenceShared
            return;
        }
        firePresenceShared(cname, online);
    }

    /** Tells this node's presence listeners (/psub); a shared engine calls it once per cluster-wide change. */
    public void firePresenceShared(String cname, boolean online) {
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
            stats.addDisconnected();
        }
    }

    private void unlinkFromChannel(Subscriber s) {
        Channel ch = s.channel; // racy read: rechecked under the lock
        if (ch == null) {
            return;
        }
        synchronized (ch) {
            if (ch.unlink(s, stats)) {
                if (ch.subscriberCount() == 0) {
                    ch.lastActive = now();
                }
            }
        }
    }

    /** A stream that could not take a message under the channel lock; the caller unlinked it. */
    private void dropSlow(Subscriber s) {
        if (!s.claim()) {
            return; // its departure ended it first, and was counted there
        }
        if (s.clientGone()) {
            stats.addDisconnected();
        } else {
            stats.addDroppedSlow();
        }
        timers.remove(s);
        s.end(null);
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
        // as a publish does: every noop written first, the responses ended after (see sendDeferringEnd)
        for (int i = 0, n = noopsToEnd.size(); i < n; i++) {
            noopsToEnd.get(i).endDeferred();
        }
        noopsToEnd.clear();
        if (heldLongMillis > 0) {
            timers.age(now + pollingTimeoutMillis - heldLongMillis, scratch, Subscriber::onHeldLong);
        }
        scanChannels(now);
    }

    private void expired(Subscriber s) {
        if (s.transport().streaming()) {
            if (s.isEnded()) {
                return;
            }
            Channel ch = s.channel;
            String cname = ch == null ? "" : ch.name;
            if (s.send(Message.control(Messages.noop(cname, s.noopSeq++, ch == null ? null : epoch(ch))))) {
                stats.addNoop();
                timers.add(s, now() + pollingTimeoutMillis);
                if (s.isEnded()) {
                    // it ended while the noop was written (client gone, channel closed): whoever ended it
                    // removed its timer before this add, so take the new one out again
                    timers.remove(s);
                }
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
        String epoch = ch == null ? null : epoch(ch);
        unlinkFromChannel(s);
        stats.addNoop();
        if (s.sendDeferringEnd(Message.control(Messages.noop(cname, s.noopSeq, epoch)))) {
            noopsToEnd.add(s);
        }
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
                        markRemovedLocked(ch);
                        remove = true;
                    }
                }
                if (!remove && !ch.removed && ch.online && now - ch.announcedAt >= channelTimeoutMillis) {
                    // icomet repeats "1 cname" every channel_timeout while the channel lives
                    ch.announcedAt = now;
                    firePresence(ch.name, true);
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
        if (!closeCalled.compareAndSet(false, true)) {
            return; // one caller closes; a second (a shutdown hook racing the container) returns at once
        }
        reconnectWindowMillis = reconnectWindowMillis(heldSubscribers());
        closed = true;
        if (sweeper != null) {
            sweeper.interrupt();
        }
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
                polls = ch.detachPolls(stats);
                streams = ch.detachStreams(stats);
            }
            Message bye = Message.control(Messages.reconnect(ch.name, reconnectWindowMillis));
            endChain(polls, bye);
            endChain(streams, bye);
        }
        try {
            if (sweeper != null) {
                sweeper.join(2000);
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        admission.memory().close();
        engine.close();
    }

    /** Reconnects per second a restarted server is asked to absorb: the window is sized from it. */
    static final int RECONNECTS_PER_SECOND = 5000;
    static final int MIN_RECONNECT_WINDOW_MS = 2000;
    static final int MAX_RECONNECT_WINDOW_MS = 60000;

    /**
     * The {@code retry_ms} of a graceful stop: the window over which the clients it held should spread
     * their return (each picks a uniformly random moment in it), so that the next server sees about
     * {@link #RECONNECTS_PER_SECOND} of them per second, between 2 s and 60 s.
     */
    static int reconnectWindowMillis(long held) {
        long ms = held * 1000 / RECONNECTS_PER_SECOND;
        return (int) Math.max(MIN_RECONNECT_WINDOW_MS, Math.min(MAX_RECONNECT_WINDOW_MS, ms));
    }

    private long heldSubscribers() {
        long n = 0;
        for (Transport t : Transport.values()) {
            if (t != Transport.PSUB) { // admin presence watchers are not subscribers
                n += stats.held(t);
            }
        }
        return n;
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
