package io.jcomet.bench;

/**
 * Server-sent events ({@code /sse}): a {@link StreamDecoder} whose lines are event fields
 * ({@code id: N}, {@code data: {json}}, {@code retry: ms}, a blank line ends an event); only the
 * {@code data:} lines carry messages.
 *
 * <p>Threads: one connection's reactor thread.
 */
final class SseDecoder extends StreamDecoder {

    SseDecoder() {
        super("/sse");
    }

    @Override
    String messageJson(String line) {
        if (!line.startsWith("data:")) {
            return null;
        }
        return super.messageJson(line.substring(5));
    }

    @Override
    String lineName() {
        return "SSE data line";
    }
}
