package io.jcomet.deploy;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.jcomet.core.Broker;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;

/**
 * The release: {@code mvn package} makes {@code target/jcomet-<version>-dist.tar.gz}; unpacked in an
 * empty directory it holds everything a host needs besides a JDK, and {@code bin/jetty-dist --no-build}
 * starts it from there: the jetty-home inside the tarball, its jcomet.war, its jetty-base, no
 * Maven and no repository (the unpacked tree has no pom.xml, so nothing can be built or fetched).
 * The shipped systemd unit runs that same script. Ports: see {@link FreePorts}.
 *
 * <p>Threads: JUnit's test thread drives everything; see {@link ServerProcess} for the process tree.
 */
class JettyReleaseIT {

    private static final Path BASEDIR = Path.of(System.getProperty("basedir", ".")).toAbsolutePath();

    @Test
    void theReleaseTarballUnpackedInAnEmptyDirectoryStartsWithItsOwnJettyAndStopsCleanly() throws Exception {
        String name = "jcomet-" + Broker.VERSION;
        Path tarball = BASEDIR.resolve("target/" + name + "-dist.tar.gz");
        assertTrue(Files.isRegularFile(tarball), "mvn package makes " + tarball);

        Path dir = BASEDIR.resolve("target/it-release");
        deleteTree(dir);
        Files.createDirectories(dir);
        Process tar = new ProcessBuilder("tar", "xzf", tarball.toString(), "-C", dir.toString())
                .redirectErrorStream(true).start();
        assertTrue(tar.waitFor(60, TimeUnit.SECONDS), "tar finished within 60 s");
        assertEquals(0, tar.exitValue(), new String(tar.getInputStream().readAllBytes(), StandardCharsets.UTF_8));
        try (Stream<Path> top = Files.list(dir)) {
            assertEquals(List.of(dir.resolve(name)), top.toList(), "one top directory, named after the version");
        }
        Path home = dir.resolve(name);
        for (String f : List.of("bin/jetty-dist", "jcomet.war", "jetty-home/start.jar", "jetty-base/start.d/jvm.ini",
                "jetty-base/etc/jcomet.properties", "jetty-base/webapps/jcomet.xml", "jcomet.service", "README.txt")) {
            assertTrue(Files.isRegularFile(home.resolve(f)), f + " is in the release");
        }
        assertTrue(Files.isExecutable(home.resolve("bin/jetty-dist")), "bin/jetty-dist is executable");
        assertFalse(Files.exists(home.resolve("pom.xml")), "a release, not a source tree");
        String readme = Files.readString(home.resolve("README.txt"));
        assertTrue(readme.contains(name + "-dist.tar.gz") && !readme.contains("${"), "README.txt names this version:\n" + readme);
        String unit = Files.readString(home.resolve("jcomet.service"));
        assertTrue(unit.contains("\nExecStart=/opt/jcomet/bin/jetty-dist --no-build\n")
                && unit.contains("\nWorkingDirectory=/opt/jcomet\n") && unit.contains("\nUser=jcomet\n"),
                "the unit runs the release's script from /opt/jcomet as user jcomet:\n" + unit);

        FreePorts.Plan ports = FreePorts.plan(2);
        ServerProcess server = ServerProcess.start("jetty-release", List.of(home.resolve("bin/jetty-dist").toString(), "--no-build",
                        "jetty.http.port=" + ports.admin(), "jcomet.front.port=" + ports.front(),
                        "jcomet.front.count=" + ports.count(), "jcomet.front.host=127.0.0.1"),
                Map.of("JAVA_HOME", System.getProperty("java.home")), BASEDIR.resolve("target/it-logs/jetty-release.log"));
        try {
            server.await("admin port answering", Duration.ofSeconds(60), () -> {
                HttpResponse<String> r = Http.tryGet(ports.admin(), "/info");
                return r != null && r.statusCode() == 200;
            });
            String log = server.logText();
            assertTrue(log.contains("jetty.home=" + home.resolve("jetty-home")) && log.contains("war=" + home.resolve("jcomet.war")),
                    "the release's own jetty-home and WAR; log:\n" + server.tail(30));
            assertTrue(Http.get(ports.admin(), "/info").body().contains("\"version\":\"" + Broker.VERSION + "\""));
            CometRoundTrip.run(server, ports.admin(), ports.frontPorts());
            ServerProcess.Stopped stopped = server.stop(Duration.ofSeconds(30));
            assertTrue(stopped.graceful(), "SIGTERM stopped the server without SIGKILL; log:\n" + server.tail(30));
            assertTrue(ServerProcess.refused(ports.admin()) && ServerProcess.refused(ports.lastFront()), "ports closed");
        } finally {
            server.close();
        }
    }

    private static void deleteTree(Path dir) throws Exception {
        if (!Files.exists(dir)) {
            return;
        }
        try (Stream<Path> all = Files.walk(dir)) {
            for (Path p : all.sorted(Comparator.reverseOrder()).toList()) {
                Files.delete(p);
            }
        }
    }
}
