package io.jcomet.deploy;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.io.IOException;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.FileTime;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;

import org.junit.jupiter.api.Test;

/**
 * {@code bin/jetty-dist --cds} as an operator uses it: the first start has no archive and records
 * one, written when the server stops (SIGTERM); the second start of the same build maps it, which
 * the test sees in the server's {@code /proc/<pid>/maps} and in the JVM's class-loading log (the
 * classes it took from the archive, jcomet's web-app classes among them); both serve a
 * push/subscribe round trip. A changed WAR makes the next start record a new archive. The mode is
 * the one {@code --cds} picks for the JDK: AppCDS on Java 17-24, the AOT cache on 25+
 * (with a JDK 25+, from {@code JAVA25_HOME} or under /usr/lib/jvm, the AOT cache case too).
 *
 * <p>Each case uses a fresh archive directory under target/ ({@code --cds-dir}) and the same
 * ports for every start (the archive belongs to one command line). Threads: JUnit's test thread
 * drives everything; see {@link ServerProcess} for the process.
 */
class JettyDistCdsIT {

    private static final Path BASEDIR = Path.of(System.getProperty("basedir", ".")).toAbsolutePath();
    /** JVM log of the classes loaded and where from: the same option in every start, so one archive fits all. */
    private static final Pattern FROM_ARCHIVE = Pattern.compile("^\\S+ (\\S+) source: shared objects file( \\(top\\))?$", Pattern.MULTILINE);

    @Test
    void secondStartUsesTheArchiveTheFirstRecorded() throws Exception {
        String home = System.getProperty("java.home");
        runCase(home, Runtime.version().feature() >= 25 ? "aot" : "appcds", "default");
    }

    @Test
    void java25RecordsAndUsesTheAotCache() throws Exception {
        String home = java25Home();
        assumeTrue(home != null, "no JDK 25+: neither JAVA25_HOME nor one under /usr/lib/jvm");
        runCase(home, "aot", "java25");
    }

    /** JAVA25_HOME, else a JDK 25 or later installed under /usr/lib/jvm (its release file says), else null. */
    private static String java25Home() throws IOException {
        String env = System.getenv("JAVA25_HOME");
        if (env != null && Files.isExecutable(Path.of(env, "bin/java"))) {
            return env;
        }
        Path jvms = Path.of("/usr/lib/jvm");
        if (!Files.isDirectory(jvms)) {
            return null;
        }
        Pattern version = Pattern.compile("^JAVA_VERSION=\"(\\d+)", Pattern.MULTILINE);
        try (Stream<Path> homes = Files.list(jvms)) {
            for (Path home : homes.sorted().toList()) {
                Path release = home.resolve("release");
                if (Files.isRegularFile(release) && Files.isExecutable(home.resolve("bin/java"))) {
                    Matcher m = version.matcher(Files.readString(release));
                    if (m.find() && Integer.parseInt(m.group(1)) >= 25) {
                        return home.toString();
                    }
                }
            }
        }
        return null;
    }

