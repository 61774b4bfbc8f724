package io.jcomet.protocol;

import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;

/**
 * A minimal query-string reader for the subscribe endpoints. Containers parse every parameter into
 * a map that stays attached to the request for as long as it is held; a held long-poll needs only
 * a handful of small values once, so reading them straight from the raw query keeps that map (a few
 * hundred bytes per held request) from ever being built.
 *
 * <p>Decodes {@code %XX} as UTF-8 and {@code +} as space; malformed escapes are a
 * {@link BadRequestException}. Names are matched case-insensitively, as icomet (libevent's
 * {@code evhttp_find_header}) matches them, and the first occurrence of a name wins. Stateless; any thread.
 */
public final class Query {
    private Query() {}

    /** The decoded value of {@code name}, or null when absent. */
    public static String get(String query, String name) {
        if (query == null || query.isEmpty()) {
            return null;
        }
        int n = query.length();
        int i = 0;
        while (i <= n) {
            int amp = query.indexOf('&', i);
            if (amp < 0) {
                amp = n;
            }
            int eq = query.indexOf('=', i);
            int keyEnd = eq >= 0 && eq < amp ? eq : amp;
            if (keyEnd - i == name.length() && query.regionMatches(true, i, name, 0, name.length())) {
                return keyEnd == amp ? "" : decode(query, keyEnd + 1, amp);
            }
            i = amp + 1;
        }
        return null;
    }

    /**
     * Every {@code name=value} of a query string or a form-encoded body, decoded, into {@code into}
     * with the name lower-cased; a name already there keeps its value (the first occurrence wins).
     */
    public static void parseAll(String query, java.util.Map<String, String> into) {
        if (query == null || query.isEmpty()) {
            return;
        }
        int n = query.length();
        int i = 0;
        while (i < n) {
            int amp = query.indexOf('&', i);
            if (amp < 0) {
                amp = n;
            }
            int eq = query.indexOf('=', i);
            int keyEnd = eq >= 0 && eq < amp ? eq : amp;
            if (keyEnd > i) {
                String key = decode(query, i, keyEnd).toLowerCase(java.util.Locale.ROOT);
                into.putIfAbsent(key, keyEnd == amp ? "" : decode(query, keyEnd + 1, amp));
            }
            i = amp + 1;
        }
    }

    static String decode(String s, int from, int to) {
        boolean plain = true;
        for (int i = from; i < to; i++) {
            char c = s.charAt(i);
            if (c == '%' || c == '+') {
                plain = false;
                break;
            }
        }
        if (plain) {
            return s.substring(from, to);
        }
        ByteArrayOutputStream out = new ByteArrayOutputStream(to - from);
        for (int i = from; i < to; i++) {
            char c = s.charAt(i);
            if (c == '+') {
                out.write(' ');
            } else if (c == '%') {
                if (i + 2 >= to) {
                    throw new BadRequestException("malformed percent-encoding in query");
                }
                int hi = Character.digit(s.charAt(i + 1), 16);
                int lo = Character.digit(s.charAt(i + 2), 16);
                if (hi < 0 || lo < 0) {
                    throw new BadRequestException("malformed percent-encoding in query");
                }
                out.write((hi << 4) | lo);
                i += 2;
            } else if (c < 0x80) {
                out.write(c);
            } else {
                byte[] b = String.valueOf(c).getBytes(StandardCharsets.UTF_8);
                out.write(b, 0, b.length);
            }
        }
        try {
            // strict: invalid UTF-8 is refused rather than published as replacement characters
            return StandardCharsets.UTF_8.newDecoder()
                    .onMalformedInput(java.nio.charset.CodingErrorAction.REPORT)
                    .onUnmappableCharacter(java.nio.charset.CodingErrorAction.REPORT)
                    .decode(java.nio.ByteBuffer.wrap(out.toByteArray())).toString();
        } catch (java.nio.charset.CharacterCodingException e) {
            throw new BadRequestException("malformed request: parameters are not valid percent-encoded UTF-8");
        }
    }
}
