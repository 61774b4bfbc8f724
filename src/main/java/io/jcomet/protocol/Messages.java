package io.jcomet.protocol;

import java.nio.charset.StandardCharsets;

/**
 * Encoders for every message jcomet sends, in icomet's shapes. Each returns the UTF-8 JSON bytes;
 * a published message is encoded once and the same bytes go to every subscriber.
 *
 * <p>Sequence numbers are 32-bit counters that wrap; they are printed unsigned (icomet prints them
 * signed, with %d): JSON readers and jcomet.js expect non-negative numbers, and {@link Params#integer}
 * takes either form back, so an icomet client that wrapped to a negative seq still resumes.
 *
 * <p>Every message has a {@code content} field ("" for control messages), as icomet sends it:
 * clients read {@code msg.content} without checking the type first. Channel names are validated
 * ({@link Params#cname}: no control characters) before they get here and are always escaped.
 * Stateless; any thread.
 */
public final class Messages {
    private Messages() {}

    /** A published message without an epoch (icomet's shape); see {@link #published}. */
    public static byte[] data(String type, String cname, int seq, String content) {
        return published(type, cname, seq, null, contentTail(content));
    }

    /**
     * The channel-independent end of a published message: {@code ,"content":"..."}}. Escaped once,
     * outside any lock, and reused for every channel of a broadcast.
     */
    public static byte[] contentTail(String content) {
        StringBuilder b = new StringBuilder(content.length() + 16).append(",\"content\":");
        return utf8(Json.quote(b, content).append('}'));
    }

    /**
     * A published message: type, cname, seq and the channel's {@code epoch} (omitted when null), so a
     * client that resumes from a stored seq can tell a restarted server from the one it left, then
     * the {@link #contentTail}. One array, filled once.
     */
    public static byte[] published(String type, String cname, int seq, String epoch, byte[] tail) {
        StringBuilder h = new StringBuilder(56 + cname.length()).append("{\"type\":\"").append(type).append("\",\"cname\":");
        Json.quote(h, cname).append(",\"seq\":").append(Integer.toUnsignedString(seq));
        byte[] head = utf8(withEpoch(h, epoch));
        byte[] out = new byte[head.length + tail.length];
        System.arraycopy(head, 0, out, 0, head.length);
        System.arraycopy(tail, 0, out, head.length, tail.length);
        return out;
    }

    public static byte[] nextSeq(String cname, int seq, String epoch) {
        StringBuilder b = new StringBuilder(64).append("{\"type\":\"next_seq\",\"cname\":");
        Json.quote(b, cname).append(",\"seq\":").append(Integer.toUnsignedString(seq)).append(",\"content\":\"\",\"epoch\":");
        return utf8(Json.quote(b, epoch).append('}'));
    }

    /** jcomet: the client asked from {@code from}; everything up to {@code to} is no longer buffered. */
    public static byte[] gap(String cname, int from, int to, String epoch) {
        StringBuilder b = new StringBuilder(80).append("{\"type\":\"gap\",\"cname\":");
        Json.quote(b, cname).append(",\"from\":").append(Integer.toUnsignedString(from))
                .append(",\"to\":").append(Integer.toUnsignedString(to)).append(",\"content\":\"\",\"epoch\":");
        return utf8(Json.quote(b, epoch).append('}'));
    }

    public static byte[] noop(String cname, int noopSeq) {
        return noop(cname, noopSeq, null);
    }

    /** noop with the channel's {@code epoch} (jcomet; omitted when null), so a quiet channel still tells a
     *  client that started from a stored seq which incarnation it is talking to. */
    public static byte[] noop(String cname, int noopSeq, String epoch) {
        StringBuilder b = new StringBuilder(72).append("{\"type\":\"noop\",\"cname\":");
        Json.quote(b, cname).append(",\"seq\":").append(Integer.toUnsignedString(noopSeq)).append(",\"content\":\"\"");
        return utf8(withEpoch(b, epoch).append('}'));
    }

    private static StringBuilder withEpoch(StringBuilder b, String epoch) {
        return epoch == null ? b : Json.quote(b.append(",\"epoch\":"), epoch);
    }

    /** icomet's status messages: type "401", "404" or "429" with a human {@code content}. */
    public static byte[] status(String type, String cname, String content) {
        StringBuilder b = new StringBuilder(64).append("{\"type\":\"").append(type).append("\",\"cname\":");
        Json.quote(b, cname).append(",\"seq\":0,\"content\":");
        return utf8(Json.quote(b, content).append('}'));
    }

    public static byte[] close(String cname, int nextSeq) {
        return close(cname, nextSeq, null);
    }

    /** close with the channel's {@code epoch} (jcomet; omitted when null). */
    public static byte[] close(String cname, int nextSeq, String epoch) {
        StringBuilder b = new StringBuilder(72).append("{\"type\":\"close\",\"cname\":");
        Json.quote(b, cname).append(",\"seq\":").append(Integer.toUnsignedString(nextSeq)).append(",\"content\":\"\"");
        return utf8(withEpoch(b, epoch).append('}'));
    }

    /** jcomet: the server is stopping; reconnect (after a short delay) and resume with the same seq. */
    public static byte[] reconnect(String cname, int retryMillis) {
        StringBuilder b = new StringBuilder(64).append("{\"type\":\"reconnect\",\"cname\":");
        Json.quote(b, cname).append(",\"seq\":0,\"content\":\"\",\"retry_ms\":").append(retryMillis).append('}');
        return utf8(b);
    }

    public static byte[] error(String reason) {
        StringBuilder b = new StringBuilder(32 + reason.length()).append("{\"type\":\"error\",\"reason\":");
        return utf8(Json.quote(b, reason).append('}'));
    }

    public static byte[] utf8(CharSequence s) {
        return s.toString().getBytes(StandardCharsets.UTF_8);
    }
}
