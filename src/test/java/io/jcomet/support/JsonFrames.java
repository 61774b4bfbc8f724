package io.jcomet.support;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.util.ArrayList;
import java.util.List;

/**
 * Tests read what the server sends with a real JSON parser (Jackson), never by substring, so a
 * field in the wrong place, a bad escape or a stray byte fails the test instead of passing it.
 */
public final class JsonFrames {
    public static final ObjectMapper MAPPER = new ObjectMapper();

    private JsonFrames() {
    }

    /** Parses one JSON document; an AssertionError (with the text) when it is not valid JSON. */
    public static JsonNode parse(String json) {
        try {
            JsonNode n = MAPPER.readTree(json);
            if (n == null) {
                throw new AssertionError("no JSON in: " + json);
            }
            return n;
        } catch (JsonProcessingException e) {
            throw new AssertionError("not JSON (" + e.getOriginalMessage() + "): " + json, e);
        }
    }

    /** A long-poll answer: one message, or several as an array, as a list of messages. */
    public static List<JsonNode> messages(String json) {
        JsonNode n = parse(json);
        List<JsonNode> out = new ArrayList<>();
        if (n.isArray()) {
            n.forEach(out::add);
        } else {
            out.add(n);
        }
        return out;
    }

    /** {@code type} of a message, failing when it has none. */
    public static String type(JsonNode m) {
        JsonNode t = m.get("type");
        if (t == null || !t.isTextual()) {
            throw new AssertionError("no string type in " + m);
        }
        return t.asText();
    }
}
