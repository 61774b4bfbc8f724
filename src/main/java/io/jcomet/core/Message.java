package io.jcomet.core;

import io.jcomet.protocol.Encoded;

/**
 * One message as it goes on the wire: its kind, its sequence number and its JSON bytes, encoded
 * once ({@link io.jcomet.protocol.Messages}); each framing's bytes are made from them once and
 * shared by every subscriber of that framing ({@link Encoded}). Published messages sit in channel
 * buffers and are shared by every subscriber; control messages (next_seq, noop, gap...) are made
 * per answer, or once per close/reconnect for every subscriber of a channel.
 *
 * <p>Immutable but for the frame cache, which is thread-safe; any thread.
 */
public final class Message extends Encoded {
    public enum Kind { DATA, BROADCAST, CONTROL }

    private final Kind kind;
    private final int seq;

    public Message(Kind kind, int seq, byte[] json) {
        super(json);
        this.kind = kind;
        this.seq = seq;
    }

    public static Message control(byte[] json) {
        return new Message(Kind.CONTROL, 0, json);
    }

    public Kind kind() { return kind; }
    public int seq() { return seq; }

    /** SSE event id: data and broadcast carry their seq (unsigned), control messages none. */
    @Override
    public long eventId() {
        return kind == Kind.CONTROL ? -1 : Integer.toUnsignedLong(seq);
    }
}
