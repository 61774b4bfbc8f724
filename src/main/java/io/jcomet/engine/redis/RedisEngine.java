package io.jcomet.engine.redis;

import io.jcomet.config.JcometConfig;
import io.jcomet.core.Broker;
import io.jcomet.core.CometException;
import io.jcomet.core.Engine;
import io.jcomet.core.Engine.Publish;
import io.jcomet.core.EngineEvents;
import io.jcomet.core.Message;
import io.jcomet.core.Stats;
import io.lettuce.core.ClientOptions;
import io.lettuce.core.ScriptOutputType;
import io.lettuce.core.SocketOptions;
import io.lettuce.core.TimeoutOptions;
import io.lettuce.core.resource.ClientResources;
import io.lettuce.core.resource.Delay;
import io.lettuce.core.resource.DefaultClientResources;
import java.security.SecureRandom;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.logging.Level;
import java.util.logging.Logger;

/**
 * {@code engine=redis}: several jcomet nodes share their channels through Redis (one server,
 * Sentinel, or Redis Cluster), the way Centrifugo and Nchan do.
 *
 * <ul>
 * <li><b>Seq and buffer</b>: one Lua script per publish increments the channel's seq, appends the
 * message to the channel's buffer (a list capped at channel_buffer_size, expiring after channel_timeout of
 * quiet) and SPUBLISHes it, atomically on the channel's shard ({@link Scripts}).</li>
 * <li><b>Epoch</b>: made by the first script that finds the channel's meta hash missing, or
 * written by another Redis incarnation (a restart, a promoted replica that may lag), so it changes
 * whenever Redis cannot prove it still has every message it acknowledged ({@link Scripts}).</li>
 * <li><b>Live delivery</b>: a node SSUBSCRIBEs to a channel when its first local subscriber comes
 * ({@link #attach}) and SUNSUBSCRIBEs when the broker drops the local channel ({@link #released}),
 * so it hears only channels it serves. Every node, the publishing one included, delivers what it
 * hears, so all nodes see a channel's messages in the one order Redis assigned.</li>
 * <li><b>Missed publications</b>: a message whose seq jumps past the next expected one, or that
 * opens a new epoch past its seq 1, is preceded by the missing ones read from the buffer; after a
 * reconnect (Lettuce re-subscribes) every channel is re-read, and after a Redis Cluster topology
 * change every channel whose slot changed hands (this engine re-subscribes those, see {@link
 * ClusterLink}), so nothing published while the link was down is skipped if the buffer still
 * holds it.</li>
 * <li><b>Publisher retries</b>: an idempotency key is kept per channel by the publish script
 * (idempotency_window); broadcast ids the same way, so a channel served by several nodes gets
 * each broadcast once. A publish 503 says whether the script may have run.</li>
 * <li><b>The cluster's channels</b>: a sorted set of channel names scored by expiry, written when a
 * script made a channel and checked every second (expired names dropped, live ones rescored), is
 * what max_channels counts and what /broadcast reaches, as one node's table is ({@link ClusterChannels}).</li>
 * <li><b>Group commit</b>: publishes (and a /batch's lines) that arrive while a call is on its way
 * to Redis go together in the next one, each message as if published alone ({@link #publish}).</li>
 * <li><b>Bounded hand-off</b>: at most redis_delivery_queue live messages wait for one delivery
 * thread. Past it a message is dropped, counted ({@link Stats.Reject#REDIS_DELIVERY_OVERFLOW}), and
 * its channel is re-read from the buffer once the thread gets to it, so subscribers still get the
 * message in order (or a gap, if the buffer no longer holds it): nothing is lost silently. Control
 * messages (close, clear, broadcast, presence, counts) are rare and never dropped.</li>
 * <li><b>Faults</b>: every command has redis_timeout; while Redis is unreachable commands are refused
 * at once (Lettuce's REJECT_COMMANDS), so a publish answers 503 fast, and held subscribers are left
 * alone. Lettuce reconnects with a back-off capped at one second.</li>
 * </ul>
 *
 * <h2>Parts</h2>
 * This class keeps the channels this node listens to (attach, live delivery, gap fill, resync);
 * the rest is in named parts: {@link RedisKeys} (what lives where in Redis), {@link Scripts} (the
 * Lua that keeps a channel consistent, and the incarnation check that starts a new epoch),
 * {@link RedisCalls} (script calls, bounded waits, what a 503 says), {@link GroupCommit} (the
 * publishes that arrive together joined into one script call per Redis or hash slot),
 * {@link Broadcasts} (/broadcast to every channel of the cluster, once each),
 * {@link ClusterChannels} (max_channels for the cluster), {@link NodeDirectory} (heartbeats,
 * questions asked of every node), {@link RedisLink} (the connections: one Redis or Sentinel, or a
 * Cluster).
 *
 * <h2>Threads</h2>
 * Request threads call the operations: the admin API's asynchronous forms ({@code publishAsync},
 * {@code signAsync}, ...) return at once and complete on Lettuce's I/O thread when Redis answers;
 * the blocking forms (attach, /batch, the demo) wait at most redis_timeout. Lettuce's I/O
 * threads only parse a PUB/SUB message and hand it to the channel's delivery thread
 * ({@code jcomet-redis-delivery-N}, chosen by channel name, so one channel is always delivered by
 * one thread in seq order). Delivery threads call back {@link EngineEvents#publication} /
 * {@link EngineEvents#resync} and do the (rare) reads a gap or a resync needs. {@link Listen#attempt}
 * is guarded by its Listen; {@code expectedNext} and {@code epoch} belong to the delivery thread;
 * {@code queued[i]} is incremented by the I/O thread and decremented by delivery thread i.
 */
