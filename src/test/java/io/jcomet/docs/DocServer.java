package io.jcomet.docs;

import io.jcomet.deploy.FreePorts;
import io.jcomet.deploy.ServerProcess;
import io.jcomet.launcher.EmbeddedJcomet;

import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * A server a doc tells the reader to start, started by the docs check on free ports, with the map
 * from the ports the doc shows (admin 8000, front 8100-8199, Tomcat's front 8080) to the ports it
 * got, so the doc's commands can be pointed at it:
 * <ul>
 *   <li>{@code mvn jetty:run}: an equivalent server, not the plugin itself (a nested Maven start
 *       inside {@code mvn verify} is slow): the embedded launcher serving the same {@code webapp/}
 *       with the compiled classes, an admin connector on 127.0.0.1 and 100 front connectors on
 *       127.0.0.1, and the {@code jcomet.*} system properties the pom's jetty plugin sets;</li>
 *   <li>{@code bin/jetty-dist}: the script itself with {@code --no-build} (the build has just run)
 *       and the port properties, as {@code JettyDistIT} starts it;</li>
 *   <li>{@code bin/tomcat-dist}: the script itself with {@code --no-build} and the port variables, as
 *       {@code TomcatDistIT} starts it.</li>
 * </ul>
 * Threads: started, used and closed by the test thread.
 */
abstract class DocServer implements AutoCloseable {

    static final Path BASEDIR = Path.of(System.getProperty("basedir", ".")).toAbsolutePath();
    private static final HttpClient HTTP = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(2)).build();

    final String name;
    /** Port the doc shows → port this server listens on. */
    final Map<Integer, Integer> ports = new LinkedHashMap<>();

    DocServer(String name) {
        this.name = name;
    }

    /** The server a command starts, or null when the command does not start one. */
    static String kind(String command) {
        String c = command.strip().replaceAll("\\s*&$", "");
        if (c.equals("mvn jetty:run")) {
            return "mvn jetty:run";
        }
        if (c.equals("bin/jetty-dist") || c.startsWith("bin/jetty-dist ")) {
            return "bin/jetty-dist";
        }
        if (c.equals("bin/tomcat-dist") || c.startsWith("bin/tomcat-dist ")) {
            return "bin/tomcat-dist";
        }
        if (c.matches("mvn (-q )?compile exec:java( .*)?")) {
            return "embedded launcher";
        }
        return null;
    }

    static DocServer start(String command, Path logDir) throws Exception {
        String kind = kind(command);
        List<String> extra = new ArrayList<>(List.of(command.strip().replaceAll("\\s*&$", "").split("\\s+")));
        extra.remove(0);
        extra.remove("--no-build");
        switch (kind) {
            case "mvn jetty:run": return new Embedded();
            case "bin/jetty-dist": return new JettyDist(extra, logDir);
            case "bin/tomcat-dist": return new Tomcat(logDir);
            case "embedded launcher": return new Launcher(command, logDir);
            default: throw new IllegalArgumentException(command);
        }
    }

    void mapDefaults(FreePorts.Plan plan) {
        ports.put(8000, plan.admin());
        for (int i = 0; i < plan.count(); i++) {
            ports.put(8100 + i, plan.front() + i);
        }
    }

    /** What the server printed (stdout and stderr), for a server command whose output the doc shows. */
    String output() {
        return "";
    }

    /** A short note for failure reports: which server, which ports. */
    String describe() {
        return name + " (doc ports → check ports: 8000→" + ports.get(8000)
                + (ports.containsKey(8100) ? ", 8100-8199→" + ports.get(8100) + "-" + ports.get(8199) : "")
                + (ports.containsKey(8080) ? ", 8080→" + ports.get(8080) : "") + ")";
    }

    static boolean answers(int port, String path) {
        try {
            HttpResponse<String> r = HTTP.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + path))
                    .timeout(Duration.ofSeconds(3)).build(), HttpResponse.BodyHandlers.ofString());
            return r.statusCode() == 200;
        } catch (IOException e) {
            return false;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return false;
        }
    }

    @Override
    public abstract void close() throws Exception;

    /** {@code mvn jetty:run}'s equivalent, in this JVM. */
    static final class Embedded extends DocServer {
        private final EmbeddedJcomet server;

        Embedded() throws Exception {
            super("mvn jetty:run (equivalent: the embedded launcher with webapp/ and the pom's jcomet.* properties)");
            FreePorts.Plan plan = FreePorts.plan(100);
            EmbeddedJcomet.Builder b = EmbeddedJcomet.builder().host("127.0.0.1").frontHost("127.0.0.1")
                    .adminPort(plan.admin()).frontPorts(plan.front(), plan.count()).maxThreads(256)
                    .webappDir(BASEDIR.resolve("webapp").toString());
            jettyRunSettings().forEach(b::set);
            server = b.start();
            mapDefaults(plan);
        }

        /**
         * The jcomet settings {@code mvn jetty:run} runs with: the {@code jcomet.*} system properties in
         * the jetty plugin's configuration (admin_port aside: it follows the connector).
         */
        static Map<String, String> jettyRunSettings() throws IOException {
            String pom = Files.readString(BASEDIR.resolve("pom.xml"));
            int plugin = pom.indexOf("<artifactId>jetty-ee10-maven-plugin</artifactId>");
            Map<String, String> out = new LinkedHashMap<>();
            if (plugin < 0) {
                return out;
            }
            String section = pom.substring(plugin, pom.indexOf("</plugin>", plugin));
            Matcher sp = Pattern.compile("<systemProperties>(.*?)</systemProperties>", Pattern.DOTALL).matcher(section);
            while (sp.find()) {
                Matcher p = Pattern.compile("<jcomet\\.([\\w.]+)>([^<$]*)</jcomet\\.\\1>").matcher(sp.group(1));
                while (p.find()) {
                    if (!p.group(1).equals("admin_port")) {
                        out.put(p.group(1), p.group(2).strip());
                    }
                }
            }
            return out;
        }

        @Override
        public void close() {
            server.stop();
        }
    }

    /** A container run by its script as a separate process. */
    abstract static class Script extends DocServer {
        ServerProcess process;

        Script(String name) {
            super(name);
        }

        void awaitAdmin() throws InterruptedException {
            int admin = ports.get(8000);
            try {
                process.await("admin port " + admin + " answering /info", Duration.ofSeconds(90), () -> answers(admin, "/info"));
            } catch (AssertionError | InterruptedException e) {
                process.kill(); // the caller gets no server to close
                throw e;
            }
        }

        @Override
        String describe() {
            return super.describe() + ", log " + process.log();
        }

        @Override
        String output() {
            return process.logText();
        }

        @Override
        public void close() throws Exception {
            if (process != null) {
                process.close();
            }
        }
    }

    static final class JettyDist extends Script {
        JettyDist(List<String> docArgs, Path logDir) throws Exception {
            super("bin/jetty-dist --no-build");
            FreePorts.Plan plan = FreePorts.plan(100);
            mapDefaults(plan);
            List<String> cmd = new ArrayList<>(List.of(BASEDIR.resolve("bin/jetty-dist").toString(), "--no-build"));
            cmd.addAll(docArgs);
            cmd.addAll(List.of("jetty.http.port=" + plan.admin(), "jcomet.front.port=" + plan.front(),
                    "jcomet.front.count=" + plan.count(), "jcomet.front.host=127.0.0.1"));
            process = ServerProcess.start("docs-jetty-dist", cmd, Map.of("JAVA_HOME", System.getProperty("java.home")),
                    logDir.resolve("jetty-dist.log"));
            awaitAdmin();
        }
    }

    /**
     * {@code mvn -q compile exec:java -Dexec.args="..."}: the same main class ({@code
     * io.jcomet.launcher.Main}, the exec plugin's) with the same arguments, in a JVM on the test
     * class path instead of Maven's (a nested Maven start is slow); {@code --admin-port} and
     * {@code --front-port} get free ports, the front connectors bind to 127.0.0.1.
     */
    static final class Launcher extends Script {
        Launcher(String command, Path logDir) throws Exception {
            super("the embedded launcher (io.jcomet.launcher.Main, the exec plugin's main class, on the test class path)");
            Matcher m = Pattern.compile("-Dexec\\.args=\"([^\"]*)\"").matcher(command);
            List<String> args = new ArrayList<>(m.find() ? List.of(m.group(1).trim().split("\\s+")) : List.of());
            int count = 100;
            for (int i = 0; i + 1 < args.size(); i++) {
                if (args.get(i).equals("--front-count")) {
                    count = Integer.parseInt(args.get(i + 1));
                }
            }
            FreePorts.Plan plan = FreePorts.plan(count);
            for (int i = 0; i + 1 < args.size(); i++) {
                if (args.get(i).equals("--admin-port")) {
                    ports.put(Integer.parseInt(args.get(i + 1)), plan.admin());
                    args.set(i + 1, String.valueOf(plan.admin()));
                } else if (args.get(i).equals("--front-port")) {
                    int docFront = Integer.parseInt(args.get(i + 1));
                    for (int p = 0; p < count; p++) {
                        ports.put(docFront + p, plan.front() + p);
                    }
                    args.set(i + 1, String.valueOf(plan.front()));
                }
            }
            ports.putIfAbsent(8000, plan.admin());
            List<String> cmd = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                    "-cp", System.getProperty("surefire.test.class.path", System.getProperty("java.class.path")),
                    "io.jcomet.launcher.Main", "--front-host", "127.0.0.1"));
            cmd.addAll(args);
            process = ServerProcess.start("docs-launcher", cmd, Map.of(), logDir.resolve("launcher.log"));
            awaitAdmin();
        }
    }

    static final class Tomcat extends Script {
        Tomcat(Path logDir) throws Exception {
            super("bin/tomcat-dist --no-build");
            FreePorts.Plan plan = FreePorts.plan(1);
            ports.put(8000, plan.admin());
            ports.put(8080, plan.front());
            process = ServerProcess.start("docs-tomcat-dist",
                    List.of(BASEDIR.resolve("bin/tomcat-dist").toString(), "--no-build"),
                    Map.of("JAVA_HOME", System.getProperty("java.home"),
                            "TOMCAT_DIST_BASE", BASEDIR.resolve("target/docs-check/tomcat-base").toString(),
                            "TOMCAT_FRONT_HOST", "127.0.0.1",
                            "TOMCAT_FRONT_PORT", String.valueOf(plan.front()),
                            "TOMCAT_ADMIN_PORT", String.valueOf(plan.admin())),
                    logDir.resolve("tomcat-dist.log"));
            awaitAdmin();
        }
    }
}
