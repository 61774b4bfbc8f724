package io.jcomet.docs;

import java.math.BigDecimal;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Does a line a command printed match the line the doc shows? Placeholders let the doc show what
 * varies from run to run (epochs, tokens, counters, pids):
 * <ul>
 *   <li>JSON (and JSONP, {@code icomet_cb({...});}) is compared field by field, in any order: a
 *       shown value {@code "..."} matches any value; an object whose last member is {@code ...}
 *       ({@code {"type":"ok", ...}}) may have more members than shown, otherwise the members must be
 *       exactly the shown ones;</li>
 *   <li>any other line is compared as text with runs of white space equal and {@code ...} matching
 *       any text.</li>
 * </ul>
 * Threads: stateless.
 */
final class OutputMatch {

    private static final Pattern JSONP = Pattern.compile("^([A-Za-z_$][\\w$.]*)\\((.*)\\);?$");
    private static final Object ANY = new Object();
    private static final String OPEN = "\u0000more members allowed";

    private OutputMatch() {
    }

    /** Null when {@code actual} matches {@code expected}, else what differs. */
    static String mismatch(String expected, String actual) {
        String e = expected.strip();
        String a = actual.strip();
        Matcher je = JSONP.matcher(e);
        Matcher ja = JSONP.matcher(a);
        if (je.matches() && (e.contains("{") || e.contains("["))) {
            if (!ja.matches()) {
                return "expected a " + je.group(1) + "(...) answer";
            }
            if (!je.group(1).equals(ja.group(1))) {
                return "callback " + ja.group(1) + ", expected " + je.group(1);
            }
            return jsonMismatch(je.group(2), ja.group(2));
        }
        if (e.startsWith("{") || e.startsWith("[")) {
            return jsonMismatch(e, a);
        }
        StringBuilder re = new StringBuilder();
        String[] parts = e.split("\\.\\.\\.", -1);
        for (int i = 0; i < parts.length; i++) {
            if (i > 0) {
                re.append(".*");
            }
            String[] words = parts[i].split("\\s+", -1);
            for (int w = 0; w < words.length; w++) {
                if (w > 0) {
                    re.append("\\s+");
                }
                re.append(Pattern.quote(words[w]));
            }
        }
        return Pattern.compile(re.toString(), Pattern.DOTALL).matcher(a).matches() ? null : "text differs";
    }

    private static String jsonMismatch(String expected, String actual) {
        Object e;
        Object a;
        try {
            e = new Parser(expected, true).document();
        } catch (IllegalArgumentException ex) {
            return "the doc's JSON does not parse: " + ex.getMessage();
        }
        try {
            a = new Parser(actual, false).document();
        } catch (IllegalArgumentException ex) {
            return "not JSON: " + ex.getMessage();
        }
        return compare("$", e, a);
    }

    @SuppressWarnings("unchecked")
    private static String compare(String path, Object e, Object a) {
        if (e == ANY) {
            return null;
        }
        if (e instanceof Map) {
            if (!(a instanceof Map)) {
                return path + ": expected an object";
            }
            Map<String, Object> em = (Map<String, Object>) e;
            Map<String, Object> am = (Map<String, Object>) a;
            for (Map.Entry<String, Object> m : em.entrySet()) {
                if (m.getKey().equals(OPEN)) {
                    continue;
                }
                if (!am.containsKey(m.getKey())) {
                    return path + "." + m.getKey() + " missing";
                }
                String d = compare(path + "." + m.getKey(), m.getValue(), am.get(m.getKey()));
                if (d != null) {
                    return d;
                }
            }
            if (!em.containsKey(OPEN)) {
                List<String> extra = new ArrayList<>(am.keySet());
                extra.removeAll(em.keySet());
                if (!extra.isEmpty()) {
                    return path + ": members the doc does not show: " + extra
                            + " (show them, or end the object with ... when it is abbreviated)";
                }
            }
            return null;
        }
        if (e instanceof List) {
            if (!(a instanceof List)) {
                return path + ": expected an array";
            }
            List<Object> el = (List<Object>) e;
            List<Object> al = (List<Object>) a;
            if (el.size() != al.size()) {
                return path + ": " + al.size() + " elements, expected " + el.size();
            }
            for (int i = 0; i < el.size(); i++) {
                String d = compare(path + "[" + i + "]", el.get(i), al.get(i));
                if (d != null) {
                    return d;
                }
            }
            return null;
        }
        if (e instanceof BigDecimal && a instanceof BigDecimal) {
            return ((BigDecimal) e).compareTo((BigDecimal) a) == 0 ? null : path + ": " + a + ", expected " + e;
        }
        return java.util.Objects.equals(e, a) ? null : path + ": " + a + ", expected " + e;
    }

