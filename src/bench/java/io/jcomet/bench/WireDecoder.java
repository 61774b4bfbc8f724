package io.jcomet.bench;

import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * The client side of one subscriber transport: the request that subscribes, and the decoding of
 * what the server sends back into {@link Decoded} events (whole answers, messages, replies to
 * send). Pure byte handling, so every transport is tested without sockets: feed bytes, get events
 * (see the *DecoderTest classes). The {@link Reactor} does the socket I/O and acts on the events.
 *
 * <p>Threads: one instance per subscriber connection; only its reactor thread touches it.
 */
interface WireDecoder {

    /** The decoder of the transport the options ask for. */
    static WireDecoder forOptions(Options o) {
        if (o.ws) {
            return new WebSocketDecoder();
        }
        if (o.sse) {
            return new SseDecoder();
        }
        return o.stream ? new StreamDecoder() : new LongPollDecoder();
    }

    /**
     * The request that subscribes to {@code cname} from {@code seq} (long-poll: sent again after
     * every answer). Sending it starts a new answer: the decoder forgets the last one.
     */
    String request(String cname, int seq, int noop, String host);

    /**
     * Consumes every byte of {@code in} and returns the events completed, in order (empty: more
     * bytes are needed). After a {@link Decoded.Broken} or a {@link Decoded.Closed} the connection
     * is done: the rest of {@code in} is ignored.
     */
    List<Decoded> feed(ByteBuffer in);

    /**
     * The connection ended: the answer whose body ended with it, or null when none was pending.
     *
     * @throws HttpResponseParser.BadResponseException when an answer was cut short
     */
    Decoded.Answer eof() throws HttpResponseParser.BadResponseException;

    /** Forgets everything: a new connection follows (or none; large buffers are dropped). */
    void reset();

    /** What a decoder hands the reactor. */
    interface Decoded {

        /** The head of an endless answer: a stream's 200, or a WebSocket's 101 (a whole response). */
        record Opened(boolean wholeResponse) implements Decoded {
        }

        /** The messages of one stream line, SSE event or WebSocket text frame. */
        record Messages(List<Map<String, Object>> messages) implements Decoded {
        }

        /** A stream line or WebSocket text that is not icomet JSON; the connection goes on. */
        record BadMessage(String what, String error) implements Decoded {
        }

        /**
         * A complete HTTP answer: a long-poll's, the end of a stream, or a refusal. {@code messages}
         * is empty and {@code bodyError} says why when the body is not icomet JSON.
         */
        record Answer(HttpResponse response, List<Map<String, Object>> messages, String bodyError,
                      boolean keepAlive) implements Decoded {
        }

        /** The WebSocket handshake was answered with something else than 101. */
        record Refused(String status, String statusLine) implements Decoded {
        }

        /** Bytes to send back (a WebSocket pong). */
        record Reply(ByteBuffer bytes) implements Decoded {
        }

        /** The server's WebSocket close frame, with its status code (0 if none). */
        record Closed(int code) implements Decoded {
        }

        /** Bytes that are not the protocol (a malformed response or frame): close the connection. */
        record Broken(String what, String error) implements Decoded {
        }
    }

    /** An answer whose body text is {@code text} (the raw body, or a stream's last lines as an array). */
    static Decoded.Answer answer(HttpResponse r, String text, boolean keepAlive) {
        if (r.body().length == 0) {
            return new Decoded.Answer(r, List.of(), null, keepAlive);
        }
        try {
            return new Decoded.Answer(r, Json.messages(text), null, keepAlive);
        } catch (Json.JsonException e) {
            return new Decoded.Answer(r, List.of(), e.getMessage(), keepAlive);
        }
    }

    /** A list for the events of one feed; most feeds complete one. */
    static List<Decoded> events() {
        return new ArrayList<>(2);
    }
}