public final class RedisEngine implements Engine {
    private static final Logger LOG = Logger.getLogger("io.jcomet.redis");

    private final JcometConfig config;
    private final String prefix;
    private final long timeoutMillis;
    private final ClientResources resources;
    private final RedisLink link;
    private final ExecutorService[] delivery;
    /** Live messages handed to each delivery thread and not yet run; at most {@link #queueLimit}. */
    private final AtomicInteger[] queued;
    private final int queueLimit;
    private final ScheduledExecutorService housekeeping;
    private final ConcurrentHashMap<String, Listen> listens = new ConcurrentHashMap<>();
    private final SecureRandom random = new SecureRandom();
    private final String broadcastChannel;
    private final String presenceChannel;
    private final String askChannel;
    private final String nodeId;
    private final String replyChannel;
    /** Where things live in Redis. */
    private final RedisKeys names;
    /** Script calls and bounded waits (every failure a counted 503). */
    private final RedisCalls calls;
    /** The cluster's channels set: max_channels and /broadcast's reach. */
    private final ClusterChannels channels;
    /** Heartbeats and the questions asked of every node (/info?cname=). */
    private final NodeDirectory nodes;
    /** Publishes joined into script calls. */
    private final GroupCommit groupCommit;
    /** /broadcast to every channel of the cluster, once each. */
    private final Broadcasts broadcasts;
    private volatile EngineEvents broker;

    /** This node's interest in one channel. */
    private static final class Listen {
        final String cname;
        final String shardChannel;
        final int stripe;
        CompletableFuture<Boolean> attempt; // guarded by this
        volatile boolean ready;
        int expectedNext;                    // delivery thread
        String epoch;                        // delivery thread
        List<String> pending;                // delivery thread: messages that arrived while the first sync ran
        /**
         * Delivery thread: a hole (a seq jump, a new epoch's first messages) could not be filled, so
         * live messages wait in {@link #pending} for the resync that reads the buffer: nothing is
         * delivered past a hole.
         */
        boolean stale;
        int resyncFailures;                  // delivery thread: failed resyncs in a row after a reconnect
        /** A live message was dropped and the re-read from the buffer is not done yet. */
        final java.util.concurrent.atomic.AtomicBoolean resyncDue = new java.util.concurrent.atomic.AtomicBoolean();

        Listen(String cname, String shardChannel, int stripe) {
            this.cname = cname;
            this.shardChannel = shardChannel;
            this.stripe = stripe;
        }
    }

    public RedisEngine(JcometConfig config) {
        this.config = config;
        this.prefix = config.redisKeyPrefix();
        this.timeoutMillis = config.redisTimeoutMillis();
        this.names = new RedisKeys(prefix);
        this.broadcastChannel = names.broadcastChannel;
        this.presenceChannel = names.presenceChannel;
        this.askChannel = names.askChannel;
        this.nodeId = Long.toString(random.nextLong() >>> 1, 36);
        this.replyChannel = names.replyChannel(nodeId);
        if (System.getProperty("io.netty.leakDetection.level") == null && System.getProperty("io.netty.leakDetectionLevel") == null) {
            // Netty's default samples one buffer in 128 and records a stack trace for it: about 1% of a
            // publishing node's CPU (Lettuce encodes every argument through a buffer); set the property to keep it
            io.netty.util.ResourceLeakDetector.setLevel(io.netty.util.ResourceLeakDetector.Level.DISABLED);
        }
        this.resources = DefaultClientResources.builder()
                .ioThreadPoolSize(2)
                .computationThreadPoolSize(2)
                .reconnectDelay(Delay.exponential(Duration.ofMillis(50), Duration.ofSeconds(1), 2, TimeUnit.MILLISECONDS))
                .build();
        ClientOptions options = options(config);
        RedisLink.Sink sink = new RedisLink.Sink() {
            @Override
            public void message(String channel, String payload) {
                onPubSub(channel, payload);
            }

            @Override
            public void subscribed(String channel) {
                onResubscribed(channel);
            }

            @Override
            public void topologyChanged(java.util.function.Predicate<String> moved) {
                resubscribeMoved(moved);
            }
        };
        try {
            this.link = config.redisCluster()
                    ? new ClusterLink(resources, config.redisUris(), options, sink)
                    : new StandaloneLink(resources, config.redisUris().get(0), options, sink);
        } catch (RuntimeException e) {
            resources.shutdown();
            throw new IllegalStateException("engine=redis: cannot connect to " + config.redisUris() + ": " + e.getMessage(), e);
        }
        this.calls = new RedisCalls(link, timeoutMillis);
        this.channels = new ClusterChannels(link, calls, names, nodeId, defaultTtlMillis());
        this.nodes = new NodeDirectory(link, calls, names, nodeId);
        this.groupCommit = new GroupCommit(calls, config, prefix);
        this.broadcasts = new Broadcasts(link, calls, names, config, listens::keySet);
        this.delivery = new ExecutorService[config.redisDeliveryThreads()];
        this.queued = new AtomicInteger[delivery.length];
        this.queueLimit = config.redisDeliveryQueue();
        for (int i = 0; i < delivery.length; i++) {
            String name = "jcomet-redis-delivery-" + i;
            delivery[i] = Executors.newSingleThreadExecutor(r -> daemon(r, name));
            queued[i] = new AtomicInteger();
        }
        this.housekeeping = Executors.newSingleThreadScheduledExecutor(r -> daemon(r, "jcomet-redis-keepalive"));
    }

