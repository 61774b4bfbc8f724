package io.jcomet.bench;

import static io.jcomet.bench.DecoderTesting.ascii;
import static io.jcomet.bench.DecoderTesting.chunks;
import static io.jcomet.bench.DecoderTesting.feed;
import static io.jcomet.bench.DecoderTesting.feedEverySplit;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.util.List;
import org.junit.jupiter.api.Test;

/** The long-poll decoder: each HTTP answer is one event with its messages, whatever the split. */
class LongPollDecoderTest {

    private static final String ONE = "{\"type\":\"data\",\"cname\":\"c\",\"seq\":7,\"content\":\"t=5\"}";
    private static final String BATCH = "[{\"type\":\"data\",\"seq\":8},{\"type\":\"data\",\"seq\":9}]";

    private static String lengthAnswer(String body) {
        return "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: " + ascii(body).length
                + "\r\n\r\n" + body;
    }

    @Test
    void requestSubscribesFromTheSeqWithTheNoopAndAnEmptyEpoch() {
        assertEquals("GET /sub?cname=ch1&seq=12&noop=3&epoch= HTTP/1.1\r\nHost: h\r\n\r\n",
                new LongPollDecoder().request("ch1", 12, 3, "h"));
    }

    @Test
    void oneAnswerThenABatchOnOneKeepAliveConnectionWhateverTheSplit() {
        String chunked = "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
                + chunks(BATCH.substring(0, 10), BATCH.substring(10)) + "0\r\n\r\n";
        List<String> events = feedEverySplit(LongPollDecoder::new, ascii(lengthAnswer(ONE) + chunked));
        assertEquals(List.of("answer 200 keep-alive data:7", "answer 200 keep-alive data:8 data:9"), events);
    }

    @Test
    void refusalsAndBodiesThatAreNotJsonAreAnswersTheReactorJudges() {
        String body = "{\"type\":\"429\",\"cname\":\"c\",\"seq\":0,\"content\":\"Too many\"}";
        String refused = "HTTP/1.1 429 Too Many Requests\r\nContent-Length: " + body.length()
                + "\r\nConnection: close\r\n\r\n" + body;
        assertEquals(List.of("answer 429 close 429:0"), feed(new LongPollDecoder(), ascii(refused)));
        assertEquals(List.of("answer 200 keep-alive bad-body"), feed(new LongPollDecoder(), ascii(lengthAnswer("<html>"))));
        assertEquals(List.of("answer 200 keep-alive"), feed(new LongPollDecoder(), ascii(lengthAnswer(""))),
                "an empty body has no messages and is not an error");
    }

    @Test
    void jsonpAnswerGivesItsMessages() {
        assertEquals(List.of("answer 200 keep-alive data:8 data:9"),
                feed(new LongPollDecoder(), ascii(lengthAnswer("icomet_cb_0(" + BATCH + ");"))));
    }

    @Test
    void bytesThatAreNotHttpBreakTheConnectionAfterTheAnswersBefore() {
        assertEquals(List.of("answer 200 keep-alive data:7", "broken response"),
                feed(new LongPollDecoder(), ascii(lengthAnswer(ONE) + "SSH-2.0-OpenSSH\r\n")));
    }

    @Test
    void aBodyEndedByTheCloseIsAnAnswerAtEofAndACutShortOneIsAnError() throws Exception {
        LongPollDecoder d = new LongPollDecoder();
        assertEquals(List.of(), feed(d, ascii("HTTP/1.0 200 OK\r\n\r\n" + ONE)));
        WireDecoder.Decoded.Answer a = d.eof();
        assertNotNull(a);
        assertEquals("answer 200 close data:7", DecoderTesting.describe(a));
        assertNull(d.eof(), "nothing pending after it");

        LongPollDecoder cut = new LongPollDecoder();
        feed(cut, ascii("HTTP/1.1 200 OK\r\nContent-Length: 50\r\n\r\n{\"type\""));
        assertThrows(HttpResponseParser.BadResponseException.class, cut::eof);
        cut.reset();
        assertNull(cut.eof(), "a reset decoder has nothing pending");
    }
}
