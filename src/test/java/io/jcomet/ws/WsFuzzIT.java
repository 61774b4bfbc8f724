package io.jcomet.ws;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.jcomet.support.TestServer;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;

/**
 * Fuzzes {@code /ws} with generated client frames, as FuzzIT does HTTP requests: valid and broken
 * {@code sub}/{@code unsub} JSON, random bytes and invalid UTF-8, binary frames, pings and pongs
 * (valid and oversized), fragments, reserved opcodes and RSV bits, unmasked frames, frames over
 * {@code ws_max_frame_bytes}. For every socket: the server never closes with 1011 (an internal
 * error) and never answers a frame with anything but the documented JSON. Afterwards every
 * subscription the fuzzed sockets made is gone, the fuzzing address has its whole
 * {@code max_held_per_client} allowance back (no count leaked), and a client still subscribes and
 * receives.
 *
 * <p>Bounded and reproducible: a fixed seed, {@value #SOCKETS} sockets of at most 8 frames each.
 */
class WsFuzzIT {
    static final int SOCKETS = 150;
    static final long SEED = 0x6a636f6d6574L;
    private static final String[] CNAMES = {"a", "b", "c", "room", "x\u00e9", "", "<x-fuzz>", "a\"b", "12345678901234567890"};

    /** One client frame: header bits, opcode, mask or not, payload. */
    static byte[] frame(Random r) {
        int kind = r.nextInt(12);
        int opcode = 1;
        boolean fin = true;
        int rsv = 0;
        boolean masked = r.nextInt(20) != 0; // now and then an unmasked frame (a protocol error)
        byte[] payload;
        switch (kind) {
            case 0: case 1: case 2: case 3:
                payload = op(r).getBytes(StandardCharsets.UTF_8);
                break;
            case 4: // random bytes as text: mostly invalid UTF-8 and not JSON
                payload = new byte[r.nextInt(64)];
                r.nextBytes(payload);
                break;
            case 5:
                opcode = 2;
                payload = new byte[r.nextInt(32)];
                r.nextBytes(payload);
                break;
            case 6:
                opcode = 9 + r.nextInt(2); // ping or pong, now and then over the 125 bytes a control frame may carry
                payload = new byte[r.nextInt(10) == 0 ? 126 + r.nextInt(50) : r.nextInt(16)];
                r.nextBytes(payload);
                break;
            case 7: // a fragment: continuation frames follow (or not)
                fin = false;
                opcode = r.nextBoolean() ? 1 : 0;
                payload = op(r).getBytes(StandardCharsets.UTF_8);
                break;
            case 8:
                opcode = new int[] {3, 4, 5, 6, 7, 11, 12, 13, 14, 15}[r.nextInt(10)];
                payload = "{}".getBytes(StandardCharsets.UTF_8);
                break;
            case 9:
                rsv = 1 + r.nextInt(7);
                payload = op(r).getBytes(StandardCharsets.UTF_8);
                break;
            case 10:
                payload = ("{\"op\":\"sub\",\"cname\":\"" + "z".repeat(4100 + r.nextInt(2000)) + "\"}").getBytes(StandardCharsets.UTF_8);
                break;
            default:
                opcode = 8; // close, with a code or not
                payload = r.nextBoolean() ? new byte[] {(byte) 0x03, (byte) 0xe8} : new byte[r.nextInt(3)];
                break;
        }
        ByteArrayOutputStream b = new ByteArrayOutputStream(payload.length + 14);
        b.write((fin ? 0x80 : 0) | (rsv << 4) | opcode);
        int n = payload.length;
        int maskBit = masked ? 0x80 : 0;
        if (n < 126) {
            b.write(maskBit | n);
        } else if (n < 65536) {
            b.write(maskBit | 126);
            b.write(n >>> 8);
            b.write(n);
        } else {
            b.write(maskBit | 127);
            for (int s = 56; s >= 0; s -= 8) {
                b.write((int) ((long) n >>> s));
            }
        }
        byte[] m = new byte[4];
        if (masked) {
            r.nextBytes(m);
            b.write(m, 0, 4);
        }
        for (int i = 0; i < n; i++) {
            b.write(payload[i] ^ m[i & 3]);
        }
        return b.toByteArray();
    }

