package io.jcomet.docs;

import com.fasterxml.jackson.core.JsonParseException;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.util.ArrayList;
import java.util.Iterator;
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
 * JSON is read with Jackson; only the placeholders are this class's own.
 * Threads: stateless.
 */
final class OutputMatch {

    private static final Pattern JSONP = Pattern.compile("^([A-Za-z_$][\\w$.]*)\\((.*)\\);?$");
    private static final String OPEN = "\u0000more members allowed";
    private static final String OPEN_MEMBER = "\"\\u0000more members allowed\":true"; // OPEN, escaped as JSON
    /** Numbers compared by value (1.50 equals 1.5), no text after the JSON value. */
    private static final ObjectMapper MAPPER = new ObjectMapper()
            .enable(DeserializationFeature.USE_BIG_DECIMAL_FOR_FLOATS)
            .enable(DeserializationFeature.FAIL_ON_TRAILING_TOKENS);

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
        JsonNode e;
        JsonNode a;
        try {
            e = read(markOpenObjects(expected));
        } catch (JsonProcessingException ex) {
            return "the doc's JSON does not parse: " + ex.getOriginalMessage();
        }
        try {
            a = read(actual);
        } catch (JsonProcessingException ex) {
            return "not JSON: " + ex.getOriginalMessage();
        }
        return compare("$", e, a);
    }

    private static JsonNode read(String json) throws JsonProcessingException {
        JsonNode n = MAPPER.readTree(json);
        if (n == null || n.isMissingNode()) {
            throw new JsonParseException(null, "no JSON");
        }
        return n;
    }

    /**
     * The doc's {@code ...} as the last member of an object (not valid JSON) becomes the member
     * {@link #OPEN}, so the doc's text parses as JSON; {@code ...} inside strings is left alone.
     */
    static String markOpenObjects(String doc) {
        StringBuilder b = new StringBuilder(doc.length() + 16);
        boolean inString = false;
        for (int i = 0; i < doc.length(); i++) {
            char c = doc.charAt(i);
            if (inString) {
                b.append(c);
                if (c == '\\' && i + 1 < doc.length()) {
                    b.append(doc.charAt(++i));
                } else if (c == '"') {
                    inString = false;
                }
                continue;
            }
            if (c == '"') {
                inString = true;
            } else if (doc.startsWith("...", i)) {
                int close = i + 3;
                while (close < doc.length() && Character.isWhitespace(doc.charAt(close))) {
                    close++;
                }
                if (close < doc.length() && doc.charAt(close) == '}') {
                    b.append(OPEN_MEMBER);
                    i += 2;
                    continue;
                }
            }
            b.append(c);
        }
        return b.toString();
    }

    private static String compare(String path, JsonNode e, JsonNode a) {
        if (e.isTextual() && e.asText().equals("...")) {
            return null; // the doc's placeholder for a value that varies
        }
        if (e.isObject()) {
            if (!a.isObject()) {
                return path + ": expected an object";
            }
            for (Iterator<Map.Entry<String, JsonNode>> it = e.fields(); it.hasNext();) {
                Map.Entry<String, JsonNode> m = it.next();
                if (m.getKey().equals(OPEN)) {
                    continue;
                }
                if (!a.has(m.getKey())) {
                    return path + "." + m.getKey() + " missing";
                }
                String d = compare(path + "." + m.getKey(), m.getValue(), a.get(m.getKey()));
                if (d != null) {
                    return d;
                }
            }
            if (!e.has(OPEN)) {
                List<String> extra = new ArrayList<>();
                a.fieldNames().forEachRemaining(k -> {
                    if (!e.has(k)) {
                        extra.add(k);
                    }
                });
                if (!extra.isEmpty()) {
                    return path + ": members the doc does not show: " + extra
                            + " (show them, or end the object with ... when it is abbreviated)";
                }
            }
            return null;
        }
        if (e.isArray()) {
            if (!a.isArray()) {
                return path + ": expected an array";
            }
            if (e.size() != a.size()) {
                return path + ": " + a.size() + " elements, expected " + e.size();
            }
            for (int i = 0; i < e.size(); i++) {
                String d = compare(path + "[" + i + "]", e.get(i), a.get(i));
                if (d != null) {
                    return d;
                }
            }
            return null;
        }
        if (e.isNumber() && a.isNumber()) {
            return e.decimalValue().compareTo(a.decimalValue()) == 0 ? null : path + ": " + a + ", expected " + e;
        }
        return e.equals(a) ? null : path + ": " + a + ", expected " + e;
    }
}
