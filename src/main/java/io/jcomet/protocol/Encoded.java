package io.jcomet.protocol;

/**
 * A message's JSON, encoded once, and the bytes each {@link Framing} made of it, kept so that every
 * subscriber of that framing is handed the same array: a fan-out to ten thousand streams frames
 * the message once, not ten thousand times.
 *
 * <p>Frames are made lazily, on the first subscriber of a framing (a message nobody reads as SSE
 * never gets an SSE frame). At most {@link #MAX_FRAMES} are kept; a message asked for more
 * (JSONP callers with many different callback names) frames the rest per answer.
 *
 * <p>Thread-safe: lookups read a volatile array that is replaced, never changed, under this
 * object's lock. Two threads framing the same message at once may both frame it; the first kept
 * wins and both answers carry equal bytes. Every array handed out is shared: never modify it.
 */
public abstract class Encoded {
    static final int MAX_FRAMES = 4;
    private static final Object[] NONE = new Object[0];

    private final byte[] json;
    private volatile Object[] frames = NONE; // key0, frame0, key1, frame1...

    protected Encoded(byte[] json) {
        this.json = json;
    }

    /** The encoded JSON, without any framing. Shared: never modify. */
    public final byte[] json() {
        return json;
    }

    /** SSE event id, or -1 when the message carries none. */
    public abstract long eventId();

    /** The frame kept under {@code key}, or null. */
    final byte[] frame(String key) {
        Object[] f = frames;
        for (int i = 0; i < f.length; i += 2) {
            if (f[i] == key || f[i].equals(key)) {
                return (byte[]) f[i + 1];
            }
        }
        return null;
    }

    /** Keeps {@code frame} under {@code key} unless one is kept already; returns the one to use. */
    final synchronized byte[] keep(String key, byte[] frame) {
        byte[] kept = frame(key);
        if (kept != null) {
            return kept;
        }
        Object[] f = frames;
        if (f.length < 2 * MAX_FRAMES) {
            Object[] g = java.util.Arrays.copyOf(f, f.length + 2);
            g[f.length] = key;
            g[f.length + 1] = frame;
            frames = g;
        }
        return frame;
    }

    /** How many frames are kept (tests). */
    final int framesKept() {
        return frames.length / 2;
    }
}
