package io.jcomet.bench;

import java.util.ArrayList;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * A small JSON reader (to Map / List / String / Long / Double / Boolean / null) and writer, enough
 * for icomet messages, the admin /info answer and the result files. Stateless; any thread.
 */
final class Json {

    private Json() {
    }

    static final class JsonException extends RuntimeException {
        JsonException(String msg) {
            super(msg);
        }
    }

    // ---------------------------------------------------------------- reading

    static Object parse(String s) {
        Reader r = new Reader(s);
        r.ws();
        Object v = r.value();
        r.ws();
        if (r.i != s.length()) {
            throw new JsonException("trailing characters at " + r.i);
        }
        return v;
    }

    /**
     * Parses a subscribe answer into its messages: a single object, an array of objects (a replayed
     * batch), either of them optionally wrapped as JSONP {@code cb(...);}, or several objects one
     * per line (a stream transport).
     */
    @SuppressWarnings("unchecked")
    static List<Map<String, Object>> messages(String body) {
        String s = body.trim();
        List<Map<String, Object>> out = new ArrayList<>();
        if (s.isEmpty()) {
            return out;
        }
        char c0 = s.charAt(0);
        if (c0 != '{' && c0 != '[') {
            int open = s.indexOf('(');
            int close = s.lastIndexOf(')');
            if (open < 0 || close < open) {
                throw new JsonException("not JSON or JSONP: " + abbreviate(s));
            }
            s = s.substring(open + 1, close).trim();
        }
        if (s.startsWith("[")) {
            for (Object o : (List<Object>) parse(s)) {
                if (!(o instanceof Map)) {
                    throw new JsonException("array element is not an object: " + abbreviate(s));
                }
                out.add((Map<String, Object>) o);
            }
            return out;
        }
        if (s.indexOf('\n') > 0) {
            for (String line : s.split("\n")) {
                if (!line.isBlank()) {
                    out.add(asObject(parse(line.trim())));
                }
            }
            return out;
        }
        out.add(asObject(parse(s)));
        return out;
    }

    @SuppressWarnings("unchecked")
    static Map<String, Object> asObject(Object o) {
        if (!(o instanceof Map)) {
            throw new JsonException("not a JSON object");
        }
        return (Map<String, Object>) o;
    }

    static long getLong(Map<String, Object> m, String key, long dflt) {
        Object v = m.get(key);
        if (v instanceof Number n) {
            return n.longValue();
        }
        if (v instanceof String s) {
            try {
                return Long.parseLong(s.trim());
            } catch (NumberFormatException e) {
                return dflt;
            }
        }
        return dflt;
    }

    static String getString(Map<String, Object> m, String key) {
        Object v = m.get(key);
        return v == null ? null : v.toString();
    }

    static String abbreviate(String s) {
        return s.length() <= 120 ? s : s.substring(0, 117) + "...";
    }

    private static final class Reader {
        final String s;
        int i;

        Reader(String s) {
            this.s = s;
        }

        void ws() {
            while (i < s.length()) {
                char c = s.charAt(i);
                if (c == ' ' || c == '\t' || c == '\n' || c == '\r') {
                    i++;
                } else {
                    break;
                }
            }
        }

        JsonException err(String what) {
            return new JsonException(what + " at " + i + " in " + abbreviate(s));
        }

        Object value() {
            if (i >= s.length()) {
                throw err("unexpected end");
            }
            char c = s.charAt(i);
            switch (c) {
                case '{':
                    return object();
                case '[':
                    return array();
                case '"':
                    return string();
                case 't':
                    return literal("true", Boolean.TRUE);
                case 'f':
                    return literal("false", Boolean.FALSE);
                case 'n':
                    return literal("null", null);
                default:
                    if (c == '-' || (c >= '0' && c <= '9')) {
                        return number();
                    }
                    throw err("unexpected character '" + c + "'");
            }
        }

        Object literal(String word, Object v) {
            if (!s.startsWith(word, i)) {
                throw err("bad literal");
            }
            i += word.length();
            return v;
        }

        Map<String, Object> object() {
            Map<String, Object> m = new LinkedHashMap<>();
            i++; // {
            ws();
            if (peek() == '}') {
                i++;
                return m;
            }
            while (true) {
                ws();
                if (peek() != '"') {
                    throw err("expected a key");
                }
                String k = string();
                ws();
                if (peek() != ':') {
                    throw err("expected ':'");
                }
                i++;
                ws();
                m.put(k, value());
                ws();
                char c = peek();
                i++;
                if (c == '}') {
                    return m;
                }
                if (c != ',') {
                    throw err("expected ',' or '}'");
                }
            }
        }

        List<Object> array() {
            List<Object> l = new ArrayList<>();
            i++; // [
            ws();
            if (peek() == ']') {
                i++;
                return l;
            }
            while (true) {
                ws();
                l.add(value());
                ws();
                char c = peek();
                i++;
                if (c == ']') {
                    return l;
                }
                if (c != ',') {
                    throw err("expected ',' or ']'");
                }
            }
        }

        char peek() {
            if (i >= s.length()) {
                throw err("unexpected end");
            }
            return s.charAt(i);
        }