    static ClientOptions options(JcometConfig config) {
        Duration timeout = Duration.ofMillis(config.redisTimeoutMillis());
        ClientOptions.Builder b = config.redisCluster()
                ? io.lettuce.core.cluster.ClusterClientOptions.builder()
                        // every adaptive refresh trigger (MOVED, ASK, reconnects, ...) is on by default in Lettuce 7;
                        // a failed master is noticed by its connection's failed reconnects (adaptive
                        // refresh, at most once a second) or the periodic refresh; each change moves
                        // the shard subscriptions (ClusterLink)
                        .topologyRefreshOptions(io.lettuce.core.cluster.ClusterTopologyRefreshOptions.builder()
                                .adaptiveRefreshTriggersTimeout(Duration.ofSeconds(1))
                                .refreshTriggersReconnectAttempts(3)
                                .enablePeriodicRefresh(Duration.ofSeconds(5))
                                .build())
                : ClientOptions.builder();
        return b.autoReconnect(true)
                // One Redis: while disconnected, fail at once instead of queueing, so a publish answers 503
                // now. A cluster connects to each master lazily, on the first command routed there, so it
                // must accept commands while that connection comes up; redis_timeout still bounds them.
                .disconnectedBehavior(config.redisCluster() ? ClientOptions.DisconnectedBehavior.ACCEPT_COMMANDS
                        : ClientOptions.DisconnectedBehavior.REJECT_COMMANDS)
                .timeoutOptions(TimeoutOptions.enabled(timeout))
                .socketOptions(SocketOptions.builder().connectTimeout(timeout).keepAlive(true).build())
                .build();
    }

    private static Thread daemon(Runnable r, String name) {
        Thread t = new Thread(r, name);
        t.setDaemon(true);
        return t;
    }

    @Override
    public void start(EngineEvents broker) {
        this.broker = broker;
        calls.stats = broker.stats();
        for (String ch : List.of(broadcastChannel, presenceChannel, askChannel, replyChannel)) {
            calls.await(link.subscribeAll(ch).toCompletableFuture(), "subscribe " + ch);
        }
        nodes.heartbeat();
        housekeeping.scheduleWithFixedDelay(nodes::heartbeat, 1000, 1000, TimeUnit.MILLISECONDS);
        housekeeping.scheduleWithFixedDelay(channels::recount, 0, 1000, TimeUnit.MILLISECONDS);
        long every = Math.max(1000, config.channelTimeoutSeconds() * 1000L / 3);
        housekeeping.scheduleWithFixedDelay(this::keepAlive, every, every, TimeUnit.MILLISECONDS);
    }

    // ------------------------------------------------------------------ keys (see RedisKeys)

    /** {@code prefix{cname}}: the channel's shard PUB/SUB channel and the base of its keys. */
    String base(String cname) {
        return RedisKeys.base(prefix, cname);
    }

    /** The channel name in a shard channel name, or null if it is not one of ours. */
    String cnameOf(String shardChannel) {
        return RedisKeys.cnameOf(prefix, shardChannel);
    }

    static String[] keys(String base) {
        return RedisKeys.keys(base);
    }

    static String epochCandidate() {
        // a new epoch: base 36, distinct per creation (the client only compares it for equality; it
        // is no secret, every subscriber gets it). Made for every publish, used only by the one that
        // creates an epoch: a thread-local generator, not SecureRandom (a lock and a read of the
        // OS's entropy per call)
        return Long.toString(System.currentTimeMillis() / 1000, 36) + "r"
                + Long.toString(java.util.concurrent.ThreadLocalRandom.current().nextLong() >>> 24, 36);
    }

    private long defaultTtlMillis() {
        return config.channelTimeoutSeconds() * 1000L;
    }

    // ------------------------------------------------------------------ operations

