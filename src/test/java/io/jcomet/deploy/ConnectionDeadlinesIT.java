package io.jcomet.deploy;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.jcomet.support.TestServer;
import io.jcomet.support.Tls;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.function.IntSupplier;
import org.junit.jupiter.api.Test;

/**
 * The connection-level front door (io.jcomet.jetty.FrontDoor) on the embedded launcher and on
 * jetty-base: request heads that trickle in one byte at a time are closed at
 * {@code request_head_timeout_ms} although every byte resets the idle timeout; one address cannot
 * hold more than {@code max_connections_per_client} connections; a held long-poll and a kept-alive
 * connection between requests are not cut by the head deadline; a well-behaved client from another
 * address subscribes and receives during each attack. Attackers come from 127.0.0.2, the
 * well-behaved client from 127.0.0.3, the back end from 127.0.0.1; {@code client_limits_exempt} is a
 * documentation address, so loopback is treated as internet clients.
 *
 * <p>Threads: JUnit's test thread; trickling connections are non-blocking channels it drives.
 */
class ConnectionDeadlinesIT {
    private static final Path BASEDIR = Path.of(System.getProperty("basedir", ".")).toAbsolutePath();
    private static final String NOBODY_EXEMPT = "192.0.2.1";

    @Test
    void trickledHeadsAreClosedAtTheDeadlineWhileHeldAndKeptAliveConnectionsStay() throws Exception {
        try (TestServer s = TestServer.start("request_head_timeout_ms", "2000", "max_connections_per_client", "0",
                "client_limits_exempt", NOBODY_EXEMPT, "polling_timeout", "20");
             Trickle slow = new Trickle("127.0.0.2", s.front(), 300)) {
            // a long-poll held longer than the deadline, and a kept-alive connection idle as long
            Socket held = subscribe("127.0.0.3", s.front(), "held");
            Socket keptAlive = connect("127.0.0.3", s.front());
            keptAlive.getOutputStream().write("GET /ping?cb= HTTP/1.1\r\nHost: x\r\n\r\n".getBytes(StandardCharsets.US_ASCII));
            assertTrue(readUntil(keptAlive, "\"type\":\"ping\"").contains("200"));

            long t0 = System.nanoTime();
            awaitTicking(slow, () -> slow.closedCount(), 300, Duration.ofSeconds(8));
            long ms = (System.nanoTime() - t0) / 1_000_000;
            assertTrue(ms >= 1500, "closed by the deadline, not at once: " + ms + " ms");
            assertEquals(300, rejected(s.admin(), "head_timeout"), "every slow head counted");

            // both outlived the deadline: the held request is answered, the kept-alive one serves again
            assertEquals(200, s.admin("/push?cname=held&content=after").status());
            assertTrue(readUntil(held, "after").contains("\"content\":\"after\""));
            keptAlive.getOutputStream().write("GET /ping?cb= HTTP/1.1\r\nHost: x\r\n\r\n".getBytes(StandardCharsets.US_ASCII));
            assertTrue(readUntil(keptAlive, "\"type\":\"ping\"").contains("200"));
            held.close();
            keptAlive.close();
        }
    }

    @Test
    void trickledTlsHandshakesAreClosedAtTheDeadlineWhileTlsClientsAreServed() throws Exception {
        try (TestServer s = TestServer.startWithTls("request_head_timeout_ms", "2000", "max_connections_per_client", "0",
                "client_limits_exempt", NOBODY_EXEMPT, "polling_timeout", "20");
             Trickle slow = new Trickle("127.0.0.2", s.tls(), 100, Trickle.TLS_RECORD_HEAD)) {
            long t0 = System.nanoTime();
            awaitTicking(slow, () -> slow.closedCount(), 100, Duration.ofSeconds(8));
            long ms = (System.nanoTime() - t0) / 1_000_000;
            assertTrue(ms >= 1500, "closed by the deadline, not at once: " + ms + " ms");
            assertEquals(100, rejected(s.admin(), "head_timeout"), "every slow handshake counted");
            // a TLS client that shakes hands and sends its head at once is served, and held past the deadline
            try (Socket held = Tls.http11Socket(Tls.trustingDevCertificate(), s.tls(), InetAddress.getByName("127.0.0.3"))) {
                held.getOutputStream().write("GET /sub?cname=tlsheld&seq=1 HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n".getBytes(StandardCharsets.US_ASCII));
                await("the TLS long-poll held", Duration.ofSeconds(5), () -> infoCount(s.admin(), "held_poll") == 1);
                long heldAt = System.nanoTime();
                await("held past the deadline", Duration.ofSeconds(5), () -> System.nanoTime() - heldAt > 3_000_000_000L);
                assertEquals(200, s.admin("/push?cname=tlsheld&content=after").status());
                assertTrue(readUntil(held, "after").contains("\"content\":\"after\""));
            }
        }
    }

