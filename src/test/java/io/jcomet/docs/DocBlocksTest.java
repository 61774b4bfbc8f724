package io.jcomet.docs;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import org.junit.jupiter.api.Test;

/** The docs check's reading of markdown, its port rewriting and its output comparison. */
class DocBlocksTest {

    @Test
    void sessionsListsAndDirectivesAreRead() {
        List<DocBlocks.Block> blocks = DocBlocks.parse(List.of(
                "Text.",
                "```sh",
                "$ curl \"http://127.0.0.1:8100/sub?cname=12&seq=1\"   # held",
                "{\"type\":\"data\",\"seq\":1}",
                "",
                "$ curl \"http://127.0.0.1:8000/push?cname=12&content=hi\"",
                "{\"type\":\"ok\",\"seq\":1}",
                "```",
                "<!-- docs-check: skip (needs root) -->",
                "",
                "```bash",
                "sysctl -w a=b",
                "```",
                "```html",
                "<p>not a command</p>",
                "```",
                "<!-- docs-check: exit 1 (host-dependent) -->",
                "```sh",
                "curl \"http://x:8100/ping\"   # icomet_cb({\"type\":\"ping\"});",
                "curl -N \"http://x:8100/stream?cname=a#b\" \\",
                "  --max-time 1   # stays open",
                "# a comment line",
                "```"), "t.md");
        assertEquals(3, blocks.size(), "html is not a shell block");

        DocBlocks.Block session = blocks.get(0);
        assertEquals(2, session.line());
        assertEquals(List.of("{\"type\":\"data\",\"seq\":1}"), session.commands().get(0).expected());
        assertEquals("curl \"http://127.0.0.1:8100/sub?cname=12&seq=1\"", session.commands().get(0).text());
        assertEquals("t.md:6", session.commands().get(1).where());

        assertEquals("needs root", blocks.get(1).skipReason(), "a directive applies across blank lines");

        DocBlocks.Block list = blocks.get(2);
        assertEquals(List.of(0, 1), list.okExits());
        assertEquals(List.of("icomet_cb({\"type\":\"ping\"});"), list.commands().get(0).expected(), "an answer-like comment is output");
        assertEquals("curl -N \"http://x:8100/stream?cname=a#b\"  --max-time 1", list.commands().get(1).text(),
                "continuation joined; # inside quotes is not a comment");
        assertEquals(List.of(), list.commands().get(1).expected(), "a prose comment is not output");
        assertEquals(2, list.commands().size());
    }

    @Test
    void aSkipWithoutReasonIsAProblem() {
        DocBlocks.Block b = DocBlocks.parse(List.of("<!-- docs-check: skip -->", "```sh", "x", "```"), "t.md").get(0);
        assertEquals(1, b.problems().size(), b.problems().toString());
    }

    @Test
    void portsAreRewrittenToTheServersPorts() {
        Map<Integer, Integer> ports = new LinkedHashMap<>();
        ports.put(8000, 24000);
        for (int i = 0; i < 100; i++) {
            ports.put(8100 + i, 24001 + i);
        }
        assertEquals("curl \"http://127.0.0.1:24000/push\" && curl http://127.0.0.1:24100/ping",
                DocsCommandsIT.rewrite("curl \"http://127.0.0.1:8000/push\" && curl http://127.0.0.1:8199/ping", ports));
        String grep = DocsCommandsIT.rewrite("ss -ltn | grep -c ':81[0-9][0-9]'", ports);
        assertTrue(grep.startsWith("ss -ltn | grep -c ':\\(24001\\|24002\\|") && grep.endsWith("\\|24100\\)'"), grep);
        assertEquals("curl http://127.0.0.1:8080/ping", DocsCommandsIT.rewrite("curl http://127.0.0.1:8080/ping", ports),
                "a port this server has no counterpart for stays, and fails visibly");
        assertEquals("{\"seq\":1234,\"max\":1000000}", DocsCommandsIT.rewrite("{\"seq\":1234,\"max\":1000000}", ports));
    }

