package io.jcomet.ws;

import java.util.HashMap;
import java.util.Map;

/**
 * A frame a WebSocket client sends: one flat JSON object whose values are strings or integers,
 * such as {@code {"op":"sub","cname":"news","seq":12,"token":"..."}}. Nested values, arrays,
 * booleans and duplicate keys are refused: the protocol has none, and a strict reader gives a
 * client a clear error instead of a guess. Numbers are kept as their text.
 *
 * <p>Stateless; any thread.
 */
final class ClientFrame {
    private ClientFrame() {}

    /** Thrown for anything that is not a flat JSON object; the message says what was wrong. */
    static final class BadFrame extends Exception {
        private static final long serialVersionUID = 1L;

        BadFrame(String message) {
            super(message, null, false, false);
        }
    }

    static Map<String, String> parse(String s) throws BadFrame {
        Map<String, String> out = new HashMap<>(8);
        int[] pos = {skip(s, 0)};
        expect(s, pos, '{');
        if (peek(s, pos) == '}') {
            pos[0]++;
        } else {
            while (true) {
                String key = string(s, pos);
                expect(s, pos, ':');
                char c = peek(s, pos);
                String value = c == '"' ? string(s, pos) : number(s, pos);
                if (out.put(key, value) != null) {
                    throw new BadFrame("duplicate key " + key);
                }
                char sep = peek(s, pos);
                pos[0]++;
                if (sep == '}') {
                    break;
                }
                if (sep != ',') {
                    throw new BadFrame("expected , or } at " + (pos[0] - 1));
                }
                pos[0] = skip(s, pos[0]);
            }
        }
        if (skip(s, pos[0]) != s.length()) {
            throw new BadFrame("text after the JSON object");
        }
        return out;
    }

    private static int skip(String s, int i) {
        while (i < s.length() && (s.charAt(i) == ' ' || s.charAt(i) == '\t' || s.charAt(i) == '\n' || s.charAt(i) == '\r')) {
            i++;
        }
        return i;
    }

    private static char peek(String s, int[] pos) throws BadFrame {
        pos[0] = skip(s, pos[0]);
        if (pos[0] >= s.length()) {
            throw new BadFrame("unexpected end of frame");
        }
        return s.charAt(pos[0]);
    }

    private static void expect(String s, int[] pos, char c) throws BadFrame {
        if (peek(s, pos) != c) {
            throw new BadFrame("expected " + c + " at " + pos[0] + " (frames are JSON objects such as {\"op\":\"sub\",\"cname\":\"c\"})");
        }
        pos[0]++;
    }

    private static String number(String s, int[] pos) throws BadFrame {
        int start = pos[0];
        int i = start;
        if (i < s.length() && s.charAt(i) == '-') {
            i++;
        }
        while (i < s.length() && Character.isDigit(s.charAt(i))) {
            i++;
        }
        if (i == start || (i == start + 1 && s.charAt(start) == '-')) {
            throw new BadFrame("values must be strings or integers (at " + start + ")");
        }
        pos[0] = i;
        return s.substring(start, i);
    }

    private static String string(String s, int[] pos) throws BadFrame {
        if (peek(s, pos) != '"') {
            throw new BadFrame("expected a string at " + pos[0]);
        }
        StringBuilder b = new StringBuilder();
        int i = pos[0] + 1;
        while (true) {
            if (i >= s.length()) {
                throw new BadFrame("unterminated string");
            }
            char c = s.charAt(i++);
            if (c == '"') {
                break;
            }
            if (c < 0x20) {
                throw new BadFrame("control character in a string");
            }
            if (c != '\\') {
                b.append(c);
                continue;
            }
            if (i >= s.length()) {
                throw new BadFrame("unterminated string");
            }
            char e = s.charAt(i++);
            switch (e) {
                case '"': case '\\': case '/': b.append(e); break;
                case 'n': b.append('\n'); break;
                case 'r': b.append('\r'); break;
                case 't': b.append('\t'); break;
                case 'b': b.append('\b'); break;
                case 'f': b.append('\f'); break;
                case 'u':
                    if (i + 4 > s.length()) {
                        throw new BadFrame("bad \\u escape");
                    }
                    try {
                        b.append((char) Integer.parseInt(s.substring(i, i + 4), 16));
                    } catch (NumberFormatException x) {
                        throw new BadFrame("bad \\u escape");
                    }
                    i += 4;
                    break;
                default: throw new BadFrame("bad escape \\" + e);
            }
        }
        pos[0] = i;
        return b.toString();
    }
}
