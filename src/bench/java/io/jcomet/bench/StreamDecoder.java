package io.jcomet.bench;

import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.List;

/**
 * Stream ({@code /stream}): one request, one endless chunked 200 answer whose body is one JSON
 * message per line. Events: {@link Decoded.Opened} when the head arrives, then
 * {@link Decoded.Messages} per line ({@link Decoded.BadMessage} for a line that is not JSON), and
 * an {@link Decoded.Answer} when the server ends the stream (its last lines) or refuses it (a 4xx
 * with a JSON body). The chunks need not follow the lines: a line may be split anywhere.
 *
 * <p>Threads: one connection's reactor thread.
 */
class StreamDecoder implements WireDecoder {

    private final HttpResponseParser parser = new HttpResponseParser();
    private final String path;
    /** The head of the stream has arrived; its lines follow. */
    private boolean open;

    StreamDecoder() {
        this("/stream");
    }

    StreamDecoder(String path) {
        this.path = path;
        parser.streaming(true);
    }

    @Override
    public final String request(String cname, int seq, int noop, String host) {
        open = false;
        return HttpRequests.subscribe(path, cname, seq, noop, host);
    }

    /** A line's JSON message, or null for a line without one (blank). */
    String messageJson(String line) {
        return line.isBlank() ? null : line;
    }

    /** What a line is called in error texts. */
    String lineName() {
        return "stream line";
    }

    @Override
    public final List<Decoded> feed(ByteBuffer in) {
        List<Decoded> events = WireDecoder.events();
        try {
            while (in.hasRemaining()) {
                HttpResponse r = parser.feed(in);
                if (r != null && parser.inProgress()) {
                    open = true; // the head of the stream; its lines follow
                    events.add(new Decoded.Opened(false));
                    continue;
                }
                if (open) {
                    takeLines(events);
                }
                if (r == null) {
                    break;
                }
                events.add(end(r, r.keepAlive()));
            }
        } catch (HttpResponseParser.BadResponseException e) {
            events.add(new Decoded.Broken("response", e.getMessage()));
        }
        return events;
    }

    private void takeLines(List<Decoded> events) {
        String line;
        while ((line = parser.takeLine()) != null) {
            String json = messageJson(line);
            if (json == null) {
                continue;
            }
            try {
                events.add(new Decoded.Messages(Json.messages(json)));
            } catch (Json.JsonException e) {
                events.add(new Decoded.BadMessage(lineName(), e.getMessage()));
            }
        }
    }

    /** A complete answer: the end of the stream (its last lines as one array) or a refusal. */
    private Decoded.Answer end(HttpResponse r, boolean keepAlive) {
        if (!open) {
            return WireDecoder.answer(r, r.bodyText(), keepAlive);
        }
        open = false;
        List<String> kept = new ArrayList<>();
        for (String l : r.bodyText().split("\n")) {
            String json = messageJson(l);
            if (json != null) {
                kept.add(json);
            }
        }
        return WireDecoder.answer(r, "[" + String.join(",", kept) + "]", keepAlive);
    }

    @Override
    public final Decoded.Answer eof() throws HttpResponseParser.BadResponseException {
        HttpResponse r = parser.eof();
        return r == null ? null : end(r, false);
    }

    @Override
    public final void reset() {
        parser.reset();
        open = false;
    }
}
