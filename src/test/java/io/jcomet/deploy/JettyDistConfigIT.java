package io.jcomet.deploy;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

import org.junit.jupiter.api.Test;

/**
 * How an operator's configuration reaches jcomet under {@code bin/jetty-dist}: {@code JCOMET_CONFIG}
 * replaces jetty-base's etc/jcomet.properties (start.d/jcomet.ini's {@code -Djcomet.config} used to
 * win over it silently), and a setting jcomet does not know stops the server with a message that
 * names the key, the value and where it was set.
 *
 * <p>Threads: JUnit's test thread; see {@link ServerProcess}.
 */
class JettyDistConfigIT {

    private static final Path BASEDIR = Path.of(System.getProperty("basedir", ".")).toAbsolutePath();

    @Test
    void jcometConfigReplacesTheBasesPropertiesFile() throws Exception {
        Path props = BASEDIR.resolve("target/it-config/operator.properties");
        Files.createDirectories(props.getParent());
        Files.writeString(props, "polling_timeout=7\nmax_subscribers_per_channel=33\n");
        FreePorts.Plan ports = FreePorts.plan(1);
        try (ServerProcess server = start(ports, Map.of("JCOMET_CONFIG", props.toString()), "jetty-dist-config.log")) {
            server.await("admin port answering", Duration.ofSeconds(60), () -> {
                HttpResponse<String> r = Http.tryGet(ports.admin(), "/info");
                return r != null && r.statusCode() == 200;
            });
            assertTrue(server.logText().contains("JCOMET_CONFIG: jcomet settings from " + props), "said at start:\n" + server.tail(30));
            assertTrue(server.logText().contains("max_subscribers_per_channel=33"), server.tail(30));
            HttpResponse<String> ping = Http.get(ports.front(), "/ping");
            assertTrue(ping.body().contains("\"sub_timeout\":7"), "polling_timeout from JCOMET_CONFIG's file: " + ping.body());
        }
    }

    @Test
    void anUnknownSettingStopsTheServerNamingKeyValueAndSource() throws Exception {
        FreePorts.Plan ports = FreePorts.plan(1);
        try (ServerProcess server = start(ports, Map.of("JCOMET_NO_SUCH_SETTING", "42"), "jetty-dist-unknown.log")) {
            String expected = "unknown configuration key(s): no_such_setting=42 (from environment variable JCOMET_NO_SUCH_SETTING)";
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
            while (!server.logText().contains(expected) && System.nanoTime() < deadline) {
                Thread.sleep(100);
            }
            assertTrue(server.logText().contains(expected), "log:\n" + server.tail(40));
            HttpResponse<String> ping = Http.tryGet(ports.front(), "/ping");
            assertFalse(ping != null && ping.statusCode() == 200, "no jcomet answering with a bad setting: " + (ping == null ? "" : ping.body()));
        }
    }

    private static ServerProcess start(FreePorts.Plan ports, Map<String, String> env, String log) throws Exception {
        assertTrue(Files.isRegularFile(BASEDIR.resolve("target/jetty-home/start.jar")), "target/jetty-home unpacked");
        Map<String, String> all = new java.util.HashMap<>(env);
        all.put("JAVA_HOME", System.getProperty("java.home"));
        return ServerProcess.start("jetty-dist-config", List.of(BASEDIR.resolve("bin/jetty-dist").toString(), "--no-build",
                        "jetty.http.port=" + ports.admin(), "jcomet.front.port=" + ports.front(),
                        "jcomet.front.count=1", "jcomet.front.host=127.0.0.1"),
                all, BASEDIR.resolve("target/it-logs/" + log));
    }
}
