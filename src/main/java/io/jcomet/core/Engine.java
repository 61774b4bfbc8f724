package io.jcomet.core;

import io.jcomet.config.JcometConfig;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.function.Supplier;

/**
 * Where a channel's seq, buffer and token live, and how a publish reaches other nodes: the one seam
 * between the {@link Broker} and its store. The broker calls these operations whichever engine runs
 * and never asks which one it is; the engine answers through the {@link EngineEvents} it was given
 * at {@link #start}.
 *
 * <p>{@link MemoryEngine} ({@code engine=memory}, the default) keeps everything in this node's
 * channel table: it has the core {@link EngineEvents#append append} a publication (the seq is
 * assigned under the channel's lock) and answers from this node alone. A shared engine
 * ({@code engine=redis}) owns the truth: it assigns seqs in its store, has the broker's local channel
 * {@link EngineEvents#resync resynced} when it {@link #attach}es it, and hands over every
 * {@link EngineEvents#publication publication} so the local channel is a faithful copy (seq,
 * epoch, buffer, token) while this node has subscribers on it. The servlet layer and the
 * transports do not know which engine runs.
 *
 * <p>Threads: request threads call the operations; the engine calls {@link EngineEvents} from
 * request threads or its own (one at a time per channel, in seq order). Implementations are
 * thread-safe.
 */
public interface Engine extends AutoCloseable {

    /** Called once by the broker's constructor, before any request. */
    void start(EngineEvents events);

    /**
     * Before a subscriber is served: a shared engine makes the local channel {@code cname} a synced
     * copy of the store's and keeps it so while it exists locally. Returns false when the channel
     * does not exist and {@code create} is false (token auth: only /sign creates channels; a
     * question about a channel creates nothing); the memory engine's table is the store, so it
     * answers true and the broker looks at its table. Throws {@link CometException} 503 when the
     * store cannot answer in time.
     */
    boolean attach(String cname, boolean create);

    /** The local channel was removed (closed, expired): stop listening for it. */
    void released(String cname);

    /** Assigns the message its seq and delivers it (to every node listening); returns the seq. 429 when full. */
    int publish(String cname, Message.Kind kind, String content);

    /**
     * {@link #publish(String, Message.Kind, String)} with an idempotency key: a publish with the same
     * key on the same channel within idempotency_window answers the first one's seq and sends nothing.
     */
    int publish(String cname, Message.Kind kind, String content, String idempotencyKey);

    /**
     * {@link #publish(String, Message.Kind, String, String)} (a null or empty key: none) without
     * waiting: the stage completes with the seq, or exceptionally with the {@link CometException}
     * that refused it (the same refusal, status and reason the blocking call throws). An engine that
     * answers from this node (the memory engine) returns a completed stage; a shared engine completes
     * it when its store answers, on one of its own threads, so the caller's thread is not held for
     * the round trip. A completion must not block.
     */
    default CompletionStage<Integer> publishAsync(String cname, Message.Kind kind, String content, String idempotencyKey) {
        return answered(() -> idempotencyKey == null || idempotencyKey.isEmpty()
                ? publish(cname, kind, content) : publish(cname, kind, content, idempotencyKey));
    }

    /** A blocking operation's outcome as a completed stage: its value, or the refusal it threw. */
    static <T> CompletionStage<T> answered(Supplier<T> operation) {
        try {
            return CompletableFuture.completedFuture(operation.get());
        } catch (CometException e) {
            return CompletableFuture.failedFuture(e);
        }
    }

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
                String key = p.idempotencyKey();
                out[i] = key == null || key.isEmpty() ? publish(p.cname(), p.kind(), p.content())
                        : publish(p.cname(), p.kind(), p.content(), key);
            } catch (CometException e) {
                out[i] = e;
            }
        }
        return out;
    }

    /** /sign: the token is made once ({@code tokenIfNew}) and kept with the channel. */
    Broker.Signed sign(String cname, int expiresSeconds, String tokenIfNew);

    /** /close (on every node); returns the next seq, or -1 when the channel is unknown. */
    long close(String cname);

    /** /clear (on every node); returns the next seq, or -1 when the channel is unknown. */
    long clear(String cname);

    /*
     * The admin operations without waiting, as publishAsync: an engine that answers from this node
     * returns a completed stage (the defaults); a shared engine completes it when its store answers,
     * on one of its own threads, with the value or the CometException the blocking call throws.
     */

    /** {@link #sign} without waiting. */
    default CompletionStage<Broker.Signed> signAsync(String cname, int expiresSeconds, String tokenIfNew) {
        return answered(() -> sign(cname, expiresSeconds, tokenIfNew));
    }

    /** {@link #close(String)} without waiting. */
    default CompletionStage<Long> closeAsync(String cname) {
        return answered(() -> close(cname));
    }

    /** {@link #clear} without waiting. */
    default CompletionStage<Long> clearAsync(String cname) {
        return answered(() -> clear(cname));
    }

    /** {@link #subscribers} without waiting. */
    default CompletionStage<Integer> subscribersAsync(String cname) {
        return answered(() -> subscribers(cname));
    }

    /** /broadcast (to every node); returns the number of channels it reached on this node. */
    int broadcast(String content);

    /** Subscribers held on the channel (on every node), or -1 when no node has it. */
    int subscribers(String cname);

    /**
     * This node's channel went online (first subscriber) or offline (a second after the last left).
     * Called under the channel's lock: must not block. The engine reports the change through
     * {@link EngineEvents#presence} once (once per cluster for a shared engine), keeping the order
     * of one channel's changes.
     */
    void presence(String cname, boolean online);

    /** One buffered message as the shared store holds it. */
    record Stored(int seq, Message.Kind kind, String content) {}

    /** A channel's shared state: what {@link EngineEvents#resync} copies into the local channel. */
    record SharedState(int nextSeq, String epoch, String token, int timeoutSeconds, List<Stored> buffered) {}

    @Override
    void close();

    /**
     * The engine {@code config} names. The Redis engine is loaded by name, so a node on the memory
     * engine never loads a Redis class.
     */
    static Engine create(JcometConfig config) {
        if (config.engine().equals("memory")) {
            return new MemoryEngine(config);
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
