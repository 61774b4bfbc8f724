package io.jcomet.bench;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** The load client's HTTP/1.1 response parser, fed canned bytes whole and split at every offset. */
class HttpResponseParserTest {

    private static final String MSG = "{\"type\":\"data\",\"cname\":\"c\",\"seq\":7,\"content\":\"hello\"}\n";

    private static final String LENGTH = "HTTP/1.1 200 OK\r\nContent-Type: application/json; charset=utf-8\r\n"
            + "Content-Length: " + MSG.length() + "\r\n\r\n" + MSG;

    private static final String PART1 = "[{\"type\":\"data\",\"seq\":1,\"";
    private static final String PART2 = "content\":\"a\"},{\"type\":\"data\",\"seq\":2}]";

    private static final String CHUNKED = "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
            + Integer.toHexString(PART1.length()) + "\r\n" + PART1 + "\r\n"
            + Integer.toHexString(PART2.length()) + ";ext=1\r\n" + PART2 + "\r\n"
            + "0\r\nX-Trailer: t\r\n\r\n";

    private static ByteBuffer bytes(String s) {
        return ByteBuffer.wrap(s.getBytes(StandardCharsets.UTF_8));
    }

    @Test
    void contentLengthBodyWhole() throws Exception {
        HttpResponseParser p = new HttpResponseParser();
        HttpResponse r = p.feed(bytes(LENGTH));
        assertNotNull(r);
        assertEquals(200, r.status());
        assertEquals("application/json; charset=utf-8", r.header("content-type"));
        assertTrue(r.keepAlive());
        List<Map<String, Object>> msgs = Json.messages(r.bodyText());
        assertEquals(1, msgs.size());
        assertEquals("data", msgs.get(0).get("type"));
        assertEquals(7L, msgs.get(0).get("seq"));
        assertEquals("hello", msgs.get(0).get("content"));
    }

    @Test
    void streamingGivesTheHeadThenEveryLineWhateverTheSplit() throws Exception {
        String l1 = "{\"type\":\"data\",\"seq\":1,\"content\":\"a\u00e9\"}\n";
        String l2 = "{\"type\":\"noop\",\"seq\":0}\n";
        byte[] body = (l1 + l2).getBytes(StandardCharsets.UTF_8);
        // the server's chunks do not follow the lines: one chunk ends inside the second line
        int cutInBody = l1.getBytes(StandardCharsets.UTF_8).length + 5;
        java.io.ByteArrayOutputStream w = new java.io.ByteArrayOutputStream();
        w.writeBytes("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n".getBytes(StandardCharsets.US_ASCII));
        w.writeBytes((Integer.toHexString(cutInBody) + "\r\n").getBytes(StandardCharsets.US_ASCII));
        w.write(body, 0, cutInBody);
        w.writeBytes(("\r\n" + Integer.toHexString(body.length - cutInBody) + "\r\n").getBytes(StandardCharsets.US_ASCII));
        w.write(body, cutInBody, body.length - cutInBody);
        w.writeBytes("\r\n".getBytes(StandardCharsets.US_ASCII));
        byte[] all = w.toByteArray();
        for (int cut = 1; cut < all.length; cut++) {
            HttpResponseParser p = new HttpResponseParser();
            p.streaming(true);
            List<String> lines = new java.util.ArrayList<>();
            HttpResponse head = null;
            for (ByteBuffer part : new ByteBuffer[] {ByteBuffer.wrap(all, 0, cut), ByteBuffer.wrap(all, cut, all.length - cut)}) {
                while (part.hasRemaining()) {
                    HttpResponse r = p.feed(part);
                    if (r != null) {
                        assertNull(head, "one head only, at cut " + cut);
                        head = r;
                        assertTrue(p.inProgress(), "the stream goes on after its head");
                    }
                    for (String l; (l = p.takeLine()) != null; ) {
                        lines.add(l);
                    }
                }
            }
            assertNotNull(head, "head at cut " + cut);
            assertEquals(200, head.status());
            assertEquals(List.of(l1.strip(), l2.strip()), lines, "cut " + cut);
        }
    }

