package io.jcomet.servlet;

import io.jcomet.protocol.Query;
import jakarta.servlet.http.HttpServletRequest;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.util.HashMap;
import java.util.Map;

/**
 * The parameters of one admin request, read as icomet reads them (its {@code http_query.h}): the
 * URL's query string plus, for a request with a body, the body parsed as a query string whatever
 * its Content-Type (a {@code text/plain} {@code cname=a&content=x} from a shell script or Python
 * {@code requests} with a str body publishes as it does in icomet), a body value overriding the
 * URL's. Names are case-insensitive; within one source the first occurrence wins.
 *
 * <p>{@code raw=1} (or {@code true}) in the URL asks for the body verbatim as the content (a jcomet
 * extra for binary-safe or large publishes); it is never guessed from a missing Content-Type.
 *
 * <p>The body is read with {@code getInputStream}, never {@code getParameter}, so the container's
 * form parsing (which would consume a form body first) plays no part. One per request; one thread.
 */
final class AdminParams {
    private final Map<String, String> values;
    private final String rawBody; // set only when raw=1 asked for it

    private AdminParams(Map<String, String> values, String rawBody) {
        this.values = values;
        this.rawBody = rawBody;
    }

    /** The parameters, or null when the body is larger than a publish of {@code maxContent} bytes can be. */
    static AdminParams read(HttpServletRequest req, int maxContent) throws IOException {
        Map<String, String> query = new HashMap<>();
        Query.parseAll(req.getQueryString(), query);
        boolean raw = "1".equals(query.get("raw")) || "true".equalsIgnoreCase(query.get("raw"));
        // a percent-encoded body may be 3 bytes per content byte, plus the other parameters
        long limit = raw ? maxContent : (long) maxContent * 3 + 4096;
        if (req.getContentLengthLong() > limit) {
            return null;
        }
        byte[] bytes = readBody(req, limit);
        if (bytes == null) {
            return null;
        }
        String body = new String(bytes, StandardCharsets.UTF_8);
        if (raw) {
            return new AdminParams(query, body.isEmpty() ? null : body);
        }
        if (body.isEmpty()) {
            return new AdminParams(query, null);
        }
        Map<String, String> merged = new HashMap<>();
        Query.parseAll(body, merged);
        query.forEach(merged::putIfAbsent); // body values first: they override the URL's
        return new AdminParams(merged, null);
    }

    /** The value of {@code name} (lower case), or null. */
    String get(String name) {
        return values.get(name);
    }

    /** What to publish: the raw body when {@code raw=1} asked for it, else the {@code content} parameter. */
    String content() {
        return rawBody != null ? rawBody : values.get("content");
    }

    /** The body's bytes (none when there is no body); null when it is longer than {@code limit} bytes. */
    static byte[] readBody(HttpServletRequest req, long limit) throws IOException {
        if (req.getContentLengthLong() == 0) {
            return new byte[0];
        }
        ByteArrayOutputStream b = new ByteArrayOutputStream();
        byte[] buf = new byte[8192];
        try (InputStream in = req.getInputStream()) {
            int n;
            while ((n = in.read(buf)) > 0) {
                if (b.size() + (long) n > limit) {
                    return null;
                }
                b.write(buf, 0, n);
            }
        }
        return b.toByteArray();
    }
}
