package io.jcomet.core;

/**
 * What an {@link Engine} tells the core: the narrow set of callbacks it is given at
 * {@link Engine#start}. The {@link Broker} implements it with a private class, so these are not
 * part of the broker's public API, and the broker never asks which engine runs: every operation
 * goes to the engine, and the engine comes back through here.
 *
 * <p>Two kinds of engine use it the same way:
 * <ul>
 * <li>{@link MemoryEngine} keeps a channel's seq and buffer in this node's table: it asks the core
 * to {@link #append} a publication (the core assigns the seq under the channel's lock), to
 * {@link #signed sign}, {@link #closed close} or {@link #cleared clear} a channel, and reports
 * presence and counts from this node alone.</li>
 * <li>A shared engine ({@code engine=redis}) keeps them in its store: it hands over each
 * {@link #publication} with the seq the store assigned, {@link #resync}s the local copy of a
 * channel after a gap in what it heard, and tells every node of a close, a clear and a cluster-wide
 * presence change.</li>
 * </ul>
 *
 * <p>Threads: any thread, holding no channel's lock (checked under {@code -ea}), except
 * {@link #presence}, which an engine may call from {@link Engine#presence} under the lock of the
 * channel it reports; {@link #publication} and {@link #resync} of one channel are called one at a
 * time, in seq order. None of these calls blocks on I/O.
 */
public interface EngineEvents {

    /**
     * A publication the store assigned {@code seq} (in {@code epoch}) to: delivered to this node's
     * subscribers of {@code cname}, skipped when this node does not hold the channel, or already
     * has the seq (a resync and a live message crossed). A new epoch drops the old buffer first.
     */
    void publication(String cname, int seq, String epoch, Message.Kind kind, String content);

    /**
     * A publication this node numbers: the channel is created if needed (429 when the table is
     * full), the seq assigned under its lock and the message delivered by the same path as
     * {@link #publication}. Returns the seq.
     */
    int append(String cname, Message.Kind kind, String content);

    /** {@link #append} to every channel this node holds, as a {@code broadcast}; returns how many it reached. */
    int appendToAll(String content);

    /**
     * Copies the store's state of a channel into the local one (made if needed): on a channel's first
     * subscriber, and after the link to the store was lost, so messages this node missed reach its
     * subscribers in order. False when the local table is full (counted).
     */
    boolean resync(String cname, Engine.SharedState state);

    /** /sign kept on this node: the channel is made if needed and keeps its first token. 429 when full. */
    Broker.Signed signed(String cname, int expiresSeconds, String tokenIfNew);

    /** The channel was closed: its subscribers here get {@code close}. Returns the next seq, or -1 when unknown here. */
    long closed(String cname);

    /** The channel's buffer was dropped; returns the next seq, or -1 when unknown here. */
    long cleared(String cname);

    /** A channel went online or offline (for the cluster, with a shared engine): /psub listeners hear it. */
    void presence(String cname, boolean online);

    /** Subscribers held on the channel on this node, or -1 when this node does not hold it. */
    int localSubscribers(String cname);

    /** Where an engine counts its refusals and faults. */
    Stats stats();

    /** The broker's clock in nanoseconds (tests drive it), for windows such as idempotency_window. */
    long nanoTime();
}
