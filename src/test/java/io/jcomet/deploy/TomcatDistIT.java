package io.jcomet.deploy;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;

import io.jcomet.launcher.DevCertificate;
import io.jcomet.support.Tls;
import io.jcomet.support.TlsChecks;
import org.junit.jupiter.api.Test;

/**
 * The same, unmodified target/jcomet.war runs on Apache Tomcat 11 (unpacked into target/tomcat by
 * Maven) as ROOT.war, started the documented way: {@code bin/tomcat-dist --no-build}, which writes
 * a CATALINA_BASE with a front connector and a loopback admin connector. One sub/push round trip
 * proves it serves icomet clients; only ROOT is deployed; SIGTERM stops it. With {@code --tls}, the
 * documented https connector (TLS, {@code Http2Protocol}) answers long-poll, /stream and /sse over h2
 * and upgrades /ws over TLS HTTP/1.1.
 *
 * <p>Threads: JUnit's test thread drives everything; see {@link ServerProcess}.
 */
class TomcatDistIT {

    private static final Path BASEDIR = Path.of(System.getProperty("basedir", ".")).toAbsolutePath();

    @Test
    void sameWarOnTomcatAnswersSubAndPush() throws Exception {
        assertTrue(Files.isRegularFile(BASEDIR.resolve("target/tomcat/bin/catalina.sh")),
                "target/tomcat is unpacked by maven-dependency-plugin (pre-integration-test)");
        FreePorts.Plan ports = FreePorts.plan(1);
        Path base = BASEDIR.resolve("target/it-tomcat-base");
        long t0 = System.nanoTime();
        ServerProcess server = ServerProcess.start("tomcat-dist",
                List.of(BASEDIR.resolve("bin/tomcat-dist").toString(), "--no-build"),
                Map.of("JAVA_HOME", System.getProperty("java.home"),
                        "TOMCAT_DIST_BASE", base.toString(),
                        "TOMCAT_FRONT_HOST", "127.0.0.1",
                        "TOMCAT_FRONT_PORT", String.valueOf(ports.front()),
                        "TOMCAT_ADMIN_PORT", String.valueOf(ports.admin())),
                BASEDIR.resolve("target/it-logs/tomcat-dist.log"));
        try {
            server.await("admin port answering", Duration.ofSeconds(60), () -> {
                HttpResponse<String> r = Http.tryGet(ports.admin(), "/info");
                return r != null && r.statusCode() == 200;
            });
            System.out.printf("tomcat-dist: admin %d answering after %d ms%n", ports.admin(),
                    (System.nanoTime() - t0) / 1_000_000);

            HttpResponse<String> ping = Http.get(ports.front(), "/ping");
            assertEquals(200, ping.statusCode(), ping.body());
            assertTrue(ping.body().contains("\"type\":\"ping\""), ping.body());
            try (var apps = Files.list(base.resolve("webapps"))) {
                assertEquals(List.of("ROOT", "ROOT.war"), apps.map(p -> p.getFileName().toString()).sorted().toList(),
                        "only jcomet is deployed, none of Tomcat's bundled apps");
            }

            CometRoundTrip.run(server, ports.admin(), List.of(ports.front()));
            WsRoundTrip.run(server, ports.admin(), ports.front()); // Tomcat's own WebSocket implementation
            assertTrue(server.logText().contains("WebSocket /ws on the front ports (Jakarta WebSocket, ") && server.logText().contains("org.apache.tomcat.websocket"),
                    "/ws through Jakarta WebSocket (the portable adapter); log:\n" + server.tail(30));

            ServerProcess.Stopped stopped = server.stop(Duration.ofSeconds(30));
            System.out.println("tomcat-dist: " + stopped);
            assertTrue(stopped.graceful(), "SIGTERM stopped Tomcat; log:\n" + server.tail(30));
            assertTrue(server.logText().contains("Stopping service [Catalina]"), server.tail(30));
            assertTrue(ServerProcess.refused(ports.front()) && ServerProcess.refused(ports.admin()), "ports closed");
            assertFalse(server.isAlive());
        } finally {
            server.close();
        }
    }

    @Test
    void theHttpsConnectorAnswersSubStreamAndSseOverH2() throws Exception {
        Path keystore = BASEDIR.resolve("target/it-tls/tomcat.p12");
        Files.deleteIfExists(keystore);
        DevCertificate.ensure(keystore);
        FreePorts.Plan ports = FreePorts.plan(2);
        ServerProcess server = ServerProcess.start("tomcat-dist-tls",
                List.of(BASEDIR.resolve("bin/tomcat-dist").toString(), "--no-build", "--tls"),
                Map.of("JAVA_HOME", System.getProperty("java.home"),
                        "TOMCAT_DIST_BASE", BASEDIR.resolve("target/it-tomcat-base-tls").toString(),
                        "TOMCAT_FRONT_HOST", "127.0.0.1",
                        "TOMCAT_FRONT_PORT", String.valueOf(ports.front()),
                        "TOMCAT_ADMIN_PORT", String.valueOf(ports.admin()),
                        "TOMCAT_TLS_PORT", String.valueOf(ports.lastFront()),
                        "TOMCAT_KEYSTORE", keystore.toString(),
                        "TOMCAT_KEYSTORE_PASSWORD", DevCertificate.PASSWORD),
                BASEDIR.resolve("target/it-logs/tomcat-dist-tls.log"));
        try {
            server.await("admin port answering", Duration.ofSeconds(60), () -> {
                HttpResponse<String> r = Http.tryGet(ports.admin(), "/info");
                return r != null && r.statusCode() == 200;
            });
            assertFalse(server.logText().contains("SELF-SIGNED"), "a configured keystore is no reason to warn:\n" + server.tail(20));
            TlsChecks checks = new TlsChecks(ports.lastFront(), Tls.trusting(keystore, DevCertificate.PASSWORD), path -> {
                HttpResponse<String> r = Http.get(ports.admin(), path);
                assertEquals(200, r.statusCode(), path + ": " + r.body());
                return r.body();
            });
            checks.longPollStreamAndSseAnswerOverHttp2();
            checks.webSocketUpgradesOverTlsHttp11();
            ServerProcess.Stopped stopped = server.stop(Duration.ofSeconds(30));
            assertTrue(stopped.graceful(), "SIGTERM stopped Tomcat; log:\n" + server.tail(30));
        } finally {
            server.close();
        }
    }
}
