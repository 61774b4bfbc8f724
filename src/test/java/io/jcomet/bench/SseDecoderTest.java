package io.jcomet.bench;

import static io.jcomet.bench.DecoderTesting.ascii;
import static io.jcomet.bench.DecoderTesting.chunks;
import static io.jcomet.bench.DecoderTesting.feed;
import static io.jcomet.bench.DecoderTesting.feedEverySplit;
import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.List;
import org.junit.jupiter.api.Test;

/** The /sse decoder: only the data lines of events carry messages; id, retry and blank lines do not. */
class SseDecoderTest {

    private static final String HEAD = "HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\nTransfer-Encoding: chunked\r\n\r\n";

    @Test
    void requestAsksForServerSentEvents() {
        assertEquals("GET /sse?cname=c&seq=1&noop=0&epoch= HTTP/1.1\r\nHost: h\r\n\r\n",
                new SseDecoder().request("c", 1, 0, "h"));
    }

    @Test
    void everyDataLineIsOneEventWhateverTheSplit() {
        String events = "retry: 3000\n\n"
                + "id: 1\ndata: {\"type\":\"data\",\"seq\":1,\"content\":\"x\"}\n\n"
                + "data:{\"type\":\"noop\",\"seq\":0}\n\n"
                + "id: 2\ndata: {\"type\":\"data\",\"seq\":2}\n\n";
        String wire = HEAD + chunks(events.substring(0, 30), events.substring(30));
        assertEquals(List.of("opened", "messages data:1", "messages noop:0", "messages data:2"),
                feedEverySplit(SseDecoder::new, ascii(wire)));
    }

    @Test
    void aDataLineThatIsNotJsonIsReported() {
        assertEquals(List.of("opened", "bad SSE data line"),
                feed(new SseDecoder(), ascii(HEAD + chunks("id: 1\ndata: {oops\n\n"))));
    }

    @Test
    void theEndOfTheStreamKeepsOnlyItsDataLines() {
        String last = "id: 3\ndata: {\"type\":\"data\",\"seq\":3}\n\n";
        assertEquals(List.of("opened", "answer 200 keep-alive data:3"),
                feed(new SseDecoder(), ascii(HEAD + chunks(last) + "0\r\n\r\n"), HEAD.length()));
    }
}