    /** A small JSON reader; in the doc's JSON, {@code "..."} and a trailing {@code ...} are placeholders. */
    private static final class Parser {
        private final String s;
        private final boolean placeholders;
        private int i;

        Parser(String s, boolean placeholders) {
            this.s = s;
            this.placeholders = placeholders;
        }

        Object document() {
            Object v = value();
            ws();
            if (i != s.length()) {
                throw new IllegalArgumentException("text after the JSON at " + i);
            }
            return v;
        }

        private Object value() {
            ws();
            if (i >= s.length()) {
                throw new IllegalArgumentException("ends early");
            }
            char c = s.charAt(i);
            if (c == '{') {
                i++;
                Map<String, Object> m = new LinkedHashMap<>();
                ws();
                if (peek('}')) {
                    return m;
                }
                while (true) {
                    ws();
                    if (placeholders && s.startsWith("...", i)) {
                        i += 3;
                        m.put(OPEN, Boolean.TRUE);
                        ws();
                        expect('}');
                        return m;
                    }
                    String k = string();
                    ws();
                    expect(':');
                    m.put(k, value());
                    ws();
                    if (peek('}')) {
                        return m;
                    }
                    expect(',');
                }
            }
            if (c == '[') {
                i++;
                List<Object> l = new ArrayList<>();
                ws();
                if (peek(']')) {
                    return l;
                }
                while (true) {
                    l.add(value());
                    ws();
                    if (peek(']')) {
                        return l;
                    }
                    expect(',');
                }
            }
            if (c == '"') {
                String str = string();
                return placeholders && str.equals("...") ? ANY : str;
            }
            for (String lit : new String[] {"true", "false", "null"}) {
                if (s.startsWith(lit, i)) {
                    i += lit.length();
                    return lit.equals("null") ? null : Boolean.valueOf(lit);
                }
            }
            int start = i;
            while (i < s.length() && "+-0123456789.eE".indexOf(s.charAt(i)) >= 0) {
                i++;
            }
            if (start == i) {
                throw new IllegalArgumentException("unexpected '" + c + "' at " + i);
            }
            return new BigDecimal(s.substring(start, i));
        }

        private String string() {
            expect('"');
            StringBuilder b = new StringBuilder();
            while (i < s.length() && s.charAt(i) != '"') {
                char c = s.charAt(i++);
                if (c == '\\') {
                    char n = s.charAt(i++);
                    switch (n) {
                        case 'n': b.append('\n'); break;
                        case 't': b.append('\t'); break;
                        case 'r': b.append('\r'); break;
                        case 'b': b.append('\b'); break;
                        case 'f': b.append('\f'); break;
                        case 'u': b.append((char) Integer.parseInt(s.substring(i, i + 4), 16)); i += 4; break;
                        default: b.append(n);
                    }
                } else {
                    b.append(c);
                }
            }
            expect('"');
            return b.toString();
        }

        private void ws() {
            while (i < s.length() && Character.isWhitespace(s.charAt(i))) {
                i++;
            }
        }

        private boolean peek(char c) {
            if (i < s.length() && s.charAt(i) == c) {
                i++;
                return true;
            }
            return false;
        }

        private void expect(char c) {
            if (!peek(c)) {
                throw new IllegalArgumentException("expected '" + c + "' at " + i);
            }
        }
    }
}
