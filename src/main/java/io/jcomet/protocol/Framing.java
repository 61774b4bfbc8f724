package io.jcomet.protocol;

import java.nio.charset.StandardCharsets;

/**
 * How JSON messages are laid out on the wire for one transport. Pure byte manipulation, so every
 * transport's framing is tested without sockets (see FramingTest).
 *
 * <p>{@link #frame(Encoded)} is the fan-out path: it frames a message once per framing and hands
 * every subscriber the same bytes (see {@link Encoded}). Framings that produce the same bytes share
 * one {@link #shareKey}: plain long-poll, stream and presence lines are all "the JSON and a
 * newline"; JSONP and iframe frames are shared between callers that use the same callback name.
 *
 * <p>Instances without a callback are shared singletons; a JSONP/iframe framing carries the
 * client's (validated) callback name. Immutable; any thread.
 */
public abstract class Framing {
    private static final byte[] EMPTY = new byte[0];
    private static final byte[] NEWLINE = {'\n'};
    /** Share key of "JSON + newline" (plain long-poll, stream, presence lines). */
    static final String LINE = "line";
    static final String SSE = "sse";

    private final String shareKey;

    Framing(String shareKey) {
        this.shareKey = shareKey;
    }

    /** Frames with equal keys make equal bytes of the same message. */
    final String shareKey() {
        return shareKey;
    }

    /**
     * The frame of one message, made on first use and then the same array for every subscriber of
     * this framing (or another with the same share key). Shared: never modify.
     */
    public final byte[] frame(Encoded m) {
        byte[] f = m.frame(shareKey);
        return f != null ? f : m.keep(shareKey, frame(m.json(), m.eventId()));
    }

    /** Several messages as one answer; one message is its shared {@link #frame(Encoded)}. */
    public final byte[] batch(Encoded[] ms, int count) {
        if (count == 1) {
            return frame(ms[0]);
        }
        byte[][] jsons = new byte[count][];
        long[] ids = new long[count];
        for (int i = 0; i < count; i++) {
            jsons[i] = ms[i].json();
            ids[i] = ms[i].eventId();
        }
        return batch(jsons, ids, count);
    }

    /** Bytes written once when the response starts (iframe's HTML head, SSE's retry hint). */
    public byte[] head() {
        return EMPTY;
    }

    /** One message. {@code id} is the SSE event id (a data seq) or -1 for control messages. */
    public abstract byte[] frame(byte[] json, long id);

    /** Several messages in one response (long-poll replay); streaming transports frame each. */
    public byte[] batch(byte[][] jsons, long[] ids, int count) {
        if (count == 1) {
            return frame(jsons[0], ids[0]);
        }
        int size = 0;
        byte[][] parts = new byte[count][];
        for (int i = 0; i < count; i++) {
            parts[i] = frame(jsons[i], ids[i]);
            size += parts[i].length;
        }
        return concat(size, parts);
    }

    /** Content-Type of the response. */
    public abstract String contentType();

    /** The transport this framing belongs to (one each): a holder keeps the framing, not both. */
    public abstract Transport transport();

    /**
     * Whether a refusal (a 401, 404, 429 in icomet's status JSON) goes out with that HTTP status.
     * Only a plain JSON answer does: a browser drops a script (JSONP, iframe) or an event stream
     * sent with a 4xx, so those are refused with 200 and the status in the JSON.
     */
    public boolean refusalCarriesStatus() {
        return false;
    }

    static byte[] concat(int size, byte[]... parts) {
        byte[] out = new byte[size];
        int p = 0;
        for (byte[] part : parts) {
            System.arraycopy(part, 0, out, p, part.length);
            p += part.length;
        }
        return out;
    }

    static byte[] ascii(String s) {
        return s.getBytes(StandardCharsets.US_ASCII);
    }

    /** Long-poll: the JSON and a newline, several as one array; with a callback {@code cb(json);} (icomet's layout). */
    public static Framing longPoll(String callback) {
        return callback == null ? LongPoll.PLAIN : new LongPoll(callback);
    }

    public static Framing stream() {
        return Stream.INSTANCE;
    }

    public static Framing sse() {
        return Sse.INSTANCE;
    }

    public static Framing iframe(String callback) {
        return new Iframe(callback == null ? "icomet_cb" : callback);
    }

    /** {@code /psub}: presence lines are plain text, framed by the caller. */
    public static Framing plainLines() {
        return PlainLines.INSTANCE;
    }

    static final class LongPoll extends Framing {
        @Override
        public Transport transport() {
            return Transport.POLL;
        }