    @Override
    public boolean attach(String cname, boolean create) {
        Listen held = listens.get(cname);
        if (create && (held == null || !held.ready)) {
            // a subscriber may make a channel only below max_channels - admin_reserved_channels,
            // counted for the cluster now (one read): as on one node, never from the admin's slots
            long count = channels.countNow();
            if (count >= (long) config.maxChannels() - config.adminReservedChannels()) {
                if (attach(cname, false)) {
                    return true; // it exists: subscribing to it makes nothing
                }
                throw new CometException(429, Stats.Reject.TOO_MANY_CHANNELS, "Too many channels");
            }
        }
        for (int tries = 0; tries < 3; tries++) {
            Listen l = listens.computeIfAbsent(cname, k -> {
                String base = base(k);
                return new Listen(k, base, Math.floorMod(k.hashCode(), delivery.length));
            });
            if (l.ready) {
                return true;
            }
            CompletableFuture<Boolean> attempt;
            synchronized (l) {
                attempt = l.attempt;
                if (attempt == null || (attempt.isDone() && !l.ready)) {
                    attempt = new CompletableFuture<>();
                    l.attempt = attempt;
                    CompletableFuture<Boolean> a = attempt;
                    // subscribe first, then read the buffer: a message published in between is in both,
                    // and the seq check drops the copy
                    link.ssubscribe(l.shardChannel).whenComplete((v, e) -> {
                        if (e != null) {
                            a.completeExceptionally(e);
                        } else {
                            delivery[l.stripe].execute(() -> sync(l, a, create));
                        }
                    });
                }
            }
            Boolean exists;
            try {
                exists = calls.await(attempt, "attach " + cname);
            } catch (CometException e) {
                if (!l.ready) {
                    released(cname); // do not keep interest in a channel nobody could attach
                }
                throw e;
            }
            if (!exists) {
                if (create) {
                    continue; // joined a look-up that may not create: once more, creating
                }
                return false;
            }
            if (listens.get(cname) == l) {
                return true;
            }
            // the broker released the channel while we attached: once more with a new Listen
        }
        throw calls.unavailable("channel " + cname + " kept being released while attaching");
    }

    /**
     * Reads the channel's state (asynchronously: the delivery thread does not wait for Redis) and
     * then, on the channel's delivery thread, copies it into the broker. PUB/SUB messages that arrive
     * for a channel not yet synced wait in {@link Listen#pending} and are applied after it, so a
     * message published just after the read is not lost (and one just before it is not doubled).
     */
    private void sync(Listen l, CompletableFuture<Boolean> attempt, boolean create) {
        if (attempt != null) {
            l.pending = new ArrayList<>(); // delivery thread: messages from now on wait for the state
        }
        CompletableFuture<List<Object>> read;
        String candidate = epochCandidate();
        try {
            read = calls.evalAsync(Scripts.ATTACH, ScriptOutputType.MULTI, keys(l.shardChannel), candidate,
                    create ? "1" : "0", Long.toString(defaultTtlMillis()));
        } catch (RuntimeException e) {
            read = CompletableFuture.failedFuture(e);
        }
        read.orTimeout(timeoutMillis, TimeUnit.MILLISECONDS).whenComplete((r, e) -> {
            if (e == null && r != null && !r.isEmpty() && candidate.equals(r.get(0))) {
                // made for a subscriber: counted; announced by presence once a node holds it
                channels.created(l.cname, defaultTtlMillis(), false);
            }
            delivery[l.stripe].execute(() -> applySync(l, attempt, r, e));
        });
    }

    /** Delivery thread of the channel. */
    private void applySync(Listen l, CompletableFuture<Boolean> attempt, List<Object> r, Throwable failure) {
        try {
            if (failure != null) {
                throw failure instanceof CometException ce ? ce : calls.unavailable("sync " + l.cname + ": " + failure);
            }
            if (r == null || r.isEmpty() || r.get(0) == null) { // the script returned false
                if (listens.remove(l.cname, l)) {
                    link.sunsubscribe(l.shardChannel);
                }
                l.pending = null;
                if (attempt != null) {
                    attempt.complete(false);
                }
                return;
            }
            String epoch = (String) r.get(0);
            int lastSeq = (int) Long.parseLong((String) r.get(1));
            String token = (String) r.get(2);
            String ttl = (String) r.get(3);
            List<Stored> buffered = RedisKeys.entries(r.get(4));
            SharedState state = new SharedState(lastSeq + 1, epoch, token.isEmpty() ? null : token,
                    ttl.isEmpty() ? 0 : (int) (Long.parseLong(ttl) / 1000), buffered);
            if (listens.get(l.cname) != l) {
                l.pending = null;
                if (attempt != null) {
                    attempt.complete(true); // the caller sees it was released and tries again
                }
                return;
            }
            if (!broker.resync(l.cname, state)) {
                throw new CometException(429, Stats.Reject.TOO_MANY_CHANNELS, "Too many channels");
            }
            if (!epoch.equals(l.epoch) || lastSeq + 1 - l.expectedNext > 0) {
                l.expectedNext = lastSeq + 1; // a resync that crossed live messages keeps the later position
            }
            l.epoch = epoch;
            l.ready = true;
            l.stale = false;
            l.resyncFailures = 0;
            List<String> waiting = l.pending;
            l.pending = null;
            if (waiting != null) {
                for (String payload : waiting) {
                    onMessage(l, payload);
                }
            }
            if (attempt != null) {
                attempt.complete(true);
            }
        } catch (RuntimeException e) {
            l.pending = null;
            if (attempt != null) {
                attempt.completeExceptionally(e);
            } else if (++l.resyncFailures <= RESYNC_RETRIES && retryResync(l)) {
                // the PUB/SUB link may be back before the command link is: held subscribers keep
                // their live delivery (a seq jump is filled, a new epoch resets) and the read is retried
                LOG.log(Level.INFO, "jcomet: resync of channel " + l.cname + " failed, retrying: " + e);
            } else {
                LOG.log(Level.WARNING, "jcomet: resync of channel " + l.cname + " failed; the next subscriber attaches afresh: " + e);
                l.resyncFailures = 0;
                l.ready = false;
            }
        }
    }

    /** Resyncs after a failure try again this often, RESYNC_RETRIES times (about 10 s), before giving up. */
    private static final int RESYNC_RETRY_MILLIS = 500;
    private static final int RESYNC_RETRIES = 20;

