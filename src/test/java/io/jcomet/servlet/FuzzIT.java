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
import java.util.List;
import java.util.stream.Collectors;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.Combinators;
import net.jqwik.api.ForAll;
import net.jqwik.api.GenerationMode;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;
import net.jqwik.api.ShrinkingMode;
import net.jqwik.api.lifecycle.AfterContainer;
import net.jqwik.api.lifecycle.BeforeContainer;

/**
 * Fuzzes every endpoint of a running jcomet (front, admin, demo, static files) with generated
 * request lines, query strings, headers and bodies, plus the seed corpus in
 * {@code src/test/resources/fuzz/}. For every request: never a 5xx, and never the marker
 * {@code <x-fuzz} reflected raw (a cb or content echoed unescaped would be a script injection).
 * Requests the server holds (subscribes, streams, /psub) are cut by the client after a moment,
 * which exercises the disconnect path. Afterwards the server must still hold and answer a
 * subscriber, and every fuzzed subscriber must be gone (nothing leaked).
 *
 * <p>Bounded: a fixed seed (the same inputs every run, so a failure reproduces), at most
 * {@value #TRIES} generated requests and {@value #BUDGET_SECONDS} s.
 */
class FuzzIT {
    static final int TRIES = 4000;
    static final int BUDGET_SECONDS = 60;
    static final String MARKER = "<x-fuzz";

    static TestServer server;
    static long deadline;
    static List<String> seedValues;
    static List<String> seedRequests;

    @BeforeContainer
    static void start() throws Exception {
        server = TestServer.start("polling_timeout", "1", "demo", "true", "front_stats", "true", "max_channels", "3000",
                "client_limits_exempt", "", "max_held_per_client", "64", "max_new_channels_per_client", "200",
                "max_message_size", "4096");
        deadline = System.nanoTime() + Duration.ofSeconds(BUDGET_SECONDS).toNanos();
        seedValues = lines("fuzz/seed-values.txt");
        seedRequests = lines("fuzz/seed-requests.txt").stream()
                .map(l -> l.replace("\\r", "\r").replace("\\n", "\n")).collect(Collectors.toList());
    }

    static List<String> lines(String resource) throws Exception {
        Path p = Path.of(FuzzIT.class.getClassLoader().getResource(resource).toURI());
        return Files.readAllLines(p, StandardCharsets.UTF_8).stream()
                .filter(l -> !l.isEmpty() && !l.startsWith("#")).collect(Collectors.toList());
    }