    private static void runCase(String javaHome, String mode, String name) throws Exception {
        assertTrue(Files.isRegularFile(BASEDIR.resolve("target/jetty-home/start.jar")),
                "target/jetty-home is unpacked by maven-dependency-plugin (pre-integration-test)");
        Path dir = BASEDIR.resolve("target/it-cds/" + name);
        deleteTree(dir);
        Files.createDirectories(dir);
        // a WAR of its own, so that touching it does not disturb other tests
        Path war = dir.resolve("jcomet.war");
        Files.copy(BASEDIR.resolve("target/jcomet.war"), war, StandardCopyOption.REPLACE_EXISTING);
        Path classLog = dir.resolve("class-load.txt");
        FreePorts.Plan ports = FreePorts.plan(2);
        String ext = mode.equals("aot") ? ".aot" : ".jsa";

        // 1. no archive yet: this run records one, written at exit
        ServerProcess first = start(javaHome, dir, war, classLog, ports, name + "-1");
        try {
            awaitAdmin(first, ports);
            assertTrue(first.logText().contains("no " + mode + " archive for this build yet"),
                    "the first start says it records a " + mode + " archive; log:\n" + first.tail(30));
            CometRoundTrip.run(first, ports.admin(), ports.frontPorts());
            // the AOT cache is assembled by a second JVM after the server stopped: seconds
            ServerProcess.Stopped stopped = first.stop(Duration.ofSeconds(120));
            assertTrue(stopped.graceful(), "SIGTERM stopped the recording server; log:\n" + first.tail(30));
        } finally {
            first.close();
        }
        List<Path> recorded = files(dir, ext + ".new");
        assertEquals(1, recorded.size(), "one archive recorded at exit in " + dir + ": " + files(dir, ""));
        assertTrue(Files.size(recorded.get(0)) > 1_000_000, "a real archive: " + recorded.get(0) + " " + Files.size(recorded.get(0)));

        // 2. the same build: the recording is checked, kept, and mapped by the server JVM
        ServerProcess second = start(javaHome, dir, war, classLog, ports, name + "-2");
        try {
            awaitAdmin(second, ports);
            List<Path> archives = files(dir, ext);
            assertEquals(1, archives.size(), "the recording became the archive: " + files(dir, ""));
            Path archive = archives.get(0);
            assertTrue(second.logText().contains("--cds: " + mode + " archive " + archive),
                    "the second start names the archive; log:\n" + second.tail(30));
            String maps = Files.readString(Path.of("/proc/" + second.handle().pid() + "/maps"));
            assertTrue(maps.contains(archive.toString()), "the server JVM maps " + archive);
            List<String> fromArchive = new ArrayList<>();
            Matcher m = FROM_ARCHIVE.matcher(Files.readString(classLog));
            while (m.find()) {
                fromArchive.add(m.group(1));
            }
            System.out.printf("jetty-dist --cds (%s, %s): %d classes from the archive%n", name, mode, fromArchive.size());
            assertTrue(fromArchive.size() > 1000, "Jetty's classes come from the archive: " + fromArchive.size());
            assertTrue(fromArchive.contains("org.eclipse.jetty.server.Server"), "Jetty's Server class from the archive");
            // both archives also hold classes of the web app's own class loader (WEB-INF/classes)
            assertTrue(fromArchive.contains("io.jcomet.core.Broker"), "jcomet's web-app classes from the archive");
            CometRoundTrip.run(second, ports.admin(), ports.frontPorts());
            assertTrue(second.stop(Duration.ofSeconds(60)).graceful(), "stopped; log:\n" + second.tail(30));
        } finally {
            second.close();
        }

        // 3. a new WAR (its time changed): not this archive's build, so the next start records again
        Files.setLastModifiedTime(war, FileTime.fromMillis(System.currentTimeMillis() + 60_000));
        ServerProcess third = start(javaHome, dir, war, classLog, ports, name + "-3");
        try {
            awaitAdmin(third, ports);
            assertTrue(third.logText().contains("no " + mode + " archive for this build yet"),
                    "a changed WAR is recorded anew; log:\n" + third.tail(30));
            assertEquals(List.of(), files(dir, ext), "the earlier build's archive is removed");
            HttpResponse<String> info = Http.get(ports.admin(), "/info");
            assertEquals(200, info.statusCode(), info.body());
        } finally {
            third.kill(); // no need for its recording
            third.close();
        }
    }

    private static ServerProcess start(String javaHome, Path dir, Path war, Path classLog, FreePorts.Plan ports,
            String name) throws IOException {
        List<String> cmd = List.of(BASEDIR.resolve("bin/jetty-dist").toString(), "--no-build", "--cds",
                "--cds-dir", dir.toString(),
                "-Djcomet.war=" + war,
                "-Xlog:class+load=info:file=" + classLog,
                "jetty.http.port=" + ports.admin(),
                "jcomet.front.port=" + ports.front(),
                "jcomet.front.count=" + ports.count(),
                "jcomet.front.host=127.0.0.1");
        return ServerProcess.start("jetty-dist-cds-" + name, cmd, Map.of("JAVA_HOME", javaHome),
                BASEDIR.resolve("target/it-logs/jetty-dist-cds-" + name + ".log"));
    }

    private static void awaitAdmin(ServerProcess server, FreePorts.Plan ports) throws InterruptedException {
        server.await("admin port answering", Duration.ofSeconds(90), () -> {
            HttpResponse<String> r = Http.tryGet(ports.admin(), "/info");
            return r != null && r.statusCode() == 200;
        });
    }

    private static List<Path> files(Path dir, String suffix) throws IOException {
        try (Stream<Path> s = Files.list(dir)) {
            return s.filter(p -> p.getFileName().toString().startsWith("jetty-dist-")
                    && p.getFileName().toString().endsWith(suffix)).sorted().toList();
        }
    }

    private static void deleteTree(Path dir) throws IOException {
        if (Files.exists(dir)) {
            try (Stream<Path> s = Files.walk(dir)) {
                for (Path p : s.sorted(Comparator.reverseOrder()).toList()) {
                    Files.delete(p);
                }
            }
        }
    }
}