    private boolean retryResync(Listen l) {
        try {
            housekeeping.schedule(() -> {
                if (listens.get(l.cname) == l && l.ready) {
                    delivery[l.stripe].execute(() -> sync(l, null, true));
                }
            }, RESYNC_RETRY_MILLIS, TimeUnit.MILLISECONDS);
            return true;
        } catch (java.util.concurrent.RejectedExecutionException closing) {
            return false;
        }
    }

    @Override
    public void released(String cname) {
        listens.computeIfPresent(cname, (k, l) -> {
            // issued inside compute: a later attach of the same name subscribes after this unsubscribes
            link.sunsubscribe(l.shardChannel);
            return null;
        });
    }

    @Override
    public int publish(String cname, Message.Kind kind, String content) {
        return publish(cname, kind, content, null);
    }

    /**
     * One script assigns the seq, buffers and sends the message. With an idempotency key, a publish
     * with the same key on the same channel within idempotency_window answers the first one's seq
     * and sends nothing. A 503 says whether the message was certainly not published (the command
     * never left this node) or the outcome is unknown (sent, no answer in time).
     *
     * <p>The publish goes through the {@link GroupCommit}: with the others that arrive while a call
     * is on its way to Redis, in one script call, each channel's messages in the order they came.
     */
    @Override
    public int publish(String cname, Message.Kind kind, String content, String idempotencyKey) {
        channels.refuseNewChannelWhenFull(cname, config.maxChannels());
        GroupCommit.Pending p = groupCommit.enqueue(new Publish(cname, kind, content, idempotencyKey));
        return published(p, calls.awaitPublish(p.done));
    }

    /**
     * {@link #publish(String, Message.Kind, String, String)} without a waiting thread: the same
     * group commit, the same answers and 503s ({@link RedisCalls#publishAnswer}), completed on
     * Lettuce's I/O thread when Redis answers (or on the timeout's thread after redis_timeout).
     */
    @Override
    public java.util.concurrent.CompletionStage<Integer> publishAsync(String cname, Message.Kind kind, String content,
            String idempotencyKey) {
        // never waits: the caller may be the admin connector's selector thread (admin_inline)
        Publish publish = new Publish(cname, kind, content, idempotencyKey);
        CompletableFuture<Void> room = channels.refuseNewChannelWhenFullAsync(cname, config.maxChannels());
        if (room.isDone() && !room.isCompletedExceptionally()) {
            return send(publish); // the usual case: the cluster is not full
        }
        return room.thenCompose(v -> send(publish));
    }

    /** Queues a publish for the group commit; its seq once its call answered (and the channel counted, if it made it). */
    private CompletableFuture<Integer> send(Publish publish) {
        GroupCommit.Pending p;
        try {
            p = groupCommit.enqueue(publish);
        } catch (CometException e) {
            return CompletableFuture.failedFuture(e);
        }
        String cname = publish.cname();
        return calls.publishAnswer(p.done).thenCompose(r -> {
            int seq = (int) (long) (Long) r.get(0);
            if (!p.made) {
                return CompletableFuture.completedFuture(seq);
            }
            // this publish made the channel: counted before the answer, as publish() does, without blocking
            return channels.createdAsync(cname, defaultTtlMillis(), true).thenApply(v -> seq);
        });
    }

    /** A publish answered: the channel is counted (and announced) when its call made it. */
    private int published(GroupCommit.Pending p, List<Object> r) {
        if (p.made) {
            channels.created(p.publish.cname(), defaultTtlMillis(), true, true); // this publish made the channel
        }
        return (int) (long) (Long) r.get(0);
    }

    /**
     * A /batch: each line is queued as a publish of its own ({@link #publish}'s group commit), so a
     * batch goes to Redis in as few calls as its lines fit in ({@link GroupCommit#PUBLISH_MANY_LINES} each, one
     * call at a time per outbox, its channels' lines in order), then each line's answer is read.
     */
    @Override
    public Object[] publishAll(List<Publish> publishes) {
        Object[] out = new Object[publishes.size()];
        GroupCommit.Pending[] sent = new GroupCommit.Pending[out.length];
        for (int i = 0; i < out.length; i++) {
            try {
                channels.refuseNewChannelWhenFull(publishes.get(i).cname(), config.maxChannels());
                sent[i] = groupCommit.enqueue(publishes.get(i));
            } catch (CometException e) {
                out[i] = e;
            }
        }
        for (int i = 0; i < out.length; i++) {
            if (sent[i] != null) {
                try {
                    out[i] = published(sent[i], calls.awaitPublish(sent[i].done));
                } catch (CometException e) {
                    out[i] = e;
                }
            }
        }
        return out;
    }

    @Override
    public Broker.Signed sign(String cname, int expiresSeconds, String tokenIfNew) {
        return calls.join(signAsync(cname, expiresSeconds, tokenIfNew), "sign");
    }

