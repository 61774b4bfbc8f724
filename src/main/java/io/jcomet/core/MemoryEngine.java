package io.jcomet.core;

import io.jcomet.config.JcometConfig;

/**
 * {@code engine=memory}: nothing is shared, a channel's seq, buffer and token live in this node's
 * channel table (the single-node behaviour). Each operation is this node's own answer: a publish is
 * {@link EngineEvents#append appended} (its seq assigned under the channel's lock, then delivered by
 * the same path a shared engine's publications take), idempotency keys are remembered here
 * ({@link Idempotency}), and presence, counts, close and clear are this node's.
 *
 * <p>Threads: request threads and the sweeper call it; it holds no state but the idempotency keys
 * (thread-safe) and the events, set once by {@link #start} before any request.
 */
public final class MemoryEngine implements Engine {
    private final JcometConfig config;
    private EngineEvents events;
    private Idempotency idempotency;

    MemoryEngine(JcometConfig config) {
        this.config = config;
    }

    @Override
    public void start(EngineEvents events) {
        this.events = events;
        this.idempotency = new Idempotency(config.idempotencyWindowSeconds(), config.maxIdempotencyKeys(),
                events::nanoTime, events.stats());
    }

    /** The table is the store: nothing to copy; the broker looks the channel up itself. */
    @Override
    public boolean attach(String cname, boolean create) {
        return true;
    }

    @Override
    public void released(String cname) {}

    @Override
    public int publish(String cname, Message.Kind kind, String content) {
        return events.append(cname, kind, content);
    }

    @Override
    public int publish(String cname, Message.Kind kind, String content, String idempotencyKey) {
        return idempotency.publish(cname, idempotencyKey, () -> events.append(cname, kind, content));
    }

    @Override
    public Broker.Signed sign(String cname, int expiresSeconds, String tokenIfNew) {
        return events.signed(cname, expiresSeconds, tokenIfNew);
    }

    @Override
    public long close(String cname) {
        return events.closed(cname);
    }

    @Override
    public long clear(String cname) {
        return events.cleared(cname);
    }

    @Override
    public int broadcast(String content) {
        return events.appendToAll(content);
    }

    @Override
    public int subscribers(String cname) {
        return events.localSubscribers(cname);
    }

    @Override
    public void presence(String cname, boolean online) {
        events.presence(cname, online);
    }

    @Override
    public void close() {}
}
