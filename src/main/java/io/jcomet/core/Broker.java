package io.jcomet.core;

import io.jcomet.config.JcometConfig;
import io.jcomet.protocol.Messages;
import io.jcomet.protocol.Transport;
import java.nio.charset.StandardCharsets;
import java.security.SecureRandom;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.TimeUnit;
import java.util.function.LongSupplier;

/**
 * The publish/subscribe core, independent of HTTP: the servlet layer and the WebSocket transport
 * turn requests into calls here.
 *
 * <h2>Parts</h2>
 * The broker is the channel table's keeper and the one place that takes a channel's lock for a
 * subscribe, a publish and the admin operations. Around it, each with one concern:
 * <ul>
 * <li>{@link Engine}: where seq, buffer and token live (this node: {@link MemoryEngine}; several
 * nodes: the Redis engine). Every operation goes to it and it answers through {@link EngineEvents},
 * which a private class of the broker implements; the broker never asks which engine runs.</li>
 * <li>{@link ReplayPlan}: what an arriving subscriber is sent for the seq it asks (next_seq, gap,
 * buffered messages), a pure function.</li>
 * <li>{@link Fanout}: one publication's way to the channel's buffer and its subscribers (seq, ring,
 * offers to streams under the lock; long-poll answers and stream flushes after it).</li>
 * <li>{@link SharedCopy}: a shared engine's channel kept as a local copy (its publications and resyncs).</li>
 * <li>{@link Presence}: online/offline reports and the /psub listeners.</li>
 * <li>{@link Sweeper}: heartbeats (noops), channel expiry and presence repeats.</li>
 * <li>{@link Admission}, {@link HeldTimers}, {@link ChannelTable}, {@link Stats}.</li>
 * </ul>
 *
 * <h2>Threads</h2>
 * <ul>
 * <li>Request threads call {@link #subscribe}, {@link #publish} and the admin operations.</li>
 * <li>Container I/O threads call {@link #forget} (via {@link Subscriber#onClientGone}) when a client
 * goes away.</li>
 * <li>One sweeper thread ({@link Sweeper}, {@code jcomet-sweeper}).</li>
 * <li>A shared engine's threads call {@link EngineEvents} (one at a time per channel).</li>
 * </ul>
 *
 * <h2>Lock order</h2>
 * channel, then subscriber ({@code HttpSubscriber}'s or a WebSocket connection's monitor), then
 * timer stripe ({@link HeldTimers}). The channel table's lock is never held with a channel's, in
 * either order. A thread holds at most one channel lock (the same one may be taken again: an offer
 * can re-enter the broker on the publishing thread). Methods named {@code ...Locked} run with the
 * channel's lock held. {@link EngineEvents} are called with no channel lock held, except
 * {@link EngineEvents#presence}, which an engine may call from {@link Engine#presence} under it.
 * {@link LockOrder} checks the channel and table rules when assertions are on (the tests run so).
 *
 * <p>Under the channel lock the broker only <em>offers</em> a message to streams ({@link
 * Subscriber#offer}: a queue append that keeps seq order) and answers refusals; long-polls are
 * answered and streams {@link Subscriber#flush flushed} after the lock is released, so a slow
 * client never stretches it. Within a /batch ({@link #publishAll}, {@link FlushScope}) the streams
 * are flushed once at the batch's end instead of after each publish, on the same request thread.
 * Presence listeners (admin {@code /psub}) are still told under the
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
    private final Presence presence;
    private final LongSupplier nanoClock;
    private final long startNanos;
    private final String epochPrefix;
    private final int pollingTimeoutMillis;
    private final int channelTimeoutMillis;
    private final Sweeper sweeper;
    private final SharedCopy sharedCopy;
    private final Fanout fanout;
    private volatile boolean closed;
    private final java.util.concurrent.atomic.AtomicBoolean closeCalled = new java.util.concurrent.atomic.AtomicBoolean();
    /** retry_ms of the reconnect messages sent on close (set before {@link #closed}). */
    private volatile int reconnectWindowMillis = MIN_RECONNECT_WINDOW_MS;

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
        // Names this server run; a channel's epoch is this plus its incarnation number, so a client
        // can tell a restarted server (or a re-created channel) from a gap in the same channel.
        this.epochPrefix = Long.toString((System.currentTimeMillis() / 1000) & 0xffffffffL, 36)
                + Integer.toString(random.nextInt(36 * 36), 36) + ".";
        this.engine = Engine.create(config);
        this.presence = new Presence(engine, this::now);
        // when a held subscriber hears Subscriber.onHeldLong (0: never, the servlet watches at once)
        int heldLongMillis = config.detectDisconnects() ? config.detectDisconnectsAfterMillis() : 0;
        this.sweeper = new Sweeper(this, table, timers, stats, presence, pollingTimeoutMillis, channelTimeoutMillis,
                heldLongMillis, sweeperThread);
        sweeper.start();
        this.fanout = new Fanout(this, timers, stats, presence, config.channelBufferSize(), channelTimeoutMillis);
        this.sharedCopy = new SharedCopy(this, table, stats, fanout, channelTimeoutMillis);
        engine.start(new Events());
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
            if (!attach(s, req)) {
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
            assert LockOrder.enter(ch);
            try {
                if (!ch.removed && ch.subscriberCount() >= config.maxSubscribersPerChannel()) {
                    ghosts = evictGoneLocked(ch); // before a newcomer is refused: a holder may have left unnoticed
                }
                done = subscribeLocked(ch, s, req);
            } finally {
                assert LockOrder.exit(ch);
            }
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
        assert LockOrder.holdsChannel(ch);
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
        assert LockOrder.holdsChannel(ch);
        Message[] batch;
        int count;
        boolean streaming = s.transport().streaming();
        {
            if (ch.removed) {
                return false;
            }
            if (!ch.madeByFront) {
                presence.onlineLocked(ch); // a channel a subscriber made is announced once it holds one (below)
            }
            if (config.auth() == JcometConfig.Auth.TOKEN && (ch.token == null || !ch.token.equals(req.token()))) {
                refuse(s, 401, Stats.Reject.TOKEN, Messages.status("401", ch.name, "Token error"));
                return true;
            }
            if (ch.subscriberCount() >= config.maxSubscribersPerChannel()) {
                refuse(s, 429, Stats.Reject.TOO_MANY_SUBSCRIBERS, Messages.status("429", ch.name, "Too many subscribers"));
                return true;
            }
            int ringSize = ch.ring == null ? 0 : ch.ring.size();
            ReplayPlan plan = ReplayPlan.of(req.seq(), epochMatches(ch, req.epoch()), req.epoch() != null, ch.nextSeq,
                    ringSize, ringSize > 0 ? ch.ring.oldestSeq() : 0, streaming, req.oneMessage());
            batch = new Message[ringSize + 2];
            count = 0;
            String epoch = epoch(ch);
            if (plan.nextSeq() != ReplayPlan.NONE) {
                batch[count++] = Message.control(Messages.nextSeq(ch.name, plan.nextSeq(), epoch));
            }
            if (plan.gapFrom() != ReplayPlan.NONE) {
                batch[count++] = Message.control(Messages.gap(ch.name, plan.gapFrom(), plan.gapLastLost(), epoch));
            }
            if (plan.replayFrom() != ReplayPlan.NONE) {
                count += ch.ring.copyFrom(plan.replayFrom(), batch, count);
            }
            count = plan.sent(count);
            if (plan.answersAtOnce(count)) {
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
            presence.onlineLocked(ch);
        }
        return true;
    }

    /**
     * Asks the engine for the channel before the subscriber is served (a shared engine makes the
     * local channel a synced copy); false when refused, and the subscriber was answered.
     */
    private boolean attach(Subscriber s, SubscribeRequest req) {
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
            assert LockOrder.enter(ch);
            try {
                if (!ch.removed && ch.madeByFront && ch.subscriberCount() == 0 && !ch.online) {
                    markRemovedLocked(ch);
                    remove = true;
                }
            } finally {
                assert LockOrder.exit(ch);
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
        return engine.publish(cname, kind, content, idempotencyKey);
    }

    /**
     * {@link #publish(String, String, Message.Kind, String)} without waiting for a shared store: the
     * stage completes with the seq or a {@link CometException} (see {@link Engine#publishAsync}). A
     * message over max_message_size is refused at once (413, thrown).
     */
    public CompletionStage<Integer> publishAsync(String cname, String content, Message.Kind kind,
            String idempotencyKey) {
        checkSize(content);
        return engine.publishAsync(cname, kind, content, idempotencyKey);
    }

    /**
     * /batch: several publishes in order, each as {@link #publish(String, String, Message.Kind, String)}
     * would make it alone. One outcome per publish: its seq ({@link Integer}) or the
     * {@link CometException} that refused it (counted). A shared engine sends them together (see
     * {@link Engine#publishAll}). On this node's engine each stream the batch reaches is flushed once,
     * at its end ({@link FlushScope}), with everything the batch queued for it in seq order.
     */
    public Object[] publishAll(List<Engine.Publish> publishes) {
        Object[] out = new Object[publishes.size()];
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
        Object[] sent;
        // this node's publishes offer to streams on this thread: each stream is flushed once for the
        // whole batch (a shared engine's publications come back on its own threads, one by one)
        FlushScope scope = FlushScope.open(config.maxPendingBytes());
        try {
            sent = engine.publishAll(sized);
        } finally {
            scope.close();
        }
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
        // comes back through EngineEvents: append (memory), or publication on every node (shared)
        return engine.publish(cname, kind, content);
    }

    /** {@link EngineEvents#append}: this node numbers the publication. */
    private int append(String cname, Message.Kind kind, String content) {
        // escape outside the lock; only the seq is filled in under it
        byte[] tail = Messages.contentTail(content);
        String type = kind == Message.Kind.BROADCAST ? "broadcast" : "data";
        while (true) {
            Channel ch = table.getOrCreate(cname, channelTimeoutMillis, now());
            if (ch == null) {
                stats.addReject(Stats.Reject.TOO_MANY_CHANNELS);
                throw new CometException(429, Stats.Reject.TOO_MANY_CHANNELS, "Too many channels");
            }
            long seq = fanout.publish(ch, type, kind, tail, 0, null);
            if (seq != Fanout.CHANNEL_REMOVED) {
                return (int) seq;
            }
        }
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
        return engine.broadcast(content);
    }

    /** {@link EngineEvents#appendToAll}: a broadcast numbered by this node in each of its channels. */
    private int appendToAll(String content) {
        byte[] tail = Messages.contentTail(content);
        int n = 0;
        int hw = table.highWater();
        for (int i = 0; i < hw; i++) {
            Channel ch = table.slot(i);
            if (ch != null && fanout.publish(ch, "broadcast", Message.Kind.BROADCAST, tail, 0, null) != Fanout.CHANNEL_REMOVED) {
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
        return engine.sign(cname, expiresSeconds, newToken());
    }

    /** {@link #sign} without waiting for a shared store (see {@link Engine#signAsync}). */
    public CompletionStage<Signed> signAsync(String cname, int expiresSeconds) {
        return engine.signAsync(cname, expiresSeconds, newToken());
    }

    /** {@link EngineEvents#signed}: the channel and its token kept on this node. */
    private Signed signHere(String cname, int expiresSeconds, String tokenIfNew) {
        while (true) {
            Channel ch = table.getOrCreate(cname, channelTimeoutMillis, now());
            if (ch == null) {
                stats.addReject(Stats.Reject.TOO_MANY_CHANNELS);
                throw new CometException(429, Stats.Reject.TOO_MANY_CHANNELS, "Too many channels");
            }
            synchronized (ch) {
                assert LockOrder.enter(ch);
                try {
                    if (ch.removed) {
                        continue;
                    }
                    presence.onlineLocked(ch);
                    ch.madeByFront = false; // the back end knows it now
                    if (ch.token == null) {
                        ch.token = tokenIfNew;
                    }
                    int expires = expiresSeconds > 0 ? expiresSeconds : config.channelTimeoutSeconds();
                    ch.timeoutMillis = (int) Math.min(Integer.MAX_VALUE / 2, expires * 1000L);
                    ch.lastActive = now();
                    // icomet: the seq of the oldest message still buffered, so a client starting there misses nothing
                    int oldest = ch.ring != null && ch.ring.size() > 0 ? ch.ring.oldestSeq() : ch.nextSeq;
                    return new Signed(ch.name, oldest, ch.token, expires);
                } finally {
                    assert LockOrder.exit(ch);
                }
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
        return engine.close(cname);
    }

    /** {@link #close(String)} without waiting for a shared store. */
    public CompletionStage<Long> closeAsync(String cname) {
        return engine.closeAsync(cname);
    }

    /** {@link EngineEvents#closed}: closes the channel on this node. */
    private long closeHere(String cname) {
        Channel ch = table.get(cname);
        if (ch == null) {
            return -1;
        }
        Subscriber polls;
        Subscriber streams;
        int next;
        synchronized (ch) {
            assert LockOrder.enter(ch);
            try {
                if (ch.removed) {
                    return -1;
                }
                next = ch.nextSeq;
                polls = ch.detachPolls(stats);
                streams = ch.detachStreams(stats);
                markRemovedLocked(ch);
            } finally {
                assert LockOrder.exit(ch);
            }
        }
        table.remove(ch);
        Message close = Message.control(Messages.close(ch.name, next, epoch(ch)));
        endChain(polls, close);
        endChain(streams, close);
        return Integer.toUnsignedLong(next);
    }

    /** The channel goes (closed, expired, unused): the engine stops listening and presence reports it offline. */
    void markRemovedLocked(Channel ch) {
        assert LockOrder.holdsChannel(ch);
        ch.removed = true;
        engine.released(ch.name);
        presence.offlineLocked(ch);
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
        return engine.clear(cname);
    }

    /** {@link #clear} without waiting for a shared store. */
    public CompletionStage<Long> clearAsync(String cname) {
        return engine.clearAsync(cname);
    }

    /** {@link EngineEvents#cleared}: drops the channel's buffer on this node. */
    private long clearHere(String cname) {
        Channel ch = table.get(cname);
        if (ch == null) {
            return -1;
        }
        synchronized (ch) {
            assert LockOrder.enter(ch);
            try {
                if (ch.ring != null) {
                    ch.ring.clear();
                }
                return Integer.toUnsignedLong(ch.nextSeq);
            } finally {
                assert LockOrder.exit(ch);
            }
        }
    }

    /** Subscribers held on the channel (on every node with a shared engine), or -1 if it does not exist. */
    public int subscribers(String cname) {
        return engine.subscribers(cname);
    }

    /** {@link #subscribers(String)} without waiting for a shared store (or the other nodes). */
    public CompletionStage<Integer> subscribersAsync(String cname) {
        return engine.subscribersAsync(cname);
    }

    /** Subscribers held on the channel on this node, or -1 if this node does not have it (diagnostics, tests). */
    public int localSubscribers(String cname) {
        Channel ch = table.get(cname);
        if (ch == null) {
            return -1;
        }
        synchronized (ch) {
            assert LockOrder.enter(ch);
            try {
                return ch.removed ? -1 : ch.subscriberCount();
            } finally {
                assert LockOrder.exit(ch);
            }
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

    // ------------------------------------------------------------------ what the engine tells the core

    /**
     * The broker's side of {@link EngineEvents}: private, so only the engine it started calls it.
     */
    private final class Events implements EngineEvents {
        @Override
        public void publication(String cname, int seq, String epoch, Message.Kind kind, String content) {
            assert LockOrder.holdsNoChannel();
            sharedCopy.deliver(cname, seq, epoch, kind, content);
        }

        @Override
        public int append(String cname, Message.Kind kind, String content) {
            assert LockOrder.holdsNoChannel();
            return Broker.this.append(cname, kind, content);
        }

        @Override
        public int appendToAll(String content) {
            assert LockOrder.holdsNoChannel();
            return Broker.this.appendToAll(content);
        }

        @Override
        public boolean resync(String cname, Engine.SharedState state) {
            assert LockOrder.holdsNoChannel();
            return sharedCopy.resync(cname, state);
        }

        @Override
        public Signed signed(String cname, int expiresSeconds, String tokenIfNew) {
            assert LockOrder.holdsNoChannel();
            return signHere(cname, expiresSeconds, tokenIfNew);
        }

        @Override
        public long closed(String cname) {
            assert LockOrder.holdsNoChannel();
            return closeHere(cname);
        }

        @Override
        public long cleared(String cname) {
            assert LockOrder.holdsNoChannel();
            return clearHere(cname);
        }

        @Override
        public void presence(String cname, boolean online) {
            presence.tell(cname, online);
        }

        @Override
        public int localSubscribers(String cname) {
            return Broker.this.localSubscribers(cname);
        }

        @Override
        public Stats stats() {
            return stats;
        }

        @Override
        public long nanoTime() {
            return nanoClock.getAsLong();
        }
    }

    /** The engine this broker runs on (memory, or redis for several nodes): diagnostics and tests. */
    public Engine engine() {
        return engine;
    }

    // ------------------------------------------------------------------ presence

    public void addPresenceListener(PresenceListener l) { presence.add(l); }
    public void removePresenceListener(PresenceListener l) { presence.remove(l); }

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

    void unlinkFromChannel(Subscriber s) {
        Channel ch = s.channel; // racy read: rechecked under the lock
        if (ch == null) {
            return;
        }
        synchronized (ch) {
            assert LockOrder.enter(ch);
            try {
                if (ch.unlink(s, stats)) {
                    if (ch.subscriberCount() == 0) {
                        ch.lastActive = now();
                    }
                }
            } finally {
                assert LockOrder.exit(ch);
            }
        }
    }

    /** A stream that could not take a message under the channel lock; the caller unlinked it. */
    void dropSlow(Subscriber s) {
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

    /** One sweeper pass (tests drive it on a broker made without the sweeper thread). */
    void sweepOnce(Subscriber[] scratch) {
        sweeper.sweepOnce(scratch);
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
        sweeper.interrupt();
        presence.brokerClosed();
        int hw = table.highWater();
        for (int i = 0; i < hw; i++) {
            Channel ch = table.slot(i);
            if (ch == null) {
                continue;
            }
            Subscriber polls;
            Subscriber streams;
            synchronized (ch) {
                assert LockOrder.enter(ch);
                try {
                    polls = ch.detachPolls(stats);
                    streams = ch.detachStreams(stats);
                } finally {
                    assert LockOrder.exit(ch);
                }
            }
            Message bye = Message.control(Messages.reconnect(ch.name, reconnectWindowMillis));
            endChain(polls, bye);
            endChain(streams, bye);
        }
        try {
            sweeper.join(2000);
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