    /** A sub/unsub frame, valid or broken in one place. */
    static String op(Random r) {
        String cname = CNAMES[r.nextInt(CNAMES.length)];
        switch (r.nextInt(8)) {
            case 0: return "{\"op\":\"unsub\",\"cname\":\"" + cname + "\"}";
            case 1: return "{\"op\":\"sub\",\"cname\":\"" + cname + "\",\"seq\":" + (r.nextInt(5) - 2) + "}";
            case 2: return "{\"op\":\"sub\",\"cname\":\"" + cname + "\",\"seq\":\"x\",\"epoch\":\"" + "e".repeat(r.nextInt(40)) + "\"}";
            case 3: return "{\"op\":\"sub\",\"cname\":" + r.nextInt() + "}";
            case 4: return "{\"op\":\"nope\"}";
            case 5: return "[\"sub\"]";
            case 6: return "{\"op\":\"sub\",\"cname\":\"" + cname + "\",\"noop\":" + r.nextLong() + "}";
            default: return "{\"op\":\"sub\",\"cname\":\"" + cname + "\"";
        }
    }

    @Test
    void generatedFramesNeverBreakTheServerOrLeakAnAllowance() throws Exception {
        try (TestServer t = TestServer.start("client_limits_exempt", "127.0.0.250", "max_held_per_client", "4",
                "ws_max_frames_per_second", "1000")) {
            Random r = new Random(SEED);
            List<String> closes = new ArrayList<>();
            for (int i = 0; i < SOCKETS; i++) {
                try (RawWs ws = RawWs.open("127.0.0.5", t.front(), "/ws" + (r.nextInt(4) == 0 ? "?cname=" + CNAMES[r.nextInt(4)] : ""), 0)) {
                    assertTrue(ws.upgraded(), ws.head);
                    int frames = 1 + r.nextInt(8);
                    try {
                        for (int f = 0; f < frames; f++) {
                            ws.raw(frame(r));
                        }
                    } catch (IOException closedByServer) {
                        // the server closed on a protocol error: read what it said below
                    }
                    ws.socket.setSoTimeout(300);
                    while (true) {
                        RawWs.Frame f;
                        try {
                            f = ws.read();
                        } catch (IOException timeoutOrReset) {
                            break;
                        }
                        if (f == null) {
                            break;
                        }
                        if (f.opcode() == 8) {
                            closes.add(Integer.toString(f.closeCode()));
                            assertTrue(f.closeCode() != 1011 && (f.closeCode() == -1 || f.closeCode() >= 1000 && f.closeCode() < 1016),
                                    "socket " + i + " closed with " + f.closeCode() + " " + f.text());
                            break;
                        }
                        if (f.opcode() == 1) {
                            String x = f.text();
                            assertTrue(x.startsWith("{\"type\":\"") && x.endsWith("}"), "socket " + i + ": " + x);
                            assertTrue(!x.contains("<x-fuzz"), "socket " + i + " reflected the marker raw: " + x);
                        }
                    }
                }
            }
            System.out.println("ws fuzz: close codes " + closes.stream().sorted().distinct().toList() + " over " + closes.size() + " closes");
            TestServer.awaitIo("every fuzzed subscription gone", Duration.ofSeconds(10), () -> t.info("held_ws") == 0);
            // no count leaked: the fuzzing address holds its whole allowance again
            try (RawWs again = RawWs.open("127.0.0.5", t.front(), "/ws", 0)) {
                int ok = 0;
                for (int i = 0; i < 4; i++) {
                    again.text("{\"op\":\"sub\",\"cname\":\"after" + i + "\"}");
                }
                for (int i = 0; i < 8 && ok < 4; i++) {
                    RawWs.Frame f = again.nextTextOrClose(5000);
                    if (f != null && f.text().contains("\"type\":\"sub_ok\"")) {
                        ok++;
                    }
                }
                assertEquals(4, ok, "max_held_per_client (4) available again");
                t.admin("/push?cname=after0&content=still");
                boolean got = false;
                for (int i = 0; i < 8 && !got; i++) {
                    RawWs.Frame f = again.nextTextOrClose(5000);
                    got = f != null && f.text().contains("\"content\":\"still\"");
                }
                assertTrue(got, "a push still arrives");
            }
        }
    }
}