    @Test
    void jsonIsComparedFieldWiseWithPlaceholders() {
        assertNull(OutputMatch.mismatch("{\"type\":\"next_seq\",\"seq\":2,\"epoch\":\"...\"}",
                "{\"epoch\":\"tp2wg.1\",\"type\":\"next_seq\",\"seq\":2}"));
        assertNotNull(OutputMatch.mismatch("{\"type\":\"next_seq\",\"seq\":2}", "{\"type\":\"next_seq\",\"seq\":3}"));
        assertTrue(OutputMatch.mismatch("{\"type\":\"ok\",\"seq\":1}", "{\"type\":\"ok\",\"seq\":1,\"epoch\":\"x\"}")
                .contains("[epoch]"), "a member the doc does not show is reported");
        assertNull(OutputMatch.mismatch("{\"type\":\"ok\", ...}", "{\"type\":\"ok\",\"seq\":1,\"epoch\":\"x\"}"));
        assertNotNull(OutputMatch.mismatch("{\"type\":\"ok\"}", "{\"type\":\"error\",\"reason\":\"missing content\"}"));
        assertNull(OutputMatch.mismatch("icomet_cb({\"type\":\"ping\",\"sub_timeout\":30});",
                "icomet_cb({\"type\":\"ping\",\"sub_timeout\":30});"));
        assertNotNull(OutputMatch.mismatch("icomet_cb({\"type\":\"ping\",\"sub_timeout\":30});",
                "cb({\"type\":\"ping\",\"sub_timeout\":30});"));
        assertNotNull(OutputMatch.mismatch("{\"type\":\"ok\"}", "ok"));
        assertNull(OutputMatch.mismatch("{\"a\":{\"b\":1.50, ...},\"c\":\"x, ...}\"}", "{\"c\":\"x, ...}\",\"a\":{\"d\":2,\"b\":1.5}}"),
                "a nested object may be abbreviated; ... inside a string is text; numbers compare by value");
        assertNotNull(OutputMatch.mismatch("{\"c\":\"x, ...}\"}", "{\"c\":\"x\",\"d\":1}"), "... in a string opens nothing");
        assertTrue(OutputMatch.mismatch("{\"a\":1", "{\"a\":1}").startsWith("the doc's JSON does not parse"));
        assertTrue(OutputMatch.mismatch("{\"a\":1}", "{\"a\":1} trailing").startsWith("not JSON"));
    }

    @Test
    void textIsComparedWithWildcardsAndLooseSpaces() {
        assertNull(OutputMatch.mismatch("LISTEN 0 ...127.0.0.1...:8000 ...",
                "LISTEN 0      1024   [::ffff:127.0.0.1]:8000            *:*"));
        assertNull(OutputMatch.mismatch("LISTEN 0 ...127.0.0.1...:8000 ...", "LISTEN 0      1024   127.0.0.1:8000   0.0.0.0:*"));
        assertNotNull(OutputMatch.mismatch("LISTEN 0 ...127.0.0.1...:8000 ...", "LISTEN 0      1024   0.0.0.0:8000   0.0.0.0:*"));
        assertNull(OutputMatch.mismatch("100", "100"));
        assertNotNull(OutputMatch.mismatch("100", "99"));
    }

    @Test
    void anUploadedFileMustBeCreatedByTheBlockForTheReader() {
        List<DocBlocks.Block> blocks = DocBlocks.parse(List.of(
                "```sh",
                "curl --data-binary @message.txt \"http://127.0.0.1:8000/push?cname=12&raw=1\"",
                "```",
                "```sh",
                "printf 'a message' > message.txt   # a file to publish",
                "curl --data-binary @message.txt \"http://127.0.0.1:8000/push?cname=12&raw=1\" 2>&1",
                "curl -F f=@message.txt http://x/ > /dev/null",
                "```"), "t.md");
        assertEquals(1, blocks.get(0).problems().size(), "a file nothing in the block creates: " + blocks.get(0).problems());
        assertTrue(blocks.get(0).problems().get(0).startsWith("t.md:2: reads @message.txt"), blocks.get(0).problems().get(0));
        assertEquals(List.of(), blocks.get(1).problems());
        assertEquals(List.of("message.txt"), blocks.get(1).writes(), "created by the block (removed after the check); /dev/null and 2>&1 are not files");
    }
}