        String string() {
            i++; // opening quote
            StringBuilder b = null;
            int start = i;
            while (true) {
                if (i >= s.length()) {
                    throw err("unterminated string");
                }
                char c = s.charAt(i);
                if (c == '"') {
                    String r = b == null ? s.substring(start, i) : b.append(s, start, i).toString();
                    i++;
                    return r;
                }
                if (c == '\\') {
                    if (b == null) {
                        b = new StringBuilder();
                    }
                    b.append(s, start, i);
                    i++;
                    char e = peek();
                    switch (e) {
                        case '"', '\\', '/' -> b.append(e);
                        case 'b' -> b.append('\b');
                        case 'f' -> b.append('\f');
                        case 'n' -> b.append('\n');
                        case 'r' -> b.append('\r');
                        case 't' -> b.append('\t');
                        case 'u' -> {
                            if (i + 5 > s.length()) {
                                throw err("bad \\u escape");
                            }
                            try {
                                b.append((char) Integer.parseInt(s.substring(i + 1, i + 5), 16));
                            } catch (NumberFormatException ex) {
                                throw err("bad \\u escape");
                            }
                            i += 4;
                        }
                        default -> throw err("bad escape");
                    }
                    i++;
                    start = i;
                } else {
                    i++;
                }
            }
        }

        Object number() {
            int start = i;
            if (peek() == '-') {
                i++;
            }
            boolean fraction = false;
            while (i < s.length()) {
                char c = s.charAt(i);
                if (c >= '0' && c <= '9') {
                    i++;
                } else if (c == '.' || c == 'e' || c == 'E' || c == '+' || c == '-') {
                    fraction = true;
                    i++;
                } else {
                    break;
                }
            }
            String t = s.substring(start, i);
            try {
                if (!fraction) {
                    return Long.parseLong(t);
                }
                return Double.parseDouble(t);
            } catch (NumberFormatException e) {
                throw err("bad number '" + t + "'");
            }
        }
    }

    // ---------------------------------------------------------------- writing

    /** Writes maps, lists, strings, numbers, booleans and null as indented JSON. */
    static String write(Object v) {
        StringBuilder b = new StringBuilder();
        write(b, v, 0);
        b.append('\n');
        return b.toString();
    }

    private static void write(StringBuilder b, Object v, int indent) {
        if (v == null) {
            b.append("null");
        } else if (v instanceof String s) {
            quote(b, s);
        } else if (v instanceof Double d) {
            if (d.isNaN() || d.isInfinite()) {
                b.append("null");
            } else {
                double x = d;
                if (x == Math.rint(x) && Math.abs(x) < 1e15) {
                    b.append((long) x);
                } else if (Math.abs(x) >= 0.01) {
                    b.append(Math.round(x * 1e4) / 1e4);
                } else {
                    b.append(x);
                }
            }
        } else if (v instanceof Float f) {
            write(b, f.doubleValue(), indent);
        } else if (v instanceof Number || v instanceof Boolean) {
            b.append(v);
        } else if (v instanceof Map<?, ?> m) {
            if (m.isEmpty()) {
                b.append("{}");
                return;
            }
            b.append("{\n");
            Iterator<? extends Map.Entry<?, ?>> it = m.entrySet().iterator();
            while (it.hasNext()) {
                Map.Entry<?, ?> e = it.next();
                pad(b, indent + 1);
                quote(b, String.valueOf(e.getKey()));
                b.append(": ");
                write(b, e.getValue(), indent + 1);
                b.append(it.hasNext() ? ",\n" : "\n");
            }
            pad(b, indent);
            b.append('}');
        } else if (v instanceof Iterable<?> l) {
            Iterator<?> it = l.iterator();
            if (!it.hasNext()) {
                b.append("[]");
                return;
            }
            boolean flat = true;
            for (Object o : l) {
                if (o instanceof Map || o instanceof Iterable) {
                    flat = false;
                    break;
                }
            }
            b.append(flat ? "[" : "[\n");
            while (it.hasNext()) {
                if (!flat) {
                    pad(b, indent + 1);
                }
                write(b, it.next(), indent + 1);
                if (it.hasNext()) {
                    b.append(flat ? ", " : ",\n");
                }
            }
            if (!flat) {
                b.append('\n');
                pad(b, indent);
            }
            b.append(']');
        } else if (v instanceof long[] arr) {
            List<Long> l = new ArrayList<>();
            for (long x : arr) {
                l.add(x);
            }
            write(b, l, indent);
        } else {
            quote(b, v.toString());
        }
    }

    private static void pad(StringBuilder b, int indent) {
        for (int k = 0; k < indent; k++) {
            b.append("  ");
        }
    }

    static void quote(StringBuilder b, String s) {
        b.append('"');
        for (int k = 0; k < s.length(); k++) {
            char c = s.charAt(k);
            switch (c) {
                case '"' -> b.append("\\\"");
                case '\\' -> b.append("\\\\");
                case '\n' -> b.append("\\n");
                case '\r' -> b.append("\\r");
                case '\t' -> b.append("\\t");
                default -> {
                    if (c < 0x20 || c == 0x2028 || c == 0x2029) {
                        b.append(String.format("\\u%04x", (int) c));
                    } else {
                        b.append(c);
                    }
                }
            }
        }
        b.append('"');
    }
}