    @Test
    void everySplitPointGivesTheSameResponse() throws Exception {
        for (String wire : new String[] {LENGTH, CHUNKED}) {
            byte[] all = wire.getBytes(StandardCharsets.UTF_8);
            HttpResponse whole = new HttpResponseParser().feed(ByteBuffer.wrap(all));
            assertNotNull(whole);
            for (int cut = 1; cut < all.length; cut++) {
                HttpResponseParser p = new HttpResponseParser();
                ByteBuffer a = ByteBuffer.wrap(all, 0, cut);
                assertNull(p.feed(a), "complete too early at cut " + cut);
                assertFalse(a.hasRemaining());
                HttpResponse r = p.feed(ByteBuffer.wrap(all, cut, all.length - cut));
                assertNotNull(r, "incomplete at cut " + cut);
                assertEquals(whole.bodyText(), r.bodyText(), "cut " + cut);
            }
            // one byte at a time
            HttpResponseParser p = new HttpResponseParser();
            HttpResponse r = null;
            for (int i = 0; i < all.length; i++) {
                HttpResponse x = p.feed(ByteBuffer.wrap(all, i, 1));
                if (x != null) {
                    assertEquals(all.length - 1, i, "completed before the last byte");
                    r = x;
                }
            }
            assertNotNull(r);
            assertEquals(whole.bodyText(), r.bodyText());
        }
    }

    @Test
    void chunkedBodyIsReassembledAndArrayGivesEveryMessage() throws Exception {
        HttpResponse r = new HttpResponseParser().feed(bytes(CHUNKED));
        assertNotNull(r);
        assertEquals("[{\"type\":\"data\",\"seq\":1,\"content\":\"a\"},{\"type\":\"data\",\"seq\":2}]", r.bodyText());
        List<Map<String, Object>> msgs = Json.messages(r.bodyText());
        assertEquals(2, msgs.size());
        assertEquals(1L, msgs.get(0).get("seq"));
        assertEquals(2L, msgs.get(1).get("seq"));
    }

    @Test
    void twoResponsesOnOneKeepAliveConnection() throws Exception {
        HttpResponseParser p = new HttpResponseParser();
        ByteBuffer b = bytes(LENGTH + CHUNKED);
        HttpResponse first = p.feed(b);
        assertNotNull(first);
        assertTrue(b.hasRemaining(), "bytes of the second response must stay in the buffer");
        HttpResponse second = p.feed(b);
        assertNotNull(second);
        assertEquals(2, Json.messages(second.bodyText()).size());
    }

    @Test
    void connectionCloseAndBodyUntilEof() throws Exception {
        HttpResponseParser p = new HttpResponseParser();
        assertNull(p.feed(bytes("HTTP/1.0 200 OK\r\nConnection: close\r\n\r\nok 12")));
        HttpResponse r = p.eof();
        assertNotNull(r);
        assertEquals("ok 12", r.bodyText());
        assertFalse(r.keepAlive());

        HttpResponse c = new HttpResponseParser().feed(
                bytes("HTTP/1.1 404 Not Found\r\nConnection: close\r\nContent-Length: 2\r\n\r\n{}"));
        assertEquals(404, c.status());
        assertFalse(c.keepAlive());
    }

    @Test
    void cutShortResponseAndGarbageAreErrors() throws Exception {
        HttpResponseParser p = new HttpResponseParser();
        assertNull(p.feed(bytes("HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nabc")));
        assertThrows(HttpResponseParser.BadResponseException.class, p::eof);
        assertThrows(HttpResponseParser.BadResponseException.class,
                () -> new HttpResponseParser().feed(bytes("SSH-2.0-OpenSSH\r\n")));
        assertThrows(HttpResponseParser.BadResponseException.class,
                () -> new HttpResponseParser().feed(bytes("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n")));
        assertNull(new HttpResponseParser().eof(), "nothing pending at a clean end");
    }

    @Test
    void jsonpAndSingleMessagesAndStreamLines() {
        List<Map<String, Object>> a = Json.messages("icomet_cb_0([{\"type\":\"data\",\"seq\":3},{\"type\":\"data\",\"seq\":4}]);");
        assertEquals(2, a.size());
        assertEquals(4L, a.get(1).get("seq"));
        List<Map<String, Object>> b = Json.messages("cb({\"type\":\"noop\",\"cname\":\"c\",\"seq\":0});");
        assertEquals("noop", b.get(0).get("type"));
        List<Map<String, Object>> c = Json.messages("{\"type\":\"data\",\"seq\":1}\n{\"type\":\"data\",\"seq\":2}\n");
        assertEquals(2, c.size());
        Map<String, Object> d = Json.messages("{\"type\":\"data\",\"seq\":9,\"content\":\"t=5 \\u003cb\\u003e\\n\"}").get(0);
        assertEquals("t=5 <b>\n", d.get("content"));
        assertThrows(Json.JsonException.class, () -> Json.messages("{\"type\":"));
    }
}
