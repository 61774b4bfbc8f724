package io.jcomet.servlet;

import io.jcomet.support.TestServer;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.function.Supplier;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Fuzzes every endpoint of a running jcomet (front, admin, demo, static files) with generated
 * request lines, query strings, headers and bodies, plus the seed corpus in
 * {@code src/test/resources/fuzz/}. For every request: never a 5xx, and never the marker
 * {@code <x-fuzz} reflected raw (a cb or content echoed unescaped would be a script injection).
 * Requests the server holds (subscribes, streams, /psub) are cut by the client after a moment,
 * which exercises the disconnect path. Afterwards the server must still hold and answer a
 * subscriber, and every fuzzed subscriber must be gone (nothing leaked).
 *
 * <p>Bounded and reproducible: the generator is a {@link Random} with the fixed seed {@value #SEED}
 * (the same inputs every run; a failure names the case number), at most {@value #TRIES} generated
 * requests and {@value #BUDGET_SECONDS} s. Each seed request is sent to the front and to the admin port.
 */
class FuzzIT {
    static final long SEED = 20261129L;
    static final int TRIES = 4000;
    static final int BUDGET_SECONDS = 60;
    static final String MARKER = "<x-fuzz";

    static TestServer server;
    static List<String> seedValues;
    /** How clients leave (close or reset): seeded too, so that a run repeats exactly. */
    static final Random departures = new Random(SEED + 1);

    /** Jetty's error page renderer, which warns when a page would echo one of the fuzzer's 9 KB URIs. */
    static final org.eclipse.jetty.logging.JettyLogger ERROR_PAGES =
            (org.eclipse.jetty.logging.JettyLogger) org.slf4j.LoggerFactory.getLogger("org.eclipse.jetty.server.handler.ErrorHandler");
    static org.eclipse.jetty.logging.JettyLevel errorPagesLevel;

    @BeforeAll
    static void start() throws Exception {
        // "Error page too large: >3072 404 Not Found GET http://127.0.0.1/nope?text=aaaa...": Jetty
        // answers the status and logs that it left out the page; expected here, noise in the build log
        errorPagesLevel = ERROR_PAGES.getLevel();
        ERROR_PAGES.setLevel(org.eclipse.jetty.logging.JettyLevel.ERROR);
        server = TestServer.start("polling_timeout", "1", "demo", "true", "front_stats", "true", "max_channels", "3000",
                "client_limits_exempt", "", "max_held_per_client", "64", "max_new_channels_per_client", "200",
                "max_message_size", "4096");
        seedValues = lines("fuzz/seed-values.txt");
    }

    static List<String> lines(String resource) throws Exception {
        Path p = Path.of(FuzzIT.class.getClassLoader().getResource(resource).toURI());
        return Files.readAllLines(p, StandardCharsets.UTF_8).stream()
                .filter(l -> !l.isEmpty() && !l.startsWith("#")).collect(Collectors.toList());
    }

    @AfterAll
    static void serverStillServesAndNothingLeaked() throws Exception {
        if (server == null) {
            return;
        }
        try {
            System.out.println("FuzzIT: server counters after the fuzz: " + server.admin("/info").body());
            TestServer.awaitIo("every fuzzed subscriber gone", Duration.ofSeconds(10),
                    () -> server.info("subscribers") == 0 && server.info("held_psub") == 0);
            server.admin("/sign?cname=after-fuzz");
            var held = server.getAsync(server.front(), "/sub?cname=after-fuzz&seq=1");
            TestServer.awaitIo("a subscriber held after the fuzz", Duration.ofSeconds(5), () -> server.subscribers("after-fuzz") == 1);
            server.admin("/push?cname=after-fuzz&content=still+alive");
            TestServer.Response r = held.get();
            if (r.status() != 200 || !r.body().contains("\"content\":\"still alive\"")) {
                throw new AssertionError("after the fuzz: " + r.status() + " " + r.body());
            }
        } finally {
            server.close();
            ERROR_PAGES.setLevel(errorPagesLevel);
        }
    }

    // ------------------------------------------------------------------ properties

    @Test
    void generatedRequestsNeverFailTheServerNorReflectRawInput() throws Exception {
        Gen gen = new Gen(new Random(SEED), seedValues);
        long deadline = System.nanoTime() + Duration.ofSeconds(BUDGET_SECONDS).toNanos();
        int sent = 0;
        for (int i = 0; i < TRIES && System.nanoTime() < deadline; i++) {
            Request r = gen.request();
            check(r.port == 0 ? server.front() : server.admin(), r.bytes(), "generated case " + i + " (seed " + SEED + "): " + r);
            sent++;
        }
        System.out.println("FuzzIT: " + sent + " generated requests of " + TRIES + " sent within " + BUDGET_SECONDS + " s");
        if (sent < TRIES / 10) {
            throw new AssertionError("only " + sent + " generated requests fit in " + BUDGET_SECONDS + " s: the server is too slow to fuzz");
        }
    }

    static Stream<Arguments> seedRequests() throws Exception {
        List<Arguments> all = new ArrayList<>();
        for (String l : lines("fuzz/seed-requests.txt")) {
            String raw = l.replace("\\r", "\r").replace("\\n", "\n");
            all.add(Arguments.of(raw, false));
            all.add(Arguments.of(raw, true));
        }
        return all.stream();
    }

    @ParameterizedTest(name = "[{index}] admin={1}")
    @MethodSource("seedRequests")
    void seedRequestsNeverFailTheServerNorReflectRawInput(String raw, boolean admin) throws Exception {
        check(admin ? server.admin() : server.front(), raw.getBytes(StandardCharsets.ISO_8859_1), raw);
    }

    static void check(int port, byte[] request, String what) throws IOException {
        String answer = exchange(port, request);
        if (answer.startsWith("HTTP/1.") && answer.length() >= 12 && answer.charAt(9) == '5') {
            throw new AssertionError("5xx for " + what + "\n--- answer:\n" + answer);
        }
        if (answer.contains(MARKER)) {
            throw new AssertionError("raw reflection of " + MARKER + " for " + what + "\n--- answer:\n" + answer);
        }
    }

    /** Sends the bytes and reads until the server closes or goes quiet for a moment (held), then cuts. */
    static String exchange(int port, byte[] request) throws IOException {
        try (Socket s = new Socket("127.0.0.1", port)) {
            s.setSoTimeout(150);
            try {
                s.getOutputStream().write(request);
                s.getOutputStream().flush();
            } catch (IOException closedEarly) {
                return ""; // the server refused the rest of a bad request: fine
            }
            InputStream in = s.getInputStream();
            ByteArrayOutputStream b = new ByteArrayOutputStream();
            byte[] buf = new byte[8192];
            long stop = System.nanoTime() + 2_000_000_000L;
            while (System.nanoTime() < stop) {
                int n;
                try {
                    n = in.read(buf);
                } catch (SocketTimeoutException held) {
                    break; // held (subscriber, stream, psub): the client leaves abruptly
                } catch (IOException reset) {
                    break;
                }
                if (n < 0) {
                    break;
                }
                b.write(buf, 0, n);
            }
            if (departures.nextBoolean()) {
                s.setSoLinger(true, 0); // half of the departures are resets
            }
            return b.toString(StandardCharsets.ISO_8859_1);
        }
    }

    // ------------------------------------------------------------------ generators

    static final List<String> PATHS = List.of("/sub", "/poll", "/stream", "/sse", "/iframe", "/ping", "/stats",
            "/sign", "/push", "/pub", "/broadcast", "/close", "/clear", "/info", "/check", "/psub",
            "/demo/chat/pub", "/demo/chat/join", "/demo/chat/heartbeat", "/demo/chat/leave", "/demo/chat/who", "/demo/chat/sign",
            "/", "/index.html", "/chat.html", "/status.html", "/js/", "/js/jcomet.js", "/css/", "/jcomet-error", "/WEB-INF/web.xml", "/nope");
    static final List<String> NAMES = List.of("cname", "seq", "noop", "cb", "token", "epoch", "content", "expires",
            "room", "name", "text", "x");
    static final List<String> HEADER_NAMES = List.of("Last-Event-ID", "X-Forwarded-For", "Content-Type", "Origin", "Accept", "Range", "Expect");
    static final List<String> HEADER_VALUES = List.of("application/x-www-form-urlencoded", "text/plain; charset=utf-8",
            "multipart/form-data; boundary=x", "100-continue", "bytes=0-1", "1.2.3.4, 5.6.7.8", "<x-fuzz>");
    static final List<String> ODD_METHODS = List.of("HEAD", "OPTIONS", "PUT", "DELETE", "TRACE", "BREW");

    record Request(int port, String method, String path, String query, List<String> headers, String body) {
        byte[] bytes() {
            StringBuilder b = new StringBuilder(method).append(' ').append(path);
            if (!query.isEmpty()) {
                b.append('?').append(query);
            }
            b.append(" HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n");
            for (String h : headers) {
                b.append(h).append("\r\n");
            }
            byte[] body8 = body.getBytes(StandardCharsets.UTF_8);
            if (!body.isEmpty()) {
                b.append("Content-Length: ").append(body8.length).append("\r\n");
            }
            b.append("\r\n");
            byte[] head = b.toString().getBytes(StandardCharsets.UTF_8);
            byte[] all = new byte[head.length + body8.length];
            System.arraycopy(head, 0, all, 0, head.length);
            System.arraycopy(body8, 0, all, head.length, body8.length);
            return all;
        }
    }

    /**
     * The request generator: weighted choices over the endpoints, parameter names, the seed values and
     * random text (ASCII, any Unicode, raw bytes percent-encoded, long runs). One {@link Random} drives
     * it, so a seed gives the same requests in the same order.
     */
    record Choice(int weight, Supplier<String> value) {
    }

    static Choice w(int weight, Supplier<String> value) {
        return new Choice(weight, value);
    }

    static final class Gen {
        final Random rnd;
        final List<String> seedValues;

        Gen(Random rnd, List<String> seedValues) {
            this.rnd = rnd;
            this.seedValues = seedValues;
        }

        Request request() {
            int port = rnd.nextInt(2);
            String method = weighted(w(12, () -> "GET"), w(5, () -> "POST"), w(1, () -> pick(ODD_METHODS)));
            String path = weighted(w(10, () -> pick(PATHS)), w(1, () -> pick(PATHS) + "%zz"), w(1, () -> pick(PATHS) + "/..%2f"));
            String query = query();
            List<String> headers = new ArrayList<>();
            for (int n = rnd.nextInt(4); n > 0; n--) {
                headers.add(header());
            }
            String body = weighted(w(3, () -> ""), w(2, this::query), w(1, this::value));
            return new Request(port, method, path, query, headers, body);
        }

        String query() {
            // well-formed subscribes too, so that many requests are held and then cut
            return weighted(w(3, this::params), w(2, () -> {
                String more = params();
                return "cname=fz" + rnd.nextInt(31) + "&seq=" + rnd.nextInt(3) + (more.isEmpty() ? "" : "&" + more);
            }));
        }

        String params() {
            List<String> l = new ArrayList<>();
            for (int n = rnd.nextInt(6); n > 0; n--) {
                String name = weighted(w(8, () -> pick(NAMES)), w(1, () -> alpha(8)), w(1, () -> pick(seedValues)));
                l.add(name + "=" + value());
            }
            return String.join("&", l);
        }

        String value() {
            return weighted(
                    w(4, () -> pick(seedValues)),
                    w(3, () -> String.valueOf(rnd.nextInt(44) - 3)),
                    w(3, () -> chars("abcdefghijklmnopqrstuvwxyz0123456789_.-:@$", rnd.nextInt(13))),
                    // any text, properly percent-encoded as UTF-8 (lone surrogates become '?')
                    w(2, () -> URLEncoder.encode(anyText(rnd.nextInt(41)), StandardCharsets.UTF_8)),
                    // arbitrary bytes, percent-encoded: mostly invalid UTF-8
                    w(2, () -> {
                        byte[] b = new byte[rnd.nextInt(13)];
                        rnd.nextBytes(b);
                        return percent(b);
                    }),
                    w(1, () -> "a".repeat(60 + rnd.nextInt(9000 - 60 + 1))),
                    w(1, () -> pick(seedValues) + "%3Cx-fuzz%3E"));
        }

        String header() {
            String value = weighted(w(3, () -> pick(HEADER_VALUES)), w(2, () -> String.valueOf(rnd.nextInt(102) - 2)),
                    w(1, () -> {
                        StringBuilder b = new StringBuilder();
                        for (int n = rnd.nextInt(31); n > 0; n--) {
                            char c = (char) rnd.nextInt(128);
                            if (c != '\r' && c != '\n') {
                                b.append(c);
                            }
                        }
                        return b.toString();
                    }));
            return pick(HEADER_NAMES) + ": " + value;
        }

        /** Any UTF-16 text: mostly ASCII and Latin, some CJK, emoji (pairs), controls and lone surrogates. */
        String anyText(int length) {
            StringBuilder b = new StringBuilder();
            for (int i = 0; i < length; i++) {
                switch (rnd.nextInt(6)) {
                    case 0 -> b.append((char) rnd.nextInt(0x20));
                    case 1, 2 -> b.append((char) (0x20 + rnd.nextInt(0x5f)));
                    case 3 -> b.append((char) (0xa0 + rnd.nextInt(0x2000)));
                    case 4 -> b.appendCodePoint(rnd.nextBoolean() ? 0x4e00 + rnd.nextInt(0x5000) : 0x1f300 + rnd.nextInt(0x300));
                    default -> b.append((char) (0xd800 + rnd.nextInt(0x800))); // lone surrogate
                }
            }
            return b.toString();
        }

        String alpha(int maxLength) {
            return chars("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ", rnd.nextInt(maxLength + 1));
        }

        String chars(String alphabet, int length) {
            StringBuilder b = new StringBuilder(length);
            for (int i = 0; i < length; i++) {
                b.append(alphabet.charAt(rnd.nextInt(alphabet.length())));
            }
            return b.toString();
        }

        <T> T pick(List<T> l) {
            return l.get(rnd.nextInt(l.size()));
        }

        /** One of the choices, with probability proportional to its weight. */
        String weighted(Choice... choices) {
            int total = 0;
            for (Choice c : choices) {
                total += c.weight();
            }
            int r = rnd.nextInt(total);
            for (Choice c : choices) {
                r -= c.weight();
                if (r < 0) {
                    return c.value().get();
                }
            }
            throw new IllegalStateException();
        }
    }

    static String percent(byte[] bytes) {
        StringBuilder b = new StringBuilder();
        for (byte x : bytes) {
            b.append('%').append(Character.forDigit((x >> 4) & 0xf, 16)).append(Character.forDigit(x & 0xf, 16));
        }
        return b.toString();
    }
}
