package io.jcomet.core;

/**
 * The last {@code capacity} published messages of one channel, in seq order, so a subscriber that
 * comes back with an older seq gets what it missed.
 *
 * <p>Not thread-safe: its {@link Channel} guards it with the channel's lock.
 */
final class MessageRing {
    private final Message[] slots;
    private int start; // index of the oldest message
    private int size;

    MessageRing(int capacity) {
        this.slots = new Message[capacity];
    }

    /** Appends; when full the oldest message is dropped. Seqs must be consecutive. */
    void add(Message m) {
        if (size == slots.length) {
            slots[start] = null;
            start = (start + 1) % slots.length;
            size--;
        }
        slots[(start + size) % slots.length] = m;
        size++;
    }

    int size() { return size; }

    boolean isEmpty() { return size == 0; }

    /** Seq of the oldest buffered message; only when not empty. */
    int oldestSeq() {
        return slots[start].seq();
    }

    void clear() {
        java.util.Arrays.fill(slots, null);
        start = 0;
        size = 0;
    }

    /**
     * Copies the messages with seq at or after {@code from} into {@code out} starting at
     * {@code offset} (room for {@link #size()} entries) and returns how many.
     */
    int copyFrom(int from, Message[] out, int offset) {
        int n = offset;
        for (int i = 0; i < size; i++) {
            Message m = slots[(start + i) % slots.length];
            if (Seq.diff(m.seq(), from) >= 0) {
                out[n++] = m;
            }
        }
        return n - offset;
    }
}
