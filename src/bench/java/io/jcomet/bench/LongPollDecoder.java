package io.jcomet.bench;

import java.nio.ByteBuffer;
import java.util.List;

/**
 * Long-poll ({@code /sub}): each request gets one HTTP answer, one message or a JSON array of
 * buffered ones, and the client polls again with seq = last + 1. Events: {@link Decoded.Answer},
 * or {@link Decoded.Broken} for bytes that are not HTTP.
 *
 * <p>Threads: one connection's reactor thread.
 */
final class LongPollDecoder implements WireDecoder {

    private final HttpResponseParser parser = new HttpResponseParser();

    @Override
    public String request(String cname, int seq, int noop, String host) {
        return HttpRequests.subscribe("/sub", cname, seq, noop, host);
    }

    @Override
    public List<Decoded> feed(ByteBuffer in) {
        List<Decoded> events = WireDecoder.events();
        try {
            while (in.hasRemaining()) {
                HttpResponse r = parser.feed(in);
                if (r == null) {
                    break;
                }
                events.add(WireDecoder.answer(r, r.bodyText(), r.keepAlive()));
            }
        } catch (HttpResponseParser.BadResponseException e) {
            events.add(new Decoded.Broken("response", e.getMessage()));
        }
        return events;
    }

    @Override
    public Decoded.Answer eof() throws HttpResponseParser.BadResponseException {
        HttpResponse r = parser.eof();
        return r == null ? null : WireDecoder.answer(r, r.bodyText(), false);
    }

    @Override
    public void reset() {
        parser.reset();
    }
}