    @AfterContainer
    static void serverStillServesAndNothingLeaked() throws Exception {
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
        }
    }

    // ------------------------------------------------------------------ properties

    @Property(tries = TRIES, seed = "20261129", shrinking = ShrinkingMode.BOUNDED)
    void generatedRequestsNeverFailTheServerNorReflectRawInput(@ForAll("requests") Request r) throws Exception {
        if (System.nanoTime() > deadline) {
            return; // time budget spent: the remaining tries pass without a request
        }
        check(r.port == 0 ? server.front() : server.admin(), r.bytes(), r.toString());
    }

    @Property(generation = GenerationMode.EXHAUSTIVE)
    void seedRequestsNeverFailTheServerNorReflectRawInput(@ForAll("seeds") String raw, @ForAll boolean admin) throws Exception {
        check(admin ? server.admin() : server.front(), raw.getBytes(StandardCharsets.ISO_8859_1), raw);
    }

    @Provide
    Arbitrary<String> seeds() {
        return Arbitraries.of(seedRequests);
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
            if (Math.random() < 0.5) {
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

    @Provide
    Arbitrary<Request> requests() {
        Arbitrary<Integer> port = Arbitraries.integers().between(0, 1);
        Arbitrary<String> method = Arbitraries.frequencyOf(
                net.jqwik.api.Tuple.of(12, Arbitraries.just("GET")), net.jqwik.api.Tuple.of(5, Arbitraries.just("POST")),
                net.jqwik.api.Tuple.of(1, Arbitraries.of("HEAD", "OPTIONS", "PUT", "DELETE", "TRACE", "BREW")));
        Arbitrary<String> path = Arbitraries.frequencyOf(
                net.jqwik.api.Tuple.of(10, Arbitraries.of(PATHS)),
                net.jqwik.api.Tuple.of(1, Arbitraries.of(PATHS).map(p -> p + "%zz")),
                net.jqwik.api.Tuple.of(1, Arbitraries.of(PATHS).map(p -> p + "/" + "..%2f")));
        Arbitrary<String> random = param().list().ofMaxSize(5).map(l -> String.join("&", l));
        // well-formed subscribes too, so that many requests are held and then cut
        Arbitrary<String> subscribe = Combinators.combine(Arbitraries.integers().between(0, 30), Arbitraries.integers().between(0, 2), random)
                .as((c, seq, more) -> "cname=fz" + c + "&seq=" + seq + (more.isEmpty() ? "" : "&" + more));
        Arbitrary<String> query = Arbitraries.frequencyOf(net.jqwik.api.Tuple.of(3, random), net.jqwik.api.Tuple.of(2, subscribe));
        Arbitrary<List<String>> headers = header().list().ofMaxSize(3);
        Arbitrary<String> body = Arbitraries.frequencyOf(
                net.jqwik.api.Tuple.of(3, Arbitraries.just("")),
                net.jqwik.api.Tuple.of(2, query),
                net.jqwik.api.Tuple.of(1, value()));
        return Combinators.combine(port, method, path, query, headers, body).as(Request::new);
    }

    static Arbitrary<String> param() {
        Arbitrary<String> name = Arbitraries.frequencyOf(
                net.jqwik.api.Tuple.of(8, Arbitraries.of(NAMES)),
                net.jqwik.api.Tuple.of(1, Arbitraries.strings().alpha().ofMaxLength(8)),
                net.jqwik.api.Tuple.of(1, Arbitraries.of(seedValues)));
        return Combinators.combine(name, value()).as((n, v) -> n + "=" + v);
    }

    static Arbitrary<String> value() {
        return Arbitraries.frequencyOf(
                net.jqwik.api.Tuple.of(4, Arbitraries.of(seedValues)),
                net.jqwik.api.Tuple.of(3, Arbitraries.integers().between(-3, 40).map(String::valueOf)),
                net.jqwik.api.Tuple.of(3, Arbitraries.strings().withCharRange('a', 'z').numeric().withChars("_.-:@$").ofMaxLength(12)),
                // any text, properly percent-encoded as UTF-8 (lone surrogates become '?')
                net.jqwik.api.Tuple.of(2, Arbitraries.strings().all().ofMaxLength(40).map(s -> URLEncoder.encode(s, StandardCharsets.UTF_8))),
                // arbitrary bytes, percent-encoded: mostly invalid UTF-8
                net.jqwik.api.Tuple.of(2, Arbitraries.bytes().array(byte[].class).ofMaxSize(12).map(FuzzIT::percent)),
                net.jqwik.api.Tuple.of(1, Arbitraries.strings().withCharRange('a', 'a').ofMinLength(60).ofMaxLength(9000)),
                net.jqwik.api.Tuple.of(1, Arbitraries.of(seedValues).map(v -> v + "%3Cx-fuzz%3E")));
    }

    static Arbitrary<String> header() {
        return Combinators.combine(
                Arbitraries.of("Last-Event-ID", "X-Forwarded-For", "Content-Type", "Origin", "Accept", "Range", "Expect"),
                Arbitraries.frequencyOf(
                        net.jqwik.api.Tuple.of(3, Arbitraries.of("application/x-www-form-urlencoded", "text/plain; charset=utf-8",
                                "multipart/form-data; boundary=x", "100-continue", "bytes=0-1", "1.2.3.4, 5.6.7.8", "<x-fuzz>")),
                        net.jqwik.api.Tuple.of(2, Arbitraries.integers().between(-2, 99).map(String::valueOf)),
                        net.jqwik.api.Tuple.of(1, Arbitraries.strings().ascii().ofMaxLength(30).map(s -> s.replaceAll("[\\r\\n]", "")))))
                .as((n, v) -> n + ": " + v);
    }

    static String percent(byte[] bytes) {
        StringBuilder b = new StringBuilder();
        for (byte x : bytes) {
            b.append('%').append(Character.forDigit((x >> 4) & 0xf, 16)).append(Character.forDigit(x & 0xf, 16));
        }
        return b.toString();
    }
}
