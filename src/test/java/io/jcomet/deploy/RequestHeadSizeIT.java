package io.jcomet.deploy;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.jcomet.launcher.JettyTuning;
import io.jcomet.support.TestServer;
import java.io.ByteArrayOutputStream;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * The request-head limit ({@link JettyTuning#REQUEST_HEADER_SIZE}) is the same on the embedded
 * launcher and on jetty-base: a head longer than the 4 KB input buffer but under the limit (a long
 * /sub URL plus a browser's cookies) is served, and one over it is refused with 431 before the web
 * app, as documented in docs/TUNING.md. The launcher answers that refusal with jcomet's JSON error.
 *
 * <p>Threads: JUnit's test thread only; one blocking socket per request.
 */
class RequestHeadSizeIT {

    private static final Path BASEDIR = Path.of(System.getProperty("basedir", ".")).toAbsolutePath();
    /** Under the limit with room for the request line and Host, but more than one input buffer. */
    private static final int SERVED = JettyTuning.REQUEST_HEADER_SIZE - 1024;
    private static final int REFUSED = JettyTuning.REQUEST_HEADER_SIZE + 512;

    @Test
    void launcherServesAHeadUnderTheLimitAndRefusesOneOverItWith431() throws Exception {
        try (TestServer s = TestServer.start()) {
            String ok = request(s.front(), SERVED);
            assertTrue(ok.startsWith("HTTP/1.1 200 "), ok);
            assertTrue(ok.contains("\"type\":\"ping\""), ok);
            String refused = request(s.front(), REFUSED);
            assertTrue(refused.startsWith("HTTP/1.1 431 "), refused);
            assertTrue(refused.contains("\"type\":\"error\""), "jcomet's JSON error: " + refused);
        }
    }

    @Test
    void jettyBaseServesAHeadUnderTheLimitAndRefusesOneOverItWith431() throws Exception {
        assertTrue(Files.isRegularFile(BASEDIR.resolve("target/jetty-home/start.jar")), "target/jetty-home unpacked");
        FreePorts.Plan ports = FreePorts.plan(1);
        try (ServerProcess server = ServerProcess.start("jetty-dist-headsize", List.of(BASEDIR.resolve("bin/jetty-dist").toString(),
                        "--no-build", "jetty.http.port=" + ports.admin(), "jcomet.front.port=" + ports.front(),
                        "jcomet.front.count=1", "jcomet.front.host=127.0.0.1"),
                Map.of("JAVA_HOME", System.getProperty("java.home")), BASEDIR.resolve("target/it-logs/jetty-dist-headsize.log"))) {
            server.await("front port answering", Duration.ofSeconds(60), () -> {
                HttpResponse<String> r = Http.tryGet(ports.front(), "/ping");
                return r != null && r.statusCode() == 200;
            });
            String ok = request(ports.front(), SERVED);
            assertTrue(ok.startsWith("HTTP/1.1 200 "), ok);
            assertTrue(ok.contains("\"type\":\"ping\""), ok);
            String refused = request(ports.front(), REFUSED);
            assertTrue(refused.startsWith("HTTP/1.1 431 "), refused);
        }
    }

    /** A GET /ping whose head (request line, Host, Cookie, blank line) is {@code headBytes} long; the whole answer. */
    private static String request(int port, int headBytes) throws Exception {
        String start = "GET /ping?cb= HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\nCookie: session=";
        String end = "\r\n\r\n";
        String head = start + "c".repeat(headBytes - start.length() - end.length()) + end;
        assertEquals(headBytes, head.length());
        try (Socket socket = new Socket()) {
            socket.connect(new InetSocketAddress("127.0.0.1", port), 5000);
            socket.setSoTimeout(10_000);
            OutputStream out = socket.getOutputStream();
            out.write(head.getBytes(StandardCharsets.US_ASCII));
            out.flush();
            InputStream in = socket.getInputStream();
            ByteArrayOutputStream answer = new ByteArrayOutputStream();
            byte[] buf = new byte[4096];
            for (int n; (n = in.read(buf)) > 0 && answer.size() < 1 << 20; ) {
                answer.write(buf, 0, n);
            }
            return answer.toString(StandardCharsets.UTF_8);
        }
    }
}
