package io.jcomet.protocol;

import java.nio.charset.StandardCharsets;

/**
 * JSON string escaping that is also safe inside HTML {@code <script>} blocks.
 *
 * <p>Escapes {@code "} and {@code \}, every control character below U+0020 and DEL, U+2028/U+2029
 * (line terminators in older JavaScript), {@code <}, {@code >} and {@code &} (as {@code \u003c}...
 * so no content can close a {@code <script>} element in the JSONP or iframe transports), and lone
 * surrogates (which have no UTF-8 encoding). Everything else is emitted as UTF-8, unescaped.
 *
 * <p>Stateless; every method is safe from any thread.
 */
public final class Json {
    private static final byte[] HEX = "0123456789abcdef".getBytes(StandardCharsets.US_ASCII);

    private Json() {}

    /** Appends {@code s} as a quoted JSON string. */
    public static StringBuilder quote(StringBuilder out, CharSequence s) {
        out.append('"');
        escape(out, s);
        return out.append('"');
    }

    /** Appends the escaped body of a JSON string (no quotes). */
    public static StringBuilder escape(StringBuilder out, CharSequence s) {
        int n = s.length();
        for (int i = 0; i < n; i++) {
            char c = s.charAt(i);
            switch (c) {
                case '"': out.append("\\\""); break;
                case '\\': out.append("\\\\"); break;
                case '\n': out.append("\\n"); break;
                case '\r': out.append("\\r"); break;
                case '\t': out.append("\\t"); break;
                case '\b': out.append("\\b"); break;
                case '\f': out.append("\\f"); break;
                default:
                    if (c < 0x20 || c == 0x7f || c == '<' || c == '>' || c == '&'
                            || c == '\u2028' || c == '\u2029') {
                        unicodeEscape(out, c);
                    } else if (Character.isSurrogate(c)) {
                        if (Character.isHighSurrogate(c) && i + 1 < n && Character.isLowSurrogate(s.charAt(i + 1))) {
                            out.append(c).append(s.charAt(++i));
                        } else {
                            unicodeEscape(out, c); // lone surrogate: keep the JSON valid and UTF-8 encodable
                        }
                    } else {
                        out.append(c);
                    }
            }
        }
        return out;
    }

    private static void unicodeEscape(StringBuilder out, char c) {
        out.append("\\u")
                .append((char) HEX[(c >> 12) & 15]).append((char) HEX[(c >> 8) & 15])
                .append((char) HEX[(c >> 4) & 15]).append((char) HEX[c & 15]);
    }

    /**
     * Decodes the body of a JSON string (what icomet's {@code /pub} receives: already escaped, no
     * surrounding quotes). Returns null when it is not a valid JSON string body: an unescaped
     * {@code "} or control character, or a bad escape.
     */
    public static String unescapeBody(CharSequence s) {
        StringBuilder out = new StringBuilder(s.length());
        int n = s.length();
        for (int i = 0; i < n; i++) {
            char c = s.charAt(i);
            if (c == '"' || c < 0x20) {
                return null;
            }
            if (c != '\\') {
                out.append(c);
                continue;
            }
            if (++i >= n) {
                return null;
            }
            char e = s.charAt(i);
            switch (e) {
                case '"': out.append('"'); break;
                case '\\': out.append('\\'); break;
                case '/': out.append('/'); break;
                case 'b': out.append('\b'); break;
                case 'f': out.append('\f'); break;
                case 'n': out.append('\n'); break;
                case 'r': out.append('\r'); break;
                case 't': out.append('\t'); break;
                case 'u':
                    if (i + 4 >= n) {
                        return null;
                    }
                    int v = 0;
                    for (int k = 1; k <= 4; k++) {
                        int d = Character.digit(s.charAt(i + k), 16);
                        if (d < 0) {
                            return null;
                        }
                        v = (v << 4) | d;
                    }
                    out.append((char) v);
                    i += 4;
                    break;
                default:
                    return null;
            }
        }
        return out.toString();
    }
}
