package io.jcomet.bench;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.Test;

class SoakAttacksTest {

    @Test
    void aClientFrameIsAMaskedFinalTextFrameThatUnmasksToThePayload() {
        String payload = "{\"op\":\"sub\",\"cname\":\"w1x2\",\"seq\":1}";
        byte[] f = SoakAttacks.maskedText(payload);
        assertEquals((byte) 0x81, f[0], "FIN + text opcode");
        assertEquals(0x80 | payload.length(), f[1] & 0xff, "mask bit + length");
        byte[] p = new byte[f.length - 6];
        for (int i = 0; i < p.length; i++) {
            p[i] = (byte) (f[6 + i] ^ f[2 + (i & 3)]);
        }
        assertEquals(payload, new String(p, StandardCharsets.UTF_8));
    }

    @Test
    void aPayloadTooLongForTheShortLengthFormIsRefused() {
        assertThrows(IllegalArgumentException.class, () -> SoakAttacks.maskedText("x".repeat(126)));
    }
}
