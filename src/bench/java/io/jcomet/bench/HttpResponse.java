package io.jcomet.bench;

import java.nio.charset.StandardCharsets;
import java.util.Map;

/**
 * One complete HTTP response: status, headers (names lower-cased), body bytes, and whether the
 * connection may carry another request. Immutable; safe to hand between threads.
 */
record HttpResponse(int status, Map<String, String> headers, byte[] body, boolean keepAlive) {

    String bodyText() {
        return new String(body, StandardCharsets.UTF_8);
    }

    String header(String name) {
        return headers.get(name);
    }
}
