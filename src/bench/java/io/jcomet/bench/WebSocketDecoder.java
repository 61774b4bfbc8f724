package io.jcomet.bench;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.List;

/**
 * WebSocket ({@code /ws}): the subscription is in the handshake URL, as for /stream; after the 101
 * answer each server frame is one text message. Events: {@link Decoded.Opened} (the 101) or
 * {@link Decoded.Refused}; then per text frame {@link Decoded.Messages} (or
 * {@link Decoded.BadMessage}); a {@link Decoded.Reply} with the pong for a ping; {@link Decoded.Closed}
 * for a close frame; {@link Decoded.Broken} for a masked frame or one over 16 MB. Server frames are
 * never fragmented by jcomet; continuation and pong frames are skipped.
 *
 * <p>Threads: one connection's reactor thread. An idle connection keeps no buffer.
 */
final class WebSocketDecoder implements WireDecoder {

    static final int MAX_FRAME = 16 << 20;

    /** Bytes of an incomplete handshake head or frame (null: none). */
    private byte[] buf;
    private int len;
    /** The 101 answer has arrived; frames follow. */
    private boolean open;

    @Override
    public String request(String cname, int seq, int noop, String host) {
        reset();
        return "GET /ws?cname=" + cname + "&seq=" + seq + "&noop=" + noop
                + " HTTP/1.1\r\nHost: " + host
                + "\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
                + "Sec-WebSocket-Version: 13\r\n\r\n";
    }

    @Override
    public List<Decoded> feed(ByteBuffer in) {
        List<Decoded> events = WireDecoder.events();
        append(in);
        int pos = 0;
        if (!open) {
            int end = headEnd(buf, len);
            if (end < 0) {
                return events;
            }
            String head = new String(buf, 0, end, StandardCharsets.ISO_8859_1);
            if (!head.startsWith("HTTP/1.1 101")) {
                String status = head.length() >= 12 ? head.substring(9, 12) : "?";
                events.add(new Decoded.Refused(status, head.lines().findFirst().orElse("")));
                reset();
                return events;
            }
            open = true;
            events.add(new Decoded.Opened(true));
            pos = end;
        }
        while (true) {
            int avail = len - pos;
            if (avail < 2) {
                break;
            }
            int b0 = buf[pos] & 0xff;
            int b1 = buf[pos + 1] & 0xff;
            int hdr = 2;
            long size = b1 & 0x7f;
            if (size == 126) {
                if (avail < 4) {
                    break;
                }
                size = ((buf[pos + 2] & 0xff) << 8) | (buf[pos + 3] & 0xff);
                hdr = 4;
            } else if (size == 127) {
                if (avail < 10) {
                    break;
                }
                size = 0;
                for (int i = 2; i < 10; i++) {
                    size = (size << 8) | (buf[pos + i] & 0xff);
                }
                hdr = 10;
            }
            if ((b1 & 0x80) != 0 || size > MAX_FRAME) {
                events.add(new Decoded.Broken("WebSocket frame", "masked or over 16 MB"));
                reset();
                return events;
            }
            if (avail < hdr + size) {
                break;
            }
            int start = pos + hdr;
            pos = start + (int) size;
            if (!frame(b0 & 0x0f, start, (int) size, events)) {
                reset();
                return events;
            }
        }
        // keep the incomplete rest
        if (pos >= len) {
            buf = null;
            len = 0;
        } else if (pos > 0) {
            buf = Arrays.copyOfRange(buf, pos, len);
            len = buf.length;
        }
        return events;
    }

    /** One complete frame; false after a close frame (nothing more to decode on this connection). */
    private boolean frame(int opcode, int start, int size, List<Decoded> events) {
        switch (opcode) {
            case 1 -> {
                String text = new String(buf, start, size, StandardCharsets.UTF_8);
                try {
                    events.add(new Decoded.Messages(Json.messages(text)));
                } catch (Json.JsonException e) {
                    events.add(new Decoded.BadMessage("WebSocket text", e.getMessage()));
                }
                return true;
            }
            case 9 -> { // ping: answer with a masked pong carrying the same payload (ping payloads are <= 125 bytes)
                ByteBuffer pong = ByteBuffer.allocate(6 + size);
                pong.put((byte) 0x8A).put((byte) (0x80 | size)).putInt(0); // zero mask: payload unchanged
                pong.put(buf, start, size).flip();
                events.add(new Decoded.Reply(pong));
                return true;
            }
            case 8 -> {
                events.add(new Decoded.Closed(size >= 2 ? ((buf[start] & 0xff) << 8 | (buf[start + 1] & 0xff)) : 0));
                return false;
            }
            default -> {
                return true; // pong, continuation: nothing to account
            }
        }
    }

    private void append(ByteBuffer in) {
        int n = in.remaining();
        if (buf == null || buf.length < len + n) {
            byte[] grown = new byte[Math.max(len + n, 256)];
            if (buf != null) {
                System.arraycopy(buf, 0, grown, 0, len);
            }
            buf = grown;
        }
        in.get(buf, len, n);
        len += n;
    }

    private static int headEnd(byte[] b, int len) {
        for (int i = 3; i < len; i++) {
            if (b[i] == '\n' && b[i - 1] == '\r' && b[i - 2] == '\n' && b[i - 3] == '\r') {
                return i + 1;
            }
        }
        return -1;
    }

    /** A WebSocket has no HTTP answer that the end of the connection completes. */
    @Override
    public Decoded.Answer eof() {
        return null;
    }

    @Override
    public void reset() {
        buf = null;
        len = 0;
        open = false;
    }
}