        static final LongPoll PLAIN = new LongPoll(null);
        private final byte[] prefix;
        private final byte[] suffix;

        LongPoll(String callback) {
            super(callback == null ? LINE : "jsonp:" + callback);
            this.prefix = callback == null ? EMPTY : ascii(callback + "(");
            this.suffix = callback == null ? NEWLINE : ascii(");\n");
        }

        @Override
        public byte[] frame(byte[] json, long id) {
            return concat(prefix.length + json.length + suffix.length, prefix, json, suffix);
        }

        @Override
        public byte[] batch(byte[][] jsons, long[] ids, int count) {
            if (count == 1) {
                return frame(jsons[0], ids[0]);
            }
            int size = prefix.length + suffix.length + 2 + (count - 1);
            for (int i = 0; i < count; i++) {
                size += jsons[i].length;
            }
            byte[] out = new byte[size];
            int p = 0;
            System.arraycopy(prefix, 0, out, p, prefix.length);
            p += prefix.length;
            out[p++] = '[';
            for (int i = 0; i < count; i++) {
                if (i > 0) {
                    out[p++] = ',';
                }
                System.arraycopy(jsons[i], 0, out, p, jsons[i].length);
                p += jsons[i].length;
            }
            out[p++] = ']';
            System.arraycopy(suffix, 0, out, p, suffix.length);
            return out;
        }

        @Override
        public String contentType() {
            return prefix.length == 0 ? "application/json; charset=utf-8" : "text/javascript; charset=utf-8";
        }

        @Override
        public boolean refusalCarriesStatus() {
            return prefix.length == 0; // plain JSON; a JSONP answer is a script
        }
    }

    static final class Stream extends Framing {
        @Override
        public Transport transport() {
            return Transport.STREAM;
        }

        static final Stream INSTANCE = new Stream();
        private static final byte[] NL = {'\n'};

        Stream() {
            super(LINE);
        }

        @Override
        public byte[] frame(byte[] json, long id) {
            return concat(json.length + 1, json, NL);
        }

        @Override
        public String contentType() {
            return "application/json; charset=utf-8";
        }
    }

    static final class PlainLines extends Framing {
        @Override
        public Transport transport() {
            return Transport.PSUB;
        }

        static final PlainLines INSTANCE = new PlainLines();

        PlainLines() {
            super(LINE);
        }

        @Override
        public byte[] frame(byte[] line, long id) {
            return Stream.INSTANCE.frame(line, id);
        }

        @Override
        public String contentType() {
            return "text/plain; charset=utf-8";
        }
    }

    static final class Sse extends Framing {
        @Override
        public Transport transport() {
            return Transport.SSE;
        }

        static final Sse INSTANCE = new Sse();
        private static final byte[] HEAD = ascii("retry: 3000\n\n");
        private static final byte[] DATA = ascii("data: ");
        private static final byte[] END = ascii("\n\n");

        Sse() {
            super(SSE);
        }

        @Override
        public byte[] head() {
            return HEAD;
        }

        @Override
        public byte[] frame(byte[] json, long id) {
            byte[] idLine = id < 0 ? EMPTY : ascii("id: " + id + "\n");
            return concat(idLine.length + DATA.length + json.length + END.length, idLine, DATA, json, END);
        }

        @Override
        public String contentType() {
            return "text/event-stream; charset=utf-8";
        }
    }

    static final class Iframe extends Framing {
        @Override
        public Transport transport() {
            return Transport.IFRAME;
        }

        private final byte[] head;
        private final byte[] prefix;
        private static final byte[] SUFFIX = ascii(");</script>\n");

        Iframe(String callback) {
            super("iframe:" + callback);
            // Browsers render nothing until they have some bytes; the padding gets past that buffering.
            // document.domain: icomet's pages relax it to the last two labels on both sides, so a page on
            // www.example.com can be called from an iframe on comet.example.com (try: newer browsers ignore it)
            this.head = ascii("<!DOCTYPE html><html><head><meta charset=\"utf-8\"><title>jcomet</title>"
                    + "<script>try{document.domain=window.location.hostname.split('.').slice(-2).join('.');}catch(e){}</script>"
                    + "</head><body>\n"
                    + "<!-- " + " ".repeat(1024) + " -->\n");
            this.prefix = ascii("<script>parent." + callback + "(");
        }

        @Override
        public byte[] head() {
            return head;
        }

        @Override
        public byte[] frame(byte[] json, long id) {
            return concat(prefix.length + json.length + SUFFIX.length, prefix, json, SUFFIX);
        }

        @Override
        public String contentType() {
            return "text/html; charset=utf-8";
        }
    }
}
