package io.jcomet.deploy;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import io.jcomet.support.TestServer;
import io.jcomet.support.Tls;
import io.jcomet.support.TlsChecks;
import java.io.IOException;
import java.io.InputStream;
import java.net.InetAddress;
import java.net.Socket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLSocket;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The nginx server block of docs/DEPLOY.md, exactly as written there (ports, certificate paths
 * substituted), run by the real nginx in front of the embedded launcher: TLS and HTTP/2 to the
 * clients; long-poll, stream, SSE, JSONP and WebSocket through it; the per-client limits by the
 * address nginx forwards; clients that vanish (a closed connection, a reset h2 stream) noticed through
 * the proxy. nginx runs as the current user from a temporary prefix (daemon off; pid, logs and temp
 * files there). Without nginx the test is skipped, except under CI=true, where it fails.
 *
 * <p>Threads: JUnit's test thread; HttpClient's threads deliver responses.
 */
class NginxFrontIT {
    private static final Path BASEDIR = Path.of(System.getProperty("basedir", ".")).toAbsolutePath();
    private static final String MARKER = "<!-- NginxFrontIT runs the next nginx block -->";

    private static TestServer jcomet;
    private static Process nginx;
    private static Path prefix;
    private static int port;
    private static SSLContext trust;
    private static TlsChecks checks;

    @BeforeAll
    static void start() throws Exception {
        String binary = nginxBinary();
        if (binary == null) {
            if ("true".equals(System.getenv("CI"))) {
                fail("nginx is not installed: .ci/run installs it (apt-get install nginx)");
            }
            Assumptions.abort("nginx is not installed (apt-get install nginx): NginxFrontIT skipped");
        }
        jcomet = TestServer.start(2, "trusted_proxies", "127.0.0.1", "max_held_per_client", "2",
                "polling_timeout", "30", "detect_disconnects_after_ms", "0");
        prefix = Files.createTempDirectory(BASEDIR.resolve("target"), "nginx-");
        Path cert = prefix.resolve("cert.pem");
        Path key = prefix.resolve("key.pem");
        run(List.of("openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes",
                "-keyout", key.toString(), "-out", cert.toString(), "-days", "2", "-subj", "/CN=localhost",
                "-addext", "subjectAltName=DNS:localhost,IP:127.0.0.1"));
        trust = Tls.trustingPem(cert);
        port = FreePorts.plan(1).front();
        String block = serverBlock(docBlock(), port, jcomet.server.frontPorts(), cert, key);
        Path conf = prefix.resolve("nginx.conf");
        Files.writeString(conf, ("root".equals(System.getProperty("user.name")) ? "user root;\n" : "")
                + "daemon off;\nworker_processes 1;\npid " + prefix.resolve("nginx.pid") + ";\n"
                + "error_log " + prefix.resolve("error.log") + " info;\n"
                + "events { worker_connections 1024; }\n"
                + "http {\n"
                + "    access_log " + prefix.resolve("access.log") + ";\n"
                + "    client_body_temp_path " + prefix.resolve("client_body") + ";\n"
                + "    proxy_temp_path " + prefix.resolve("proxy") + ";\n"
                + "    fastcgi_temp_path " + prefix.resolve("fastcgi") + ";\n"
                + "    uwsgi_temp_path " + prefix.resolve("uwsgi") + ";\n"
                + "    scgi_temp_path " + prefix.resolve("scgi") + ";\n"
                + block + "\n}\n");
        nginx = new ProcessBuilder(binary, "-p", prefix + "/", "-c", conf.toString(), "-e", prefix.resolve("error.log").toString())
                .redirectErrorStream(true).redirectOutput(prefix.resolve("nginx.out").toFile()).start();
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        while (!accepts(port)) {
            if (!nginx.isAlive() || System.nanoTime() > deadline) {
                fail("nginx did not start: " + Files.readString(prefix.resolve("nginx.out")) + "\n"
                        + (Files.exists(prefix.resolve("error.log")) ? Files.readString(prefix.resolve("error.log")) : ""));
            }
            Thread.sleep(50);
        }
        checks = new TlsChecks(port, trust, path -> {
            TestServer.Response r = jcomet.admin(path);
            assertEquals(200, r.status(), path + ": " + r.body());
            return r.body();
        });
    }

    @AfterAll
    static void stop() throws Exception {
        if (nginx != null) {
            List<ProcessHandle> workers = nginx.descendants().toList();
            nginx.destroy(); // SIGTERM: nginx's fast shutdown
            if (!nginx.waitFor(10, TimeUnit.SECONDS)) {
                nginx.destroyForcibly();
            }
            workers.forEach(ProcessHandle::destroyForcibly);
        }
        if (jcomet != null) {
            jcomet.close();
        }
    }

    private static String nginxBinary() {
        for (String dir : (System.getenv("PATH") + ":/usr/sbin:/usr/local/sbin").split(":")) {
            Path p = Path.of(dir, "nginx");
            if (!dir.isEmpty() && Files.isExecutable(p)) {
                return p.toString();
            }
        }
        return null;
    }

    private static void run(List<String> cmd) throws Exception {
        Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertTrue(p.waitFor(30, TimeUnit.SECONDS) && p.exitValue() == 0, cmd + ": " + out);
    }

    private static boolean accepts(int port) {
        try (Socket s = new Socket("127.0.0.1", port)) {
            return true;
        } catch (IOException e) {
            return false;
        }
    }

