package io.jcomet.bench;

import java.io.Closeable;
import java.io.IOException;
import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;
import java.util.Map;

/**
 * The admin API as the benchmark uses it: {@code /info} (server memory, CPU, fd and subscriber
 * figures) and {@code /push}. Only the wire protocol; works against any icomet-compatible server
 * (fields an icomet server does not report read as -1). {@link ServerProbe} adds /proc figures.
 *
 * <p>Threads: one instance per thread (wraps one keep-alive connection).
 */
final class Admin implements Closeable {

    private final BlockingHttpClient http;

    Admin(Options o) {
        this(o.adminHost, o.adminPort);
    }

    Admin(String host, int port) {
        http = new BlockingHttpClient(host, port, 30_000);
    }

    /** Global /info (with {@code gc}: the server runs a GC first, so heap_used is live data). */
    Map<String, Object> info(boolean gc) throws IOException {
        HttpResponse r = http.get(gc ? "/info?gc=1" : "/info");
        if (r.status() != 200) {
            throw new IOException("/info answered HTTP " + r.status() + ": " + Json.abbreviate(r.bodyText()));
        }
        Map<String, Object> info;
        try {
            info = new java.util.LinkedHashMap<>(Json.asObject(Json.parse(r.bodyText().trim())));
        } catch (Json.JsonException e) {
            throw new IOException("/info answered something that is not a JSON object: "
                    + Json.abbreviate(r.bodyText()));
        }
        return info;
    }

    /** Outcome of one push: the seq the server assigned (or -1 if it did not say), or an error text. */
    record PushResult(boolean ok, int seq, String error) {
    }

    PushResult push(String cname, String content) throws IOException {
        return pushResult(http.get("/push?cname=" + cname + "&content="
                + URLEncoder.encode(content, StandardCharsets.UTF_8)));
    }

    /** Reads a /push answer: jcomet's {"type":"ok","seq":N}, icomet's {"type":"ok"} or "ok". */
    static PushResult pushResult(HttpResponse r) {
        String body = r.bodyText().trim();
        if (r.status() != 200) {
            return new PushResult(false, -1, "HTTP " + r.status() + " " + Json.abbreviate(body));
        }
        return pushAnswer(body);
    }

    /** One /push answer (or one line of a /batch answer): ok with its seq, or the error text. */
    static PushResult pushAnswer(String body) {
        try {
            Map<String, Object> m = Json.asObject(Json.parse(body));
            if (!"ok".equals(Json.getString(m, "type"))) {
                return new PushResult(false, -1, Json.abbreviate(body));
            }
            long seq = Json.getLong(m, "seq", -1);
            return new PushResult(true, (int) seq, null);
        } catch (Json.JsonException e) {
            if (body.startsWith("ok")) {
                return new PushResult(true, -1, null);
            }
            return new PushResult(false, -1, Json.abbreviate(body));
        }
    }

    static long num(Map<String, Object> info, String key) {
        return info == null ? -1 : Json.getLong(info, key, -1);
    }

    @Override
    public void close() {
        http.close();
    }
}
