package io.jcomet.deploy;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

import org.junit.jupiter.api.Test;

/**
 * The documented production path works: {@code bin/jetty-dist --no-build} runs the official
 * jetty-home (unpacked into target/jetty-home by Maven) with {@code jetty.base=jetty-base} and the
 * built target/jcomet.war, as a separate process (one JVM; with {@code --fork}, start.jar plus the
 * server JVM it forks). Checks that the admin port and all 100 front
 * ports answer, that subscribers on the first and the last front port of one channel both get a
 * push, that the admin API is not reachable on a front port, and that SIGTERM stops the server
 * cleanly and frees every port. Ports: see {@link FreePorts}.
 *
 * <p>Threads: JUnit's test thread drives everything; see {@link ServerProcess} for the process tree.
 */
class JettyDistIT {

    private static final Path BASEDIR = Path.of(System.getProperty("basedir", ".")).toAbsolutePath();

    /** bin/jetty-dist as operators run it: one JVM (start.jar --dry-run, then exec). */
    @Test
    void jettyHomeWithJettyBaseServesAdminAnd100FrontPortsAndStopsCleanly() throws Exception {
        FreePorts.Plan ports = FreePorts.plan(100);
        long t0 = System.nanoTime();
        ServerProcess server = startJetty(ports, false);
        try {
            awaitAdmin(server, ports);
            System.out.printf("jetty-dist: admin %d answering after %d ms%n", ports.admin(),
                    (System.nanoTime() - t0) / 1_000_000);
            assertTrue(server.descendants().isEmpty(), "one JVM: the script execs the server command line");

            List<String> failures = new ArrayList<>();
            for (int port : ports.frontPorts()) {
                HttpResponse<String> r = Http.get(port, "/ping");
                if (r.statusCode() != 200 || !r.body().contains("\"type\":\"ping\"")) {
                    failures.add(port + " -> " + r.statusCode() + " " + r.body());
                }
            }
            assertEquals(List.of(), failures, "every front port answers /ping");
            // the base's operator file (etc/jcomet.properties) is what the web app runs with, and the
            // admin port it recognises is the admin connector's (set from jetty.http.port)
            assertTrue(server.logText().contains("max_subscribers_per_channel=20000"),
                    "jetty-base/etc/jcomet.properties applied; log:\n" + server.tail(30));
            assertTrue(server.logText().contains("arrive on port " + ports.admin()),
                    "admin_port follows jetty.http.port; log:\n" + server.tail(30));
            HttpResponse<String> adminInfo = Http.get(ports.admin(), "/info");
            assertTrue(adminInfo.body().contains("\"channels\""), "admin /info: " + adminInfo.body());

            HttpResponse<String> pushOnFront = Http.get(ports.front(), "/push?cname=x&content=y");
            assertEquals(404, pushOnFront.statusCode(), "the admin API must not answer on a front port: " + pushOnFront.body());

            CometRoundTrip.run(server, ports.admin(), List.of(ports.front(), ports.lastFront()));
            WsRoundTrip.run(server, ports.admin(), ports.lastFront());
            // the base's jcomet-websocket module and the WAR's jetty-ee10-web.xml: /ws runs on Jetty's
            // WebSocket core, not on the Jakarta layer (about half the memory per idle socket)
            assertTrue(server.logText().contains("WebSocket /ws on the front ports (Jetty WebSocket core)"),
                    "/ws through Jetty's WebSocket core; log:\n" + server.tail(30));

            long s0 = System.nanoTime();
            ServerProcess.Stopped stopped = server.stop(Duration.ofSeconds(30));
            System.out.printf("jetty-dist: stopped in %d ms: %s%n", (System.nanoTime() - s0) / 1_000_000, stopped);
            assertTrue(stopped.graceful(), "SIGTERM stopped the server without SIGKILL; log:\n" + server.tail(30));
            assertTrue(server.logText().contains("Stopped oejs.Server"), "Jetty logged its stop; log:\n" + server.tail(30));
            assertTrue(ServerProcess.refused(ports.admin()), "admin port closed");
            assertTrue(ports.frontPorts().stream().allMatch(ServerProcess::refused), "every front port closed");
        } finally {
            server.close();
        }
    }