    /** The first ```nginx block after the marker in docs/DEPLOY.md. */
    static String docBlock() throws IOException {
        String doc = Files.readString(BASEDIR.resolve("docs/DEPLOY.md"), StandardCharsets.UTF_8);
        int at = doc.indexOf(MARKER);
        assertTrue(at >= 0, "docs/DEPLOY.md has no '" + MARKER + "'");
        int open = doc.indexOf("```nginx\n", at);
        int close = doc.indexOf("\n```", open + 1);
        assertTrue(open > 0 && close > open, "no ```nginx block after the marker");
        return doc.substring(open + "```nginx\n".length(), close + 1);
    }

    /** The doc's block with this test's port, upstream ports and certificate; each substitution must apply. */
    static String serverBlock(String block, int listen, List<Integer> fronts, Path cert, Path key) {
        String b = replaceOnce(block, "listen 443 ssl http2;", "listen 127.0.0.1:" + listen + " ssl http2;");
        b = replaceOnce(b, "server 127.0.0.1:8100;", "server 127.0.0.1:" + fronts.get(0) + ";");
        b = replaceOnce(b, "server 127.0.0.1:8101;", "server 127.0.0.1:" + fronts.get(1) + ";");
        b = replaceRegex(b, "ssl_certificate\\s+\\S+;", "ssl_certificate " + cert + ";");
        b = replaceRegex(b, "ssl_certificate_key\\s+\\S+;", "ssl_certificate_key " + key + ";");
        assertTrue(b.contains("proxy_buffering off;"), b);
        assertTrue(b.contains("X-Forwarded-For"), b);
        assertTrue(!b.contains(":8000"), "the admin port is not proxied");
        return b;
    }

    private static String replaceOnce(String text, String what, String with) {
        int i = text.indexOf(what);
        assertTrue(i >= 0 && text.indexOf(what, i + 1) < 0, "the doc's nginx block has '" + what + "' once");
        return text.replace(what, with);
    }

    private static String replaceRegex(String text, String regex, String with) {
        Matcher m = Pattern.compile(regex).matcher(text);
        assertTrue(m.find(), "the doc's nginx block has " + regex);
        return m.replaceFirst(Matcher.quoteReplacement(with));
    }

    private static HttpRequest get(String pathAndQuery) {
        return HttpRequest.newBuilder(URI.create("https://127.0.0.1:" + port + pathAndQuery)).timeout(Duration.ofSeconds(30)).build();
    }

    @Test
    void longPollStreamAndSseReachBrowsersOverHttp2ThroughNginx() throws Exception {
        checks.longPollStreamAndSseAnswerOverHttp2();
    }

    @Test
    void jsonpLongPollThroughNginx() throws Exception {
        jcomet.admin("/sign?cname=nxjsonp");
        CompletableFuture<HttpResponse<String>> poll = Tls.h2(trust).sendAsync(get("/sub?cname=nxjsonp&seq=1&cb=got"),
                HttpResponse.BodyHandlers.ofString());
        TestServer.awaitIo("held behind nginx", Duration.ofSeconds(5), () -> jcomet.subscribers("nxjsonp") == 1);
        assertEquals(200, jcomet.admin("/push?cname=nxjsonp&content=padded").status());
        HttpResponse<String> r = poll.get(10, TimeUnit.SECONDS);
        assertEquals(HttpClient.Version.HTTP_2, r.version());
        assertTrue(r.body().startsWith("got(") && r.body().contains("\"content\":\"padded\""), r.body());
    }

    @Test
    void webSocketThroughNginx() throws Exception {
        checks.webSocketUpgradesOverTlsHttp11();
    }

    @Test
    void aVanishedClientIsNoticedThroughNginx() throws Exception {
        checks.aTlsLongPollClientThatLeavesIsNoticedAtOnce();
    }

    @Test
    void aResetH2StreamIsNoticedThroughNginx() throws Exception {
        checks.aStreamTheClientResetsFreesItsHolderAtOnceWhileItsConnectionLivesOn();
    }

    @Test
    void perClientLimitsCountTheAddressNginxForwards() throws Exception {
        jcomet.admin("/sign?cname=nxlimit");
        InetAddress a = InetAddress.getByName("127.0.0.2");
        InetAddress b = InetAddress.getByName("127.0.0.3");
        List<SSLSocket> open = new ArrayList<>();
        try {
            open.add(hold(a));
            open.add(hold(a));
            TestServer.awaitIo("two held from 127.0.0.2", Duration.ofSeconds(5), () -> jcomet.subscribers("nxlimit") == 2);
            SSLSocket third = hold(a);
            open.add(third);
            String answer = head(third.getInputStream());
            assertTrue(answer.startsWith("HTTP/1.1 429"), "127.0.0.2's third is refused: " + answer);
            open.add(hold(b));
            TestServer.awaitIo("127.0.0.3 is another client", Duration.ofSeconds(5), () -> jcomet.subscribers("nxlimit") == 3);
            assertNotEquals(0, jcomet.info("client_held_limit"));
        } finally {
            for (SSLSocket s : open) {
                s.close();
            }
        }
        TestServer.awaitIo("the closed clients gone", Duration.ofSeconds(5), () -> jcomet.subscribers("nxlimit") == 0);
    }

    private static SSLSocket hold(InetAddress from) throws IOException {
        SSLSocket s = Tls.http11Socket(trust, port, from);
        s.getOutputStream().write("GET /sub?cname=nxlimit&seq=1 HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n".getBytes(StandardCharsets.US_ASCII));
        s.getOutputStream().flush();
        return s;
    }

    /** The response head (up to the blank line), read within the socket's timeout. */
    private static String head(InputStream in) throws IOException {
        StringBuilder b = new StringBuilder();
        while (!b.toString().contains("\r\n\r\n")) {
            int c = in.read();
            if (c < 0) {
                break;
            }
            b.append((char) c);
        }
        return b.toString();
    }
}
