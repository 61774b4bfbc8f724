package io.jcomet.protocol;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.Test;

/** Each transport's wire layout, without sockets. */
class FramingTest {
    private static final byte[] A = "{\"a\":1}".getBytes(StandardCharsets.UTF_8);
    private static final byte[] B = "{\"b\":2}".getBytes(StandardCharsets.UTF_8);

    private static String s(byte[] b) {
        return new String(b, StandardCharsets.UTF_8);
    }

    @Test
    void longPollEndsWithANewlineAsIcomet() {
        assertEquals("{\"a\":1}\n", s(Framing.longPoll(null).frame(A, 1)));
        assertEquals("[{\"a\":1},{\"b\":2}]\n", s(Framing.longPoll(null).batch(new byte[][] {A, B}, new long[] {1, 2}, 2)));
        assertEquals("application/json; charset=utf-8", Framing.longPoll(null).contentType());
    }

    @Test
    void jsonpWrapsInTheCallback() {
        assertEquals("cb_1({\"a\":1});\n", s(Framing.longPoll("cb_1").frame(A, -1)));
        assertEquals("cb_1([{\"a\":1},{\"b\":2}]);\n", s(Framing.longPoll("cb_1").batch(new byte[][] {A, B}, new long[] {-1, -1}, 2)));
        assertTrue(Framing.longPoll("cb_1").contentType().startsWith("text/javascript"));
    }

    @Test
    void streamIsOneJsonPerLine() {
        assertEquals("{\"a\":1}\n{\"b\":2}\n", s(Framing.stream().batch(new byte[][] {A, B}, new long[] {1, 2}, 2)));
    }

    @Test
    void sseCarriesTheSeqAsEventIdOnlyForDataMessages() {
        assertEquals("id: 7\ndata: {\"a\":1}\n\n", s(Framing.sse().frame(A, 7)));
        assertEquals("data: {\"a\":1}\n\n", s(Framing.sse().frame(A, -1)));
        assertTrue(s(Framing.sse().head()).startsWith("retry:"));
        assertEquals("text/event-stream; charset=utf-8", Framing.sse().contentType());
    }

    @Test
    void iframeCallsTheParentCallbackInAScriptElement() {
        Framing f = Framing.iframe(null);
        assertTrue(s(f.head()).startsWith("<!DOCTYPE html>"));
        assertEquals("<script>parent.icomet_cb({\"a\":1});</script>\n", s(f.frame(A, 1)));
        assertEquals("<script>parent.my.cb({\"a\":1});</script>\n", s(Framing.iframe("my.cb").frame(A, 1)));
    }

    /** A message as the core makes it: JSON plus a frame cache. */
    private static Encoded msg(byte[] json, long id) {
        return new Encoded(json) {
            @Override
            public long eventId() {
                return id;
            }
        };
    }

    @Test
    void aMessageIsFramedOncePerFramingAndTheBytesAreShared() {
        Encoded m = msg(A, 3);
        byte[] line = Framing.longPoll(null).frame(m);
        assertSame(line, Framing.longPoll(null).frame(m), "the second subscriber gets the first one's array");
        assertSame(line, Framing.stream().frame(m), "a stream line is a plain long-poll answer: one array for both");
        assertEquals(1, m.framesKept(), "framed only for what was asked: no SSE or JSONP frame made");
        byte[] sse = Framing.sse().frame(m);
        assertEquals("id: 3\ndata: {\"a\":1}\n\n", s(sse));
        assertSame(sse, Framing.sse().frame(m));
        assertSame(Framing.longPoll("cb").frame(m), Framing.longPoll("cb").frame(m), "same callback, separate requests: shared");
        assertEquals("other({\"a\":1});\n", s(Framing.longPoll("other").frame(m)));
        assertEquals(4, m.framesKept());
        // past the cache's room a frame is still right, just made per answer
        assertEquals("third({\"a\":1});\n", s(Framing.longPoll("third").frame(m)));
        assertEquals("<script>parent.icomet_cb({\"a\":1});</script>\n", s(Framing.iframe(null).frame(m)));
        assertEquals(Encoded.MAX_FRAMES, m.framesKept());
        assertSame(line, Framing.longPoll(null).frame(m));
    }

    @Test
    void aBatchOfOneIsTheSharedFrame() {
        Encoded m = msg(A, 1);
        assertSame(Framing.longPoll(null).frame(m), Framing.longPoll(null).batch(new Encoded[] {m}, 1));
        assertEquals("[{\"a\":1},{\"b\":2}]\n", s(Framing.longPoll(null).batch(new Encoded[] {m, msg(B, 2)}, 2)));
    }
}
