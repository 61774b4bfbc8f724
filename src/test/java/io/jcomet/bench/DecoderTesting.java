package io.jcomet.bench;

import static org.junit.jupiter.api.Assertions.assertEquals;

import io.jcomet.bench.WireDecoder.Decoded;
import java.io.ByteArrayOutputStream;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.function.Supplier;

/** Helpers of the decoder tests: feed bytes whole or split, describe the events as short text. */
final class DecoderTesting {

    private DecoderTesting() {
    }

    static byte[] ascii(String s) {
        return s.getBytes(StandardCharsets.UTF_8);
    }

    static byte[] concat(byte[]... parts) {
        ByteArrayOutputStream w = new ByteArrayOutputStream();
        for (byte[] p : parts) {
            w.writeBytes(p);
        }
        return w.toByteArray();
    }

    /** A chunked HTTP body made of these chunks (no final 0 chunk). */
    static String chunks(String... parts) {
        StringBuilder b = new StringBuilder();
        for (String p : parts) {
            b.append(Integer.toHexString(p.getBytes(StandardCharsets.UTF_8).length)).append("\r\n").append(p).append("\r\n");
        }
        return b.toString();
    }

    /** Feeds the bytes in the given pieces and describes every event. */
    static List<String> feed(WireDecoder d, byte[] all, int... cuts) {
        List<String> events = new ArrayList<>();
        int from = 0;
        for (int i = 0; i <= cuts.length; i++) {
            int to = i < cuts.length ? cuts[i] : all.length;
            ByteBuffer b = ByteBuffer.wrap(all, from, to - from);
            for (Decoded e : d.feed(b)) {
                events.add(describe(e));
            }
            assertEquals(0, b.remaining(), "a feed consumes every byte");
            from = to;
        }
        return events;
    }

    /** Whole, cut at every offset, and one byte at a time, a fresh decoder gives the same events. */
    static List<String> feedEverySplit(Supplier<WireDecoder> fresh, byte[] all) {
        List<String> whole = feed(fresh.get(), all);
        for (int cut = 1; cut < all.length; cut++) {
            assertEquals(whole, feed(fresh.get(), all, cut), "cut at " + cut);
        }
        int[] everyByte = new int[Math.max(0, all.length - 1)];
        for (int i = 0; i < everyByte.length; i++) {
            everyByte[i] = i + 1;
        }
        assertEquals(whole, feed(fresh.get(), all, everyByte), "one byte at a time");
        return whole;
    }

    /** An event as short text: "messages data:1 noop:0", "answer 200 keep-alive data:3", ... */
    static String describe(Decoded e) {
        if (e instanceof Decoded.Messages m) {
            return "messages" + messages(m.messages());
        }
        if (e instanceof Decoded.Answer a) {
            return "answer " + a.response().status() + (a.keepAlive() ? " keep-alive" : " close")
                    + (a.bodyError() != null ? " bad-body" : "") + messages(a.messages());
        }
        if (e instanceof Decoded.Opened o) {
            return o.wholeResponse() ? "opened 101" : "opened";
        }
        if (e instanceof Decoded.BadMessage b) {
            return "bad " + b.what();
        }
        if (e instanceof Decoded.Refused r) {
            return "refused " + r.status();
        }
        if (e instanceof Decoded.Closed c) {
            return "closed " + c.code();
        }
        if (e instanceof Decoded.Broken b) {
            return "broken " + b.what();
        }
        if (e instanceof Decoded.Reply r) {
            byte[] b = new byte[r.bytes().remaining()];
            r.bytes().duplicate().get(b);
            StringBuilder s = new StringBuilder("reply");
            for (byte x : b) {
                s.append(String.format(" %02x", x & 0xff));
            }
            return s.toString();
        }
        throw new AssertionError("unknown event " + e);
    }

    private static String messages(List<Map<String, Object>> ms) {
        StringBuilder b = new StringBuilder();
        for (Map<String, Object> m : ms) {
            b.append(' ').append(m.get("type")).append(':').append(m.get("seq"));
        }
        return b.toString();
    }
}