    /**
     * {@code bin/jetty-dist --fork}: plain {@code java -jar start.jar}, which with jvm.ini's --exec
     * forks the server as a child JVM. The child holds the sockets; stopping it (SIGTERM) must stop
     * the server cleanly and let the launcher exit. It also deploys a WAR from elsewhere through the
     * {@code -Djcomet.war} system property, as the production set-up does (jcomet must not take it
     * for one of its settings).
     */
    @Test
    void startJarExecForksTheServerAndStopsWithIt() throws Exception {
        FreePorts.Plan ports = FreePorts.plan(100);
        ServerProcess server = startJetty(ports, true);
        try {
            awaitAdmin(server, ports);
            List<ProcessHandle> kids = server.descendants();
            assertEquals(1, kids.size(), "start.jar forked one server JVM (--exec): " + kids);
            assertTrue(server.logText().contains("jcomet-elsewhere.war"),
                    "the WAR named by -Djcomet.war is the one deployed; log:\n" + server.tail(30));
            for (int port : List.of(ports.front(), ports.lastFront())) {
                HttpResponse<String> r = Http.get(port, "/ping");
                assertEquals(200, r.statusCode(), port + ": " + r.body());
            }
            ServerProcess.Stopped stopped = server.stop(Duration.ofSeconds(30));
            System.out.println("jetty-dist --fork: " + stopped);
            assertTrue(stopped.graceful(), "server child and launcher stopped without SIGKILL; log:\n" + server.tail(30));
            assertTrue(kids.stream().noneMatch(ProcessHandle::isAlive), "forked server JVM gone");
            assertTrue(server.logText().contains("Stopped oejs.Server"), "Jetty logged its stop; log:\n" + server.tail(30));
            assertTrue(ServerProcess.refused(ports.admin()) && ServerProcess.refused(ports.lastFront()), "ports closed");
        } finally {
            server.close();
        }
    }

    private static ServerProcess startJetty(FreePorts.Plan ports, boolean fork) throws Exception {
        assertTrue(Files.isRegularFile(BASEDIR.resolve("target/jetty-home/start.jar")),
                "target/jetty-home is unpacked by maven-dependency-plugin (pre-integration-test)");
        assertTrue(Files.isRegularFile(BASEDIR.resolve("target/jcomet.war")), "the WAR is built by package");
        List<String> cmd = new ArrayList<>(List.of(BASEDIR.resolve("bin/jetty-dist").toString(), "--no-build"));
        if (fork) {
            cmd.add("--fork");
            // the production set-up points the base at a WAR elsewhere (docs/DEPLOY.md)
            Path war = BASEDIR.resolve("target/it-war/jcomet-elsewhere.war");
            Files.createDirectories(war.getParent());
            Files.copy(BASEDIR.resolve("target/jcomet.war"), war, java.nio.file.StandardCopyOption.REPLACE_EXISTING);
            cmd.add("-Djcomet.war=" + war);
        }
        cmd.addAll(List.of(
                "jetty.http.port=" + ports.admin(),
                "jcomet.front.port=" + ports.front(),
                "jcomet.front.count=" + ports.count(),
                "jcomet.front.host=127.0.0.1"));
        return ServerProcess.start(fork ? "jetty-dist-fork" : "jetty-dist", cmd,
                Map.of("JAVA_HOME", System.getProperty("java.home")),
                BASEDIR.resolve(fork ? "target/it-logs/jetty-dist-fork.log" : "target/it-logs/jetty-dist.log"));
    }

    private static void awaitAdmin(ServerProcess server, FreePorts.Plan ports) throws InterruptedException {
        server.await("admin port answering", Duration.ofSeconds(60), () -> {
            HttpResponse<String> r = Http.tryGet(ports.admin(), "/info");
            return r != null && r.statusCode() == 200;
        });
    }
}