    /** Completes on Lettuce's thread when Redis answers; every step bounded by redis_timeout. */
    @Override
    public CompletableFuture<Broker.Signed> signAsync(String cname, int expiresSeconds, String tokenIfNew) {
        int expires = expiresSeconds > 0 ? expiresSeconds : config.channelTimeoutSeconds();
        String base = base(cname);
        String candidate = epochCandidate();
        return channels.refuseNewChannelWhenFullAsync(cname, config.maxChannels())
                .thenCompose(room -> calls.answer(calls.<List<Object>>evalAsync(Scripts.SIGN, ScriptOutputType.MULTI,
                        keys(base), candidate, tokenIfNew, Long.toString(expires * 1000L), base), "sign"))
                .thenCompose(r -> {
                    int lastSeq = (int) Long.parseLong((String) r.get(0));
                    String oldest = r.size() > 2 ? (String) r.get(2) : "";
                    // as on one node: the oldest buffered message, or the next seq when none is
                    int seq = oldest == null || oldest.isEmpty() ? lastSeq + 1 : RedisKeys.entry(oldest).seq();
                    Broker.Signed signed = new Broker.Signed(cname, seq, (String) r.get(1), expires);
                    // made by this sign: announced as one node announces it, and counted before the
                    // answer; either way its lifetime is now `expires`
                    boolean made = r.size() > 3 && candidate.equals(r.get(3));
                    return channels.createdAsync(cname, expires * 1000L, made).thenApply(v -> signed);
                });
    }

    @Override
    public long close(String cname) {
        return calls.join(closeAsync(cname), "close");
    }

    @Override
    public CompletableFuture<Long> closeAsync(String cname) {
        String base = base(cname);
        return calls.answer(calls.<List<Object>>evalAsync(Scripts.CLOSE, ScriptOutputType.MULTI,
                new String[] {base + ":m", base + ":b", base + ":p"}, base), "close").thenApply(r -> {
                    long next = (Long) r.get(0);
                    if (next >= 0) {
                        channels.removed(cname); // no longer counted against max_channels
                        if ((Long) r.get(1) == 0) {
                            // no node holds it, so none will report it offline: the closer does, as one node would
                            link.publishAll(presenceChannel, "0\n" + cname);
                        }
                    }
                    return next;
                });
    }

    @Override
    public long clear(String cname) {
        return calls.join(clearAsync(cname), "clear");
    }

    @Override
    public CompletableFuture<Long> clearAsync(String cname) {
        String base = base(cname);
        return calls.answer(calls.<Long>evalAsync(Scripts.CLEAR, ScriptOutputType.INTEGER, keys(base), base), "clear");
    }

    /** See {@link Broadcasts}: answers with the channels this node serves plus those it buffered it in. */
    @Override
    public int broadcast(String content) {
        return broadcasts.broadcast(content);
    }

    // ------------------------------------------------------------------ cluster-wide counts and presence

    @Override
    public int subscribers(String cname) {
        return calls.join(subscribersAsync(cname), "subscribers");
    }

    @Override
    public CompletableFuture<Integer> subscribersAsync(String cname) {
        return nodes.subscribers(cname);
    }

    @Override
    public void presence(String cname, boolean online) {
        String base = base(cname);
        CompletableFuture<Long> f = calls.evalAsync(Scripts.PRESENCE, ScriptOutputType.INTEGER,
                new String[] {base + ":p", base + ":m", base + ":b"}, nodeId,
                online ? "1" : "0", Long.toString(defaultTtlMillis()));
        f.thenAccept(changed -> {
            if (changed != null && changed >= 1L) {
                link.publishAll(presenceChannel, (online ? "1\n" : "0\n") + cname);
            }
            if (changed != null && changed == 2L) {
                channels.removed(cname); // a subscriber's channel gone with its last subscriber
            }
        });
    }

    // ------------------------------------------------------------------ from Redis

    /** Lettuce I/O thread: parse just enough to pick the delivery thread. */
    private void onPubSub(String channel, String payload) {
        if (closing) {
            return; // the node is stopping: nobody is left to deliver to
        }
        if (channel.equals(replyChannel)) {
            nodes.onReply(payload);
            return;
        }
        if (channel.equals(askChannel)) {
            delivery[0].execute(() -> nodes.onAsk(payload, broker));
            return;
        }
        if (channel.equals(presenceChannel)) {
            if (payload.length() > 2) {
                String cname = payload.substring(2);
                delivery[Math.floorMod(cname.hashCode(), delivery.length)]
                        .execute(() -> broker.presence(cname, payload.charAt(0) == '1'));
            }
            return;
        }
        if (channel.equals(broadcastChannel)) {
            delivery[0].execute(() -> broadcasts.onBroadcast(payload));
            return;
        }
        String cname = cnameOf(channel);
        Listen l = cname == null ? null : listens.get(cname);
        if (l == null) {
            return;
        }
        char kind = payload.isEmpty() ? 0 : payload.charAt(0);
        if (kind != 'd' && kind != 'b') {
            delivery[l.stripe].execute(() -> onMessage(l, payload)); // close, clear, token: rare, never dropped
            return;
        }
        AtomicInteger q = queued[l.stripe];
        if (q.incrementAndGet() > queueLimit) {
            q.decrementAndGet();
            overflowed(l);
            return;
        }
        delivery[l.stripe].execute(() -> {
            q.decrementAndGet();
            onMessage(l, payload);
        });
    }

