package io.jcomet.core;

import io.jcomet.config.JcometConfig;
import java.util.List;

/**
 * Where a channel's seq, buffer and token live, and how a publish reaches other nodes: the one seam
 * between the {@link Broker} and a store shared by several jcomet nodes.
 *
 * <p>{@link MemoryEngine} ({@code engine=memory}, the default) is not shared: the broker keeps
 * everything in its own channel table exactly as a single node always has. A shared engine
 * ({@code engine=redis}) owns the truth: the broker asks it to publish and to {@link #attach}
 * a channel before serving a subscriber, and the engine calls back {@link Broker#syncShared} and
 * {@link Broker#deliverShared} so the local channel is a faithful copy (seq, epoch, buffer, token)
 * while this node has subscribers on it. The servlet layer and the transports do not know which
 * engine runs.
 *
 * <p>Threads: request threads call the operations; the engine calls the broker back from its own
 * threads (one at a time per channel, in seq order). Implementations are thread-safe.
 */
public interface Engine extends AutoCloseable {

    /** True when channels live in a store shared with other nodes. */
    boolean shared();

    /** Called once by the broker's constructor, before any request. */
    void start(Broker broker);

    /**
     * Makes the local channel {@code cname} a synced copy of the shared one and keeps it so while it
     * exists locally. Returns false when the channel does not exist and {@code create} is false
     * (token auth: only /sign creates channels). Throws {@link CometException} 503 when the store
     * cannot answer in time.
     */
    boolean attach(String cname, boolean create);

    /** The local channel was removed (closed, expired): stop listening for it. */
    void released(String cname);

    /** Assigns the seq in the shared store and sends the message to every node listening; returns the seq. */
    int publish(String cname, Message.Kind kind, String content);

    /**
     * {@link #publish(String, Message.Kind, String)} with an idempotency key: a publish with the same
     * key on the same channel within idempotency_window answers the first one's seq and sends nothing.
     */
    int publish(String cname, Message.Kind kind, String content, String idempotencyKey);

    /** One publish of a /batch: what /push would publish. A null or empty key: none. */
    record Publish(String cname, Message.Kind kind, String content, String idempotencyKey) {}

    /**
     * Several publishes (a /batch's lines, in order), each published exactly as
     * {@link #publish(String, Message.Kind, String, String)} would publish it alone; a shared engine
     * may send them together (one round trip instead of one per message). Returns one outcome per
     * publish, in order: its seq (an {@link Integer}) or the {@link CometException} that refused it.
     */
    default Object[] publishAll(List<Publish> publishes) {
        Object[] out = new Object[publishes.size()];
        for (int i = 0; i < out.length; i++) {
            Publish p = publishes.get(i);
            try {
                out[i] = publish(p.cname(), p.kind(), p.content(), p.idempotencyKey());
            } catch (CometException e) {
                out[i] = e;
            }
        }
        return out;
    }

    /** /sign across nodes: the token is made once and kept in the shared store. */
    Broker.Signed sign(String cname, int expiresSeconds, String tokenIfNew);

    /** /close across nodes; returns the next seq, or -1 when the channel is unknown. */
    long close(String cname);

    /** /clear across nodes; returns the next seq, or -1 when the channel is unknown. */
    long clear(String cname);

    /** /broadcast across nodes; returns the number of channels it reached on this node. */
    int broadcast(String content);

    /** Subscribers held on the channel on every node, or -1 when no node has it. */
    int subscribers(String cname);

    /**
     * This node's channel went online (first subscriber) or offline (a second after the last left).
     * Called under the channel's lock: must not block. The engine reports cluster-wide changes back
     * through {@link Broker#firePresenceShared}, once per cluster.
     */
    void presence(String cname, boolean online);

    /** One buffered message as the shared store holds it. */
    record Stored(int seq, Message.Kind kind, String content) {}

    /** A channel's shared state: what {@link Broker#syncShared} copies into the local channel. */
    record SharedState(int nextSeq, String epoch, String token, int timeoutSeconds, List<Stored> buffered) {}

    @Override
    void close();

    /**
     * The engine {@code config} names. The Redis engine is loaded by name, so a node on the memory
     * engine never loads a Redis class.
     */
    static Engine create(JcometConfig config) {
        if (config.engine().equals("memory")) {
            return MemoryEngine.INSTANCE;
        }
        try {
            return (Engine) Class.forName("io.jcomet.engine.redis.RedisEngine")
                    .getConstructor(JcometConfig.class).newInstance(config);
        } catch (java.lang.reflect.InvocationTargetException e) {
            Throwable c = e.getCause();
            if (c instanceof RuntimeException) {
                throw (RuntimeException) c;
            }
            throw new IllegalStateException("engine=redis failed to start: " + c, c);
        } catch (ReflectiveOperationException | LinkageError e) {
            throw new IllegalStateException("engine=redis needs lettuce-core on the class path: " + e, e);
        }
    }
}
