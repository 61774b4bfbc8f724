package io.jcomet.protocol;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.Test;

class JsonTest {
    private static final ObjectMapper JSON = new ObjectMapper();

    /** Every class of code point: ASCII controls, printable ASCII, DEL, Latin, CJK, line separators, astral, lone surrogates. */
    private static String everyClass() {
        StringBuilder s = new StringBuilder();
        for (char c = 0; c < 0x80; c++) {
            s.append(c);
        }
        s.append("é中文\u0080\u009f\u00a0\u2028\u2029\ufeff\uffff");
        s.appendCodePoint(0x1F600).appendCodePoint(0x10FFFF); // astral: surrogate pairs
        s.append('\ud800').append('x').append('\udc00');       // lone high and lone low surrogate
        s.append("</script><script>alert(1)</script>&amp;<!--");
        return s.toString();
    }

    @Test
    void everyCodePointClassParsesBackWithARealJsonParser() throws Exception {
        String content = everyClass();
        byte[] bytes = Messages.data("data", "c1", 7, content);
        JsonNode node = JSON.readTree(bytes);
        assertEquals("data", node.get("type").asText());
        assertEquals(7, node.get("seq").asInt());
        assertEquals(content, node.get("content").asText());
    }

    @Test
    void outputCannotEndAScriptElementNorBreakJavaScript() {
        String out = new String(Messages.data("data", "c1", 1, everyClass()), StandardCharsets.UTF_8);
        String inner = out.substring(1, out.length() - 1);
        assertFalse(inner.contains("<"), out);
        assertFalse(inner.contains(">"), out);
        assertFalse(inner.contains("&"), out);
        assertFalse(out.contains("\u2028") || out.contains("\u2029"), "line separators must be escaped");
        for (char c : out.toCharArray()) {
            assertFalse(c < 0x20 || c == 0x7f, "raw control character " + (int) c);
        }
    }

    @Test
    void lonesurrogatesAreEscapedSoTheBytesAreValidUtf8() {
        String out = Json.quote(new StringBuilder(), "a\ud800b").toString();
        assertEquals("\"a\\ud800b\"", out);
    }

    @Test
    void pubBodyIsDecodedOrRefused() {
        assertEquals("a\"b\n\u00e9/", Json.unescapeBody("a\\\"b\\n\\u00e9\\/"));
        assertNull(Json.unescapeBody("raw \" quote"));
        assertNull(Json.unescapeBody("bad \\x escape"));
        assertNull(Json.unescapeBody("short \\u12"));
        assertNull(Json.unescapeBody("trailing \\"));
        assertNull(Json.unescapeBody("raw\ttab"));
    }
}
