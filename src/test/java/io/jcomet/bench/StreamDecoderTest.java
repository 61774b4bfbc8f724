package io.jcomet.bench;

import static io.jcomet.bench.DecoderTesting.ascii;
import static io.jcomet.bench.DecoderTesting.chunks;
import static io.jcomet.bench.DecoderTesting.feed;
import static io.jcomet.bench.DecoderTesting.feedEverySplit;
import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.List;
import org.junit.jupiter.api.Test;

/** The /stream decoder: the head, then one event per JSON line, whatever the chunks and the split. */
class StreamDecoderTest {

    private static final String HEAD = "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nTransfer-Encoding: chunked\r\n\r\n";
    private static final String L1 = "{\"type\":\"data\",\"seq\":1,\"content\":\"a\u00e9\"}\n";
    private static final String L2 = "{\"type\":\"noop\",\"seq\":0}\n";
    private static final String L3 = "{\"type\":\"data\",\"seq\":2}\n";

    @Test
    void requestAsksForTheStreamFromTheSeq() {
        assertEquals("GET /stream?cname=c&seq=4&noop=0&epoch= HTTP/1.1\r\nHost: h\r\n\r\n",
                new StreamDecoder().request("c", 4, 0, "h"));
    }

    @Test
    void headThenEveryLineInOrderThoughChunksCutLines() {
        // the server's chunks do not follow the lines: one ends inside L2, a blank line between
        String body = L1 + L2 + "\n" + L3;
        String wire = HEAD + chunks(body.substring(0, L1.length() + 5), body.substring(L1.length() + 5));
        List<String> events = feedEverySplit(StreamDecoder::new, ascii(wire));
        assertEquals(List.of("opened", "messages data:1", "messages noop:0", "messages data:2"), events);
    }

    @Test
    void aLineThatIsNotJsonIsReportedAndTheStreamGoesOn() {
        assertEquals(List.of("opened", "bad stream line", "messages data:2"),
                feed(new StreamDecoder(), ascii(HEAD + chunks("{\"type\":\n", L3))));
    }

    @Test
    void theEndOfTheStreamIsAnAnswerWithTheLinesNotTakenYet() {
        String first = HEAD + chunks(L1);
        String wire = first + chunks(L2 + L3) + "0\r\n\r\n";
        assertEquals(List.of("opened", "messages data:1", "answer 200 keep-alive noop:0 data:2"),
                feed(new StreamDecoder(), ascii(wire), ascii(first).length));
        assertEquals(List.of("opened", "answer 200 keep-alive data:1 noop:0 data:2"),
                feed(new StreamDecoder(), ascii(wire)), "every message once, as a line or in the last answer");
    }

    @Test
    void aRefusalIsAPlainAnswer() {
        String body = "{\"type\":\"429\",\"content\":\"x\"}";
        String refused = "HTTP/1.1 429 Too Many Requests\r\nContent-Length: " + body.length() + "\r\n\r\n" + body;
        assertEquals(List.of("answer 429 keep-alive 429:null"), feed(new StreamDecoder(), ascii(refused)));
    }

    @Test
    void aNewRequestOnAResetDecoderStartsFromTheHeadAgain() {
        StreamDecoder d = new StreamDecoder();
        feed(d, ascii(HEAD + chunks(L1.substring(0, 5))));
        d.reset();
        d.request("c", 2, 0, "h");
        assertEquals(List.of("opened", "messages data:2"), feed(d, ascii(HEAD + chunks(L3))));
    }
}
