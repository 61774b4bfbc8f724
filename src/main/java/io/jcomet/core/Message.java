package io.jcomet.core;

/**
 * One message as it goes on the wire: its kind, its sequence number and its JSON bytes, encoded
 * once. Published messages sit in channel buffers and are shared by every subscriber; control
 * messages (next_seq, noop, gap...) are made per answer.
 *
 * <p>Immutable; any thread.
 */
public final class Message {
    public enum Kind { DATA, BROADCAST, CONTROL }

    private final Kind kind;
    private final int seq;
    private final byte[] json;

    public Message(Kind kind, int seq, byte[] json) {
        this.kind = kind;
        this.seq = seq;
        this.json = json;
    }

    public static Message control(byte[] json) {
        return new Message(Kind.CONTROL, 0, json);
    }

    public Kind kind() { return kind; }
    public int seq() { return seq; }
    /** The encoded JSON. Shared: never modify. */
    public byte[] json() { return json; }

    /** SSE event id: data and broadcast carry their seq (unsigned), control messages none. */
    public long eventId() {
        return kind == Kind.CONTROL ? -1 : Integer.toUnsignedLong(seq);
    }
}