    /**
     * Lettuce I/O thread: the channel's delivery thread is redis_delivery_queue messages behind, so
     * this one was dropped. Counted, and the channel is re-read from its buffer once the delivery
     * thread has worked through what is queued before it (one re-read per channel however many
     * were dropped meanwhile); a later live message's seq jump may fill it even sooner.
     */
    private void overflowed(Listen l) {
        EngineEvents b = broker;
        if (b != null) {
            b.stats().addReject(Stats.Reject.REDIS_DELIVERY_OVERFLOW);
        }
        if (l.resyncDue.compareAndSet(false, true)) {
            delivery[l.stripe].execute(() -> resyncAfterOverflow(l));
        }
    }

    /** Delivery thread of the channel. */
    private void resyncAfterOverflow(Listen l) {
        if (listens.get(l.cname) != l) {
            l.resyncDue.set(false); // released: a new subscriber attaches afresh from the buffer
            return;
        }
        if (!l.ready) {
            // the first sync is still running (messages wait in pending); look again shortly
            housekeeping.schedule(() -> delivery[l.stripe].execute(() -> resyncAfterOverflow(l)), 50, TimeUnit.MILLISECONDS);
            return;
        }
        l.resyncDue.set(false); // before the read: a drop from now on asks for another one
        sync(l, null, true);
    }

    /**
     * The cluster's topology changed (a master failed over, slots moved): a shard subscription may
     * still sit on a node that no longer owns the slot (or is dead), where it hears nothing. The
     * channels this node serves, and the cluster-wide channels, whose slot changed hands (and only
     * those) are subscribed again (routed to the slot's current master); each is then re-read from
     * its buffer, so what was published meanwhile is delivered in order, or as a new epoch when
     * the promoted replica had not got it. A re-subscription that fails is retried until it
     * succeeds or the channel is released. Lettuce's event thread; the subscriptions complete on
     * its I/O threads.
     */
    private void resubscribeMoved(java.util.function.Predicate<String> moved) {
        int globals = 0;
        for (String ch : List.of(broadcastChannel, presenceChannel, askChannel, replyChannel)) {
            if (moved.test(ch)) {
                resubscribeGlobal(ch, 0);
                globals++;
            }
        }
        int channels = 0;
        for (Listen l : listens.values()) {
            if (moved.test(l.shardChannel)) {
                resubscribe(l, 0);
                channels++;
            }
        }
        LOG.info("jcomet: Redis Cluster topology changed; subscribing again " + channels + " of " + listens.size()
                + " channels and " + globals + " of 4 node-wide channels, whose slots moved");
    }

    private void resubscribeGlobal(String ch, int attempt) {
        link.subscribeAll(ch).whenComplete((v, e) -> {
            if (e != null && attempt < RESYNC_RETRIES) {
                later(() -> resubscribeGlobal(ch, attempt + 1));
            }
        });
    }

    private void resubscribe(Listen l, int attempt) {
        if (listens.get(l.cname) != l) {
            return;
        }
        link.ssubscribe(l.shardChannel).whenComplete((v, e) -> {
            if (e == null) {
                if (l.ready) {
                    delivery[l.stripe].execute(() -> sync(l, null, true));
                }
            } else if (attempt < RESYNC_RETRIES) {
                later(() -> resubscribe(l, attempt + 1));
            } else {
                LOG.warning("jcomet: could not subscribe channel " + l.cname + " again after a topology change: " + e);
                l.ready = false; // deaf: the next subscriber attaches afresh
            }
        });
    }

    private void later(Runnable r) {
        try {
            housekeeping.schedule(r, RESYNC_RETRY_MILLIS, TimeUnit.MILLISECONDS);
        } catch (java.util.concurrent.RejectedExecutionException closing) {
            // shutting down
        }
    }

    private void onResubscribed(String channel) {
        String cname = cnameOf(channel);
        Listen l = cname == null ? null : listens.get(cname);
        if (l != null && l.ready) {
            // after a reconnect: read what was published while we were away
            delivery[l.stripe].execute(() -> sync(l, null, true));
        }
    }

    /** Delivery thread of the channel. */
    private void onMessage(Listen l, String payload) {
        if (listens.get(l.cname) != l) {
            return;
        }
        if (!l.ready) {
            if (l.pending != null) {
                l.pending.add(payload); // applied once the state is read
            }
            return;
        }
        if (l.stale) {
            if (l.pending == null) {
                l.pending = new ArrayList<>();
            }
            if (l.pending.size() < queueLimit) {
                l.pending.add(payload); // applied after the resync; past the bound the buffer has them
            }
            return;
        }
        try {
            int a = payload.indexOf('\n');
            int b = payload.indexOf('\n', a + 1);
            int c = payload.indexOf('\n', b + 1);
            char kind = payload.charAt(0);
            int seq = (int) Long.parseLong(payload.substring(a + 1, b));
            String epoch = payload.substring(b + 1, c);
            String content = payload.substring(c + 1);
            switch (kind) {
                case 'd', 'b' -> {
                    Message.Kind k = kind == 'b' ? Message.Kind.BROADCAST : Message.Kind.DATA;
                    if (epoch.equals(l.epoch)) {
                        if (seq - l.expectedNext < 0) {
                            return; // already delivered (a resync read it); a seq that went back has a new epoch
                        }
                        if (seq != l.expectedNext && !fill(l, seq)) {
                            held(l, payload);
                            return;
                        }
                    } else if (seq != 1) {
                        // a new epoch whose first messages this node did not hear (its link came back
                        // after them): they are delivered first, from the buffer
                        String was = l.epoch;
                        int wasNext = l.expectedNext;
                        l.epoch = epoch;
                        l.expectedNext = 1;
                        if (!fill(l, seq)) {
                            l.epoch = was;
                            l.expectedNext = wasNext;
                            held(l, payload);
                            return;
                        }
                    }
                    l.epoch = epoch;
                    broker.publication(l.cname, seq, epoch, k, content);
                    l.expectedNext = seq + 1;
                }
                case 'c' -> broker.closed(l.cname);
                case 'x' -> broker.cleared(l.cname);
                case 't' -> sync(l, null, true);
                default -> LOG.warning("jcomet: unknown message kind '" + kind + "' on " + l.shardChannel);
            }
        } catch (RuntimeException e) {
            LOG.log(Level.WARNING, "jcomet: message on " + l.shardChannel + " not delivered: " + e, e);
        }
    }

