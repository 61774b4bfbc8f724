package io.jcomet.deploy;

import java.io.IOException;
import java.net.URI;
import java.net.URLEncoder;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Minimal HTTP/1.1 client for the container ITs: plain GETs against 127.0.0.1 and the icomet
 * sub/push exchange both containers must pass.
 *
 * <p>Threads: the JDK HttpClient's executor completes async requests; callers block on the
 * returned futures from the test thread.
 */
final class Http {

    static final HttpClient CLIENT = HttpClient.newBuilder()
            .version(HttpClient.Version.HTTP_1_1)
            .connectTimeout(Duration.ofSeconds(5))
            .build();

    private Http() {
    }

    static String url(int port, String pathAndQuery) {
        return "http://127.0.0.1:" + port + pathAndQuery;
    }

    static String enc(String s) {
        return URLEncoder.encode(s, StandardCharsets.UTF_8);
    }

    static HttpResponse<String> get(int port, String pathAndQuery) throws IOException, InterruptedException {
        return CLIENT.send(request(port, pathAndQuery, Duration.ofSeconds(10)), HttpResponse.BodyHandlers.ofString());
    }

    /** GET that answers null instead of throwing when nothing listens yet (readiness polling). */
    static HttpResponse<String> tryGet(int port, String pathAndQuery) {
        try {
            return CLIENT.send(request(port, pathAndQuery, Duration.ofSeconds(3)), HttpResponse.BodyHandlers.ofString());
        } catch (IOException e) {
            return null;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return null;
        }
    }

    static CompletableFuture<HttpResponse<String>> getAsync(int port, String pathAndQuery, Duration timeout) {
        return CLIENT.sendAsync(request(port, pathAndQuery, timeout), HttpResponse.BodyHandlers.ofString());
    }

    private static HttpRequest request(int port, String pathAndQuery, Duration timeout) {
        return HttpRequest.newBuilder(URI.create(url(port, pathAndQuery))).timeout(timeout).GET().build();
    }

    /** The first integer field {@code "name":N} in a JSON text, or -1. */
    static long jsonLong(String json, String name) {
        Matcher m = Pattern.compile("\"" + Pattern.quote(name) + "\"\\s*:\\s*(-?\\d+)").matcher(json);
        return m.find() ? Long.parseLong(m.group(1)) : -1;
    }
}