    @Test
    void oneAddressGetsAtMostItsConnectionsAndAnotherStillSubscribes() throws Exception {
        try (TestServer s = TestServer.start("max_connections_per_client", "50", "client_limits_exempt", NOBODY_EXEMPT)) {
            try (Trickle flood = new Trickle("127.0.0.2", s.front(), 200)) {
                await("150 of 200 refused", Duration.ofSeconds(10), () -> {
                    flood.poll();
                    return flood.closedCount() == 150;
                });
                assertEquals(150, rejected(s.admin(), "connections_per_client"));
                Socket good = subscribe("127.0.0.3", s.front(), "good");
                assertEquals(200, s.admin("/push?cname=good&content=hello").status());
                assertTrue(readUntil(good, "hello").contains("\"content\":\"hello\""));
                good.close();
                flood.poll();
                assertEquals(50, flood.openCount(), "the first 50 stay open");
            }
            // closing them gives the address its allowance back (once the server has seen the closes):
            // 50 new ones all stay, the 51st (accepted after them, in order) is refused
            Trickle[] again = new Trickle[1];
            try {
                await("50 new connections from the same address all accepted", Duration.ofSeconds(10), () -> {
                    try {
                        if (again[0] != null && again[0].closedCount() > 0) {
                            again[0].close();
                            again[0] = null;
                        }
                        if (again[0] == null) {
                            again[0] = new Trickle("127.0.0.2", s.front(), 50);
                        }
                        again[0].tick();
                        // the server accepts one port's connections in order: once a later connection is
                        // served, it has taken (or refused and closed) all 50; only then count the closes
                        if (!servedFrom("127.0.0.3", s.front())) {
                            return false;
                        }
                        again[0].poll();
                        return again[0].closedCount() == 0;
                    } catch (IOException e) {
                        return false;
                    }
                });
                try (Trickle more = new Trickle("127.0.0.2", s.front(), 1)) {
                    await("the 51st refused", Duration.ofSeconds(5), () -> {
                        more.poll();
                        return more.closedCount() == 1;
                    });
                }
                again[0].poll();
                assertEquals(0, again[0].closedCount(), "the 50 stay open");
            } finally {
                if (again[0] != null) {
                    again[0].close();
                }
            }
        }
    }

    /** Whether a /ping from {@code from} is answered. */
    static boolean servedFrom(String from, int port) throws IOException {
        try (Socket s = connect(from, port)) {
            s.getOutputStream().write("GET /ping?cb= HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n".getBytes(StandardCharsets.US_ASCII));
            return readUntil(s, "\"type\":\"ping\"").contains("\"type\":\"ping\"");
        }
    }

    @Test
    void jettyBaseClosesTrickledHeadsAndCapsConnectionsPerAddress() throws Exception {
        assertTrue(Files.isRegularFile(BASEDIR.resolve("target/jetty-home/start.jar")), "target/jetty-home unpacked");
        assertTrue(Files.isRegularFile(BASEDIR.resolve("target/jcomet-jetty.jar")), "the server-side jar is built by package");
        FreePorts.Plan ports = FreePorts.plan(1);
        try (ServerProcess server = ServerProcess.start("jetty-base-deadlines", List.of(BASEDIR.resolve("bin/jetty-dist").toString(),
                        "--no-build", "-Djcomet.request_head_timeout_ms=2000", "-Djcomet.max_connections_per_client=100",
                        "-Djcomet.client_limits_exempt=" + NOBODY_EXEMPT,
                        "jetty.http.port=" + ports.admin(), "jcomet.front.port=" + ports.front(),
                        "jcomet.front.count=1", "jcomet.front.host=127.0.0.1"),
                Map.of("JAVA_HOME", System.getProperty("java.home")), BASEDIR.resolve("target/it-logs/jetty-base-deadlines.log"))) {
            server.await("front port answering", Duration.ofSeconds(60), () -> {
                HttpResponse<String> r = Http.tryGet(ports.front(), "/ping");
                return r != null && r.statusCode() == 200;
            });
            try (Trickle slow = new Trickle("127.0.0.2", ports.front(), 300)) {
                // 200 over the cap closed at accept, the other 100 at the head deadline
                awaitTicking(slow, slow::closedCount, 300, Duration.ofSeconds(10));
                Socket good = subscribe("127.0.0.3", ports.front(), "good");
                assertEquals(200, Http.get(ports.admin(), "/push?cname=good&content=hello").statusCode());
                assertTrue(readUntil(good, "hello").contains("\"content\":\"hello\""));
                good.close();
            }
            unservedPathsAnswerJson(ports.front());
            unservedPathsAnswerJson(ports.admin());
            String info = Http.get(ports.admin(), "/info").body();
            assertEquals(200, Http.jsonLong(info, "connections_per_client"), info);
            assertEquals(100, Http.jsonLong(info, "head_timeout"), info);
        }
    }

