package io.jcomet.deploy;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.jcomet.launcher.DevCertificate;
import io.jcomet.support.Tls;
import io.jcomet.support.TlsChecks;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import javax.net.ssl.SSLContext;
import org.junit.jupiter.api.Test;

/**
 * jetty-base's https front as deployed ({@code bin/jetty-dist --tls}): with a configured keystore, the
 * {@link TlsChecks} (h2 on long-poll, /stream and /sse; wss; disconnects; stream resets) and a
 * certificate replaced on disk served to new handshakes without a restart; with none configured, a
 * generated self-signed certificate and a warning that says so.
 *
 * <p>Threads: JUnit's test thread.
 */
class JettyBaseTlsIT {
    private static final Path BASEDIR = Path.of(System.getProperty("basedir", ".")).toAbsolutePath();

    private static ServerProcess start(String name, FreePorts.Plan ports, String... extra) throws Exception {
        assertTrue(Files.isRegularFile(BASEDIR.resolve("target/jetty-home/start.jar")), "jetty-home unpacked");
        assertTrue(Files.isRegularFile(BASEDIR.resolve("target/jcomet.war")), "the WAR is built by package");
        List<String> cmd = new ArrayList<>(List.of(BASEDIR.resolve("bin/jetty-dist").toString(), "--no-build", "--tls",
                "-Djcomet.polling_timeout=60", "-Djcomet.detect_disconnects_after_ms=0",
                "jetty.http.port=" + ports.admin(), "jcomet.front.port=" + ports.front(), "jcomet.front.count=1",
                "jcomet.front.host=127.0.0.1", "jetty.ssl.host=127.0.0.1", "jetty.ssl.port=" + ports.lastFront()));
        cmd.addAll(List.of(extra));
        ServerProcess server = ServerProcess.start(name, cmd, Map.of("JAVA_HOME", System.getProperty("java.home")),
                BASEDIR.resolve("target/it-logs/" + name + ".log"));
        server.await("admin port answering", Duration.ofSeconds(60), () -> {
            HttpResponse<String> r = Http.tryGet(ports.admin(), "/info");
            return r != null && r.statusCode() == 200;
        });
        return server;
    }

    private static TlsChecks.Admin admin(FreePorts.Plan ports) {
        return path -> {
            HttpResponse<String> r = Http.get(ports.admin(), path);
            assertEquals(200, r.statusCode(), path + ": " + r.body());
            return r.body();
        };
    }

    /** True when a TLS handshake trusting only {@code trust} succeeds and the request answers over h2. */
    private static boolean h2Ping(SSLContext trust, int port) {
        try {
            HttpResponse<String> r = Tls.h2(trust).send(HttpRequest.newBuilder(URI.create("https://127.0.0.1:" + port + "/ping?cb=p"))
                    .timeout(Duration.ofSeconds(10)).build(), HttpResponse.BodyHandlers.ofString());
            return r.statusCode() == 200 && r.version() == HttpClient.Version.HTTP_2 && r.body().contains("\"type\":\"ping\"");
        } catch (java.io.IOException e) {
            return false;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return false;
        }
    }

    @Test
    void aConfiguredKeystoreServesH2AndIsReloadedWhenReplaced() throws Exception {
        Path dir = BASEDIR.resolve("target/it-tls");
        Path keystore = dir.resolve("jetty-base.p12");
        Path next = dir.resolve("jetty-base-renewed.p12");
        Files.deleteIfExists(keystore);
        Files.deleteIfExists(next);
        DevCertificate.ensure(keystore);
        FreePorts.Plan ports = FreePorts.plan(2);
        ServerProcess server = start("jetty-base-tls", ports, "jetty.sslContext.keyStorePath=" + keystore,
                "jetty.sslContext.keyStorePassword=" + DevCertificate.PASSWORD);
        try {
            assertTrue(!server.logText().contains("SELF-SIGNED"), "a configured keystore is no reason to warn:\n" + server.tail(20));
            TlsChecks checks = new TlsChecks(ports.lastFront(), Tls.trusting(keystore, DevCertificate.PASSWORD), admin(ports));
            checks.longPollStreamAndSseAnswerOverHttp2();
            checks.aStreamTheClientResetsFreesItsHolderAtOnceWhileItsConnectionLivesOn();
            checks.webSocketUpgradesOverTlsHttp11();
            checks.aTlsLongPollClientThatLeavesIsNoticedAtOnce();
            checks.aRequestPipelinedBehindAHeldOneOverTlsIsStillAnswered();

            // renewal: a new certificate (a new key) moved over the file is served without a restart
            DevCertificate.ensure(next);
            SSLContext trustsOnlyTheNewOne = Tls.trusting(next, DevCertificate.PASSWORD);
            assertTrue(!h2Ping(trustsOnlyTheNewOne, ports.lastFront()), "before the renewal the old certificate is served");
            long pid = server.handle().pid();
            Files.move(next, keystore, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
            server.await("the renewed certificate served to new handshakes", Duration.ofSeconds(10),
                    () -> h2Ping(trustsOnlyTheNewOne, ports.lastFront()));
            assertEquals(pid, server.handle().pid());
            ServerProcess.Stopped stopped = server.stop(Duration.ofSeconds(30));
            assertTrue(stopped.graceful(), "stopped cleanly; log:\n" + server.tail(30));
        } finally {
            server.close();
        }
    }

    @Test
    void withNoKeystoreConfiguredASelfSignedCertificateIsGeneratedWithAWarning() throws Exception {
        FreePorts.Plan ports = FreePorts.plan(2);
        ServerProcess server = start("jetty-base-tls-self-signed", ports);
        try {
            assertTrue(server.logText().contains("WARNING: no certificate configured"), server.tail(20));
            assertTrue(server.logText().contains("SELF-SIGNED"), server.tail(20));
            Path generated = BASEDIR.resolve("target/tls/self-signed.p12");
            assertTrue(Files.isRegularFile(generated), "generated on first use");
            assertTrue(h2Ping(Tls.trusting(generated, "jcomet-self-signed"), ports.lastFront()), "h2 with the generated certificate");
        } finally {
            server.close();
        }
    }
}
