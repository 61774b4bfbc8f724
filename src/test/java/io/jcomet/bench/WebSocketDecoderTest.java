package io.jcomet.bench;

import static io.jcomet.bench.DecoderTesting.ascii;
import static io.jcomet.bench.DecoderTesting.concat;
import static io.jcomet.bench.DecoderTesting.feed;
import static io.jcomet.bench.DecoderTesting.feedEverySplit;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.util.List;
import org.junit.jupiter.api.Test;

/** The /ws decoder: the 101, then one event per server frame, whatever the split and the length coding. */
class WebSocketDecoderTest {

    private static final byte[] SWITCHING = ascii("HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n"
            + "Connection: Upgrade\r\nSec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n\r\n");

    /** An unmasked server frame, with the 7-bit, 16-bit or 64-bit length as its size needs. */
    private static byte[] frame(int opcode, byte[] payload) {
        ByteArrayOutputStream w = new ByteArrayOutputStream();
        w.write(0x80 | opcode);
        int n = payload.length;
        if (n < 126) {
            w.write(n);
        } else if (n < 65536) {
            w.write(126);
            w.write(n >> 8);
            w.write(n & 0xff);
        } else {
            w.write(127);
            for (int i = 7; i >= 0; i--) {
                w.write((int) ((long) n >> (8 * i)) & 0xff);
            }
        }
        w.writeBytes(payload);
        return w.toByteArray();
    }

    private static byte[] text(String json) {
        return frame(1, ascii(json));
    }

    @Test
    void requestIsTheUpgradeWithTheSubscriptionInTheUrl() {
        String r = new WebSocketDecoder().request("c", 5, 2, "h");
        assertTrue(r.startsWith("GET /ws?cname=c&seq=5&noop=2 HTTP/1.1\r\nHost: h\r\nUpgrade: websocket\r\n"), r);
        assertTrue(r.endsWith("Sec-WebSocket-Version: 13\r\n\r\n"), r);
    }

    @Test
    void switchingThenTextFramesOfEveryLengthCodingWhateverTheSplit() {
        String pad = "p".repeat(300);
        byte[] wire = concat(SWITCHING, text("{\"type\":\"sub_ok\",\"cname\":\"c\"}"),
                text("{\"type\":\"data\",\"seq\":1}"),
                text("{\"type\":\"data\",\"seq\":2,\"content\":\"" + pad + "\"}"),
                frame(10, new byte[0]), // an unsolicited pong: skipped
                text("{\"type\":\"noop\",\"seq\":0}"));
        assertEquals(List.of("opened 101", "messages sub_ok:null", "messages data:1", "messages data:2",
                "messages noop:0"), feedEverySplit(WebSocketDecoder::new, wire));

        String big = "b".repeat(70_000); // the 64-bit length
        assertEquals(List.of("opened 101", "messages data:3"), feed(new WebSocketDecoder(),
                concat(SWITCHING, text("{\"type\":\"data\",\"seq\":3,\"content\":\"" + big + "\"}")), 100, 40_000));
    }

    @Test
    void aPingIsAnsweredWithAMaskedPongCarryingItsPayload() {
        assertEquals(List.of("opened 101", "reply 8a 82 00 00 00 00 68 69"),
                feed(new WebSocketDecoder(), concat(SWITCHING, frame(9, ascii("hi")))));
    }

    @Test
    void aCloseFrameEndsTheConnectionWithItsCode() {
        byte[] wire = concat(SWITCHING, frame(8, new byte[] {0x03, (byte) 0xe9}), text("{\"type\":\"data\",\"seq\":9}"));
        assertEquals(List.of("opened 101", "closed 1001"), feed(new WebSocketDecoder(), wire),
                "nothing after the close");
    }

    @Test
    void aRefusedHandshakeAMaskedFrameAndBadTextAreReported() {
        assertEquals(List.of("refused 429"), feed(new WebSocketDecoder(),
                ascii("HTTP/1.1 429 Too Many Requests\r\nContent-Length: 0\r\n\r\n")));
        byte[] masked = {(byte) 0x81, (byte) 0x82, 0, 0, 0, 0, 'h', 'i'};
        assertEquals(List.of("opened 101", "broken WebSocket frame"), feed(new WebSocketDecoder(), concat(SWITCHING, masked)));
        assertEquals(List.of("opened 101", "bad WebSocket text", "messages data:4"), feed(new WebSocketDecoder(),
                concat(SWITCHING, text("{oops"), text("{\"type\":\"data\",\"seq\":4}"))));
    }

    @Test
    void theEndOfTheConnectionCompletesNothing() {
        WebSocketDecoder d = new WebSocketDecoder();
        feed(d, concat(SWITCHING, new byte[] {(byte) 0x81}));
        assertNull(d.eof());
    }
}
