package io.jcomet.protocol;

import static org.junit.jupiter.api.Assertions.assertEquals;
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
}
