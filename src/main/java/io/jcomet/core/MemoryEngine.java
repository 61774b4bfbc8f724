package io.jcomet.core;

/**
 * {@code engine=memory}: nothing is shared, the {@link Broker} keeps seq, buffer and token in its
 * own channel table (the single-node behaviour). The broker never calls the operations below when
 * {@link #shared()} is false; they refuse loudly if it ever did. Stateless, any thread.
 */
public final class MemoryEngine implements Engine {
    public static final MemoryEngine INSTANCE = new MemoryEngine();

    private MemoryEngine() {}

    @Override public boolean shared() { return false; }
    @Override public void start(Broker broker) {}
    @Override public boolean attach(String cname, boolean create) { throw notShared(); }
    @Override public void released(String cname) {}
    @Override public int publish(String cname, Message.Kind kind, String content) { throw notShared(); }
    @Override public int publish(String cname, Message.Kind kind, String content, String idempotencyKey) { throw notShared(); }
    @Override public Broker.Signed sign(String cname, int expiresSeconds, String tokenIfNew) { throw notShared(); }
    @Override public long close(String cname) { throw notShared(); }
    @Override public long clear(String cname) { throw notShared(); }
    @Override public int broadcast(String content) { throw notShared(); }
    @Override public int subscribers(String cname) { throw notShared(); }
    @Override public void presence(String cname, boolean online) { throw notShared(); }
    @Override public void close() {}

    private static IllegalStateException notShared() {
        return new IllegalStateException("the memory engine keeps channels in the broker");
    }
}