    @Test
    void launcherAnswersEveryUnservedPathWithJson() throws Exception {
        try (TestServer s = TestServer.start()) {
            unservedPathsAnswerJson(s.front());
            unservedPathsAnswerJson(s.admin());
        }
    }

    // ------------------------------------------------------------ helpers

    /**
     * Paths the web app does not serve (a wrong case, an unknown path, WEB-INF) answer jcomet's JSON
     * 404, a method a static file does not take its JSON 405, each with nosniff.
     */
    static void unservedPathsAnswerJson(int port) throws Exception {
        for (String path : List.of("/PUSH?cname=a&content=b", "/no/such/path", "/WEB-INF/web.xml", "/Sub?cname=a")) {
            String answer = raw(port, "GET " + path);
            assertTrue(answer.startsWith("HTTP/1.1 404 "), path + ": " + answer);
            assertJsonError(path, answer);
        }
        String post = raw(port, "POST /index.html");
        assertTrue(post.startsWith("HTTP/1.1 405 "), post);
        assertJsonError("POST /index.html", post);
    }

    private static void assertJsonError(String what, String answer) {
        String lower = answer.toLowerCase(java.util.Locale.ROOT);
        assertTrue(lower.contains("\r\nx-content-type-options: nosniff\r\n"), what + ": " + answer);
        assertTrue(lower.contains("\r\ncontent-type: application/json"), what + ": " + answer);
        assertTrue(answer.contains("\r\n\r\n{\"type\":\"error\""), what + ": " + answer);
    }

    /** The whole answer to {@code requestLine} with Connection: close. */
    private static String raw(int port, String requestLine) throws IOException {
        try (Socket s = connect("127.0.0.1", port)) {
            s.getOutputStream().write((requestLine + " HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\nConnection: close\r\n\r\n")
                    .getBytes(StandardCharsets.US_ASCII));
            return readUntil(s, "\u0000never");
        }
    }

    static long rejected(int adminPort, String reason) throws Exception {
        return Http.jsonLong(Http.get(adminPort, "/info").body(), reason);
    }

    /** A number of the admin port's /info, or -1 while it cannot be read. */
    static long infoCount(int adminPort, String name) {
        try {
            return rejected(adminPort, name);
        } catch (Exception e) {
            return -1;
        }
    }

    /** Ticks the trickle every 200 ms until {@code count} reaches {@code want}; fails after {@code timeout}. */
    static void awaitTicking(Trickle t, IntSupplier count, int want, Duration timeout) throws InterruptedException {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (count.getAsInt() < want) {
            if (System.nanoTime() > deadline) {
                throw new AssertionError("only " + count.getAsInt() + " of " + want + " closed within " + timeout);
            }
            t.tick();
            Thread.sleep(200);
        }
    }

    static void await(String what, Duration timeout, java.util.function.BooleanSupplier condition) throws InterruptedException {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (!condition.getAsBoolean()) {
            if (System.nanoTime() > deadline) {
                throw new AssertionError("no " + what + " within " + timeout);
            }
            Thread.sleep(100);
        }
    }

    static Socket connect(String from, int port) throws IOException {
        Socket s = new Socket();
        s.bind(new InetSocketAddress(from, 0));
        s.connect(new InetSocketAddress("127.0.0.1", port), 5000);
        s.setSoTimeout(15_000);
        return s;
    }

    /** A long-poll on {@code cname} from {@code from}, its request sent. */
    static Socket subscribe(String from, int port, String cname) throws IOException {
        Socket s = connect(from, port);
        s.getOutputStream().write(("GET /sub?cname=" + cname + "&seq=1 HTTP/1.1\r\nHost: x\r\n\r\n").getBytes(StandardCharsets.US_ASCII));
        return s;
    }

    /** What the socket receives until {@code text} has arrived (or the read timeout passes). */
    static String readUntil(Socket s, String text) throws IOException {
        InputStream in = s.getInputStream();
        ByteArrayOutputStream b = new ByteArrayOutputStream();
        byte[] buf = new byte[4096];
        while (!b.toString(StandardCharsets.UTF_8).contains(text)) {
            int n;
            try {
                n = in.read(buf);
            } catch (SocketTimeoutException e) {
                break;
            }
            if (n < 0) {
                break;
            }
            b.write(buf, 0, n);
        }
        return b.toString(StandardCharsets.UTF_8);
    }
}