    /**
     * A publication was missed (seq jumped, or a new epoch began before this node heard it): deliver
     * what the buffer of the same epoch still holds before {@code seq}. What it no longer holds shows
     * as a seq jump (a gap to a jcomet client). A failed read is retried for a few seconds (the
     * command link may come back after the PUB/SUB link), then left to a resync.
     */
    private boolean fill(Listen l, int seq) {
        List<Object> r = null;
        // the PUB/SUB link may come back before the command link (after a failover, a restart):
        // the read is retried for a while, holding this channel's later messages behind it
        long deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(Math.max(FILL_PATIENCE_MILLIS, 4L * timeoutMillis));
        Exception failed = null;
        for (boolean read = false; !read; ) {
            // not through await: an internal retry is not a request refused (engine_unavailable)
            CompletableFuture<List<Object>> f = null;
            try {
                f = calls.evalAsync(Scripts.RANGE, ScriptOutputType.MULTI, keys(l.shardChannel), Integer.toUnsignedString(l.expectedNext));
                r = f.get(timeoutMillis, TimeUnit.MILLISECONDS);
                read = true;
                failed = null;
            } catch (ExecutionException | TimeoutException | RuntimeException e) {
                if (f != null) {
                    f.cancel(false);
                }
                failed = e;
                if (System.nanoTime() - deadline > 0 || listens.get(l.cname) != l || !pause(FILL_RETRY_MILLIS)) {
                    break;
                }
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                failed = e;
                break;
            }
        }
        if (failed != null) {
            LOG.warning("jcomet: could not fill seq " + l.expectedNext + ".." + (seq - 1) + " of " + l.cname
                    + "; its messages wait for a resync: " + (failed.getCause() != null ? failed.getCause() : failed));
            return false;
        }
        if (r == null || r.size() < 2 || !l.epoch.equals(r.get(0))) {
            return true; // the channel is gone or has yet another epoch: its own messages will say so
        }
        for (Stored m : RedisKeys.entries(r.get(1))) {
            if (m.seq() - l.expectedNext >= 0 && m.seq() - seq < 0) {
                broker.publication(l.cname, m.seq(), l.epoch, m.kind(), m.content());
                l.expectedNext = m.seq() + 1;
            }
        }
        return true;
    }

    /**
     * Delivery thread: a hole before {@code payload} could not be filled. The channel holds its live
     * messages (this one first) until a resync has read the buffer; the resync then delivers what
     * the buffer holds and applies the held messages after it (dropping those it already read).
     */
    private void held(Listen l, String payload) {
        l.stale = true;
        l.pending = new ArrayList<>();
        l.pending.add(payload);
        if (l.resyncDue.compareAndSet(false, true)) {
            housekeeping.schedule(() -> delivery[l.stripe].execute(() -> resyncAfterOverflow(l)),
                    RESYNC_RETRY_MILLIS, TimeUnit.MILLISECONDS);
        }
    }

    /** A fill whose read fails is retried every FILL_RETRY_MILLIS for at least FILL_PATIENCE_MILLIS. */
    private static final int FILL_RETRY_MILLIS = 100;
    private static final int FILL_PATIENCE_MILLIS = 3000;

    private static boolean pause(int millis) {
        try {
            Thread.sleep(millis);
            return true;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt(); // shutting down
            return false;
        }
    }

    /** Keeps channels this node serves alive in Redis while they have no publishes. */
    private void keepAlive() {
        String ttl = Long.toString(defaultTtlMillis());
        for (Listen l : listens.values()) {
            if (l.ready) {
                calls.evalAsync(Scripts.TOUCH, ScriptOutputType.INTEGER, keys(l.shardChannel), ttl);
                link.commands().pexpire(l.shardChannel + ":p", defaultTtlMillis());
            }
        }
    }

    /** Set by {@link #close} before the delivery threads stop; read by Lettuce's I/O threads. */
    private volatile boolean closing;

    /** Channels this node listens to (diagnostics, tests). */
    public int listening() {
        return listens.size();
    }

    @Override
    public void close() {
        closing = true; // from here a message Lettuce still hands over is dropped, not queued to a stopped thread
        housekeeping.shutdownNow();
        try {
            link.close();
        } catch (RuntimeException e) {
            LOG.fine("jcomet: closing the Redis link: " + e);
        }
        for (ExecutorService e : delivery) {
            e.shutdownNow();
        }
        resources.shutdown(0, 1, TimeUnit.SECONDS);
    }
}
