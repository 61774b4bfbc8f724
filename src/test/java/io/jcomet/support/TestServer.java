package io.jcomet.support;

import io.jcomet.launcher.EmbeddedJcomet;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.function.BooleanSupplier;

/** An embedded jcomet on ephemeral loopback ports plus small HTTP helpers for tests. */
public final class TestServer implements AutoCloseable {
    public final EmbeddedJcomet server;
    private final HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();

    private TestServer(EmbeddedJcomet server) {
        this.server = server;
    }

    public static TestServer start(String... keyValues) throws Exception {
        return start(1, keyValues);
    }

    public static TestServer start(int frontPorts, String... keyValues) throws Exception {
        EmbeddedJcomet.Builder b = EmbeddedJcomet.builder().adminPort(0).frontPorts(0, frontPorts);
        for (int i = 0; i < keyValues.length; i += 2) {
            b.set(keyValues[i], keyValues[i + 1]);
        }
        return new TestServer(b.start());
    }

    /** As {@link #start(String...)}, plus the https front on an ephemeral port (the development certificate). */
    public static TestServer startWithTls(String... keyValues) throws Exception {
        EmbeddedJcomet.Builder b = EmbeddedJcomet.builder().adminPort(0).frontPorts(0, 1).tlsPort(0);
        for (int i = 0; i < keyValues.length; i += 2) {
            b.set(keyValues[i], keyValues[i + 1]);
        }
        return new TestServer(b.start());
    }

    /** The https front port (servers from {@link #startWithTls}). */
    public int tls() {
        return server.tlsPort();
    }

    public record Response(int status, String body, Map<String, java.util.List<String>> headers) {
        public String header(String name) {
            var v = headers.get(name.toLowerCase());
            return v == null || v.isEmpty() ? null : v.get(0);
        }
    }

    public int front() {
        return server.frontPort(0);
    }

    public int admin() {
        return server.adminPort();
    }

    public Response get(int port, String pathAndQuery) throws IOException, InterruptedException {
        HttpRequest req = HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + pathAndQuery))
                .timeout(Duration.ofSeconds(20)).GET().build();
        return toResponse(http.send(req, HttpResponse.BodyHandlers.ofString(StandardCharsets.UTF_8)));
    }

    public Response front(String pathAndQuery) throws IOException, InterruptedException {
        return get(front(), pathAndQuery);
    }

    public Response admin(String pathAndQuery) throws IOException, InterruptedException {
        return get(admin(), pathAndQuery);
    }

    public Response send(HttpRequest.Builder b) throws IOException, InterruptedException {
        return toResponse(http.send(b.timeout(Duration.ofSeconds(20)).build(), HttpResponse.BodyHandlers.ofString(StandardCharsets.UTF_8)));
    }

    public URI uri(int port, String pathAndQuery) {
        return URI.create("http://127.0.0.1:" + port + pathAndQuery);
    }

    /** Starts a request without waiting for the answer (a held long-poll). */
    public CompletableFuture<Response> getAsync(int port, String pathAndQuery) {
        HttpRequest req = HttpRequest.newBuilder(uri(port, pathAndQuery)).timeout(Duration.ofSeconds(30)).GET().build();
        return http.sendAsync(req, HttpResponse.BodyHandlers.ofString(StandardCharsets.UTF_8)).thenApply(TestServer::toResponse);
    }

    private static Response toResponse(HttpResponse<String> r) {
        return new Response(r.statusCode(), r.body(), r.headers().map());
    }

    /** Subscribers held on a channel, as the admin API reports them. */
    public int subscribers(String cname) throws IOException, InterruptedException {
        String body = admin("/info?cname=" + cname).body();
        return Integer.parseInt(body.replaceAll("(?s).*\"subscribers\":\\s*(\\d+).*", "$1"));
    }

    /** A numeric field of the global /info. */
    public long info(String field) throws IOException, InterruptedException {
        String body = admin("/info").body();
        java.util.regex.Matcher m = java.util.regex.Pattern.compile("\"" + field + "\":(-?\\d+)").matcher(body);
        if (!m.find()) {
            throw new AssertionError("no " + field + " in " + body);
        }
        return Long.parseLong(m.group(1));
    }

    /** Waits for {@code condition} with a deadline; fails with {@code what} when it never holds. */
    public static void await(String what, Duration timeout, BooleanSupplier condition) throws InterruptedException {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (!condition.getAsBoolean()) {
            if (System.nanoTime() > deadline) {
                throw new AssertionError("timed out after " + timeout + " waiting for: " + what);
            }
            Thread.sleep(20);
        }
    }

    /** {@link #await} for conditions that do I/O. */
    public static void awaitIo(String what, Duration timeout, IoCondition condition) throws Exception {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (!condition.test()) {
            if (System.nanoTime() > deadline) {
                throw new AssertionError("timed out after " + timeout + " waiting for: " + what);
            }
            Thread.sleep(20);
        }
    }

    public interface IoCondition {
        boolean test() throws Exception;
    }

    @Override
    public void close() {
        server.stop();
    }
}
