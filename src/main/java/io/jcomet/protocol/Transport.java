package io.jcomet.protocol;

/** The ways a subscriber can hold a request open, and the admin presence stream. */
public enum Transport {
    /** {@code /sub}, {@code /poll}: one response per request. */
    POLL(false),
    /** {@code /stream}: chunked, a JSON message per line. */
    STREAM(true),
    /** {@code /sse}: text/event-stream. */
    SSE(true),
    /** {@code /iframe}: an HTML page with a script element per message. */
    IFRAME(true),
    /** {@code /ws}: a WebSocket; each channel subscription on it is one subscriber, each message one text frame. */
    WS(true),
    /** admin {@code /psub}: presence lines. */
    PSUB(true);

    private final boolean streaming;

    Transport(boolean streaming) {
        this.streaming = streaming;
    }

    /** Streaming transports stay subscribed after each message; long-poll ends its response. */
    public boolean streaming() {
        return streaming;
    }

    public String key() {
        return name().toLowerCase(java.util.Locale.ROOT);
    }
}
