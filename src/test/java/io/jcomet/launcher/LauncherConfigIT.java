package io.jcomet.launcher;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.jcomet.config.ConfigException;
import io.jcomet.support.TestServer;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.util.Map;
import java.util.Properties;
import org.junit.jupiter.api.Test;

/** The launcher's connectors follow the same configuration sources as every other setting. */
class LauncherConfigIT {

    @Test
    void adminAndFrontHostsComeFromTheEnvironmentAndTheConfigFile() throws Exception {
        Properties sys = new Properties();
        sys.setProperty("jcomet.front_host", "127.0.0.3");
        EmbeddedJcomet.Builder b = Main.builder(new String[] {"--admin-port", "0", "--front-port", "0", "--front-count", "1"},
                Map.of("JCOMET_ADMIN_HOST", "127.0.0.2"), sys);
        try (EmbeddedJcomet s = b.start()) {
            assertTrue(connects("127.0.0.2", s.adminPort()), "admin on admin_host");
            assertTrue(!connects("127.0.0.1", s.adminPort()), "not on another address");
            assertTrue(connects("127.0.0.3", s.frontPort(0)), "front on front_host");
        }
    }

    @Test
    void anAdminPortAmongTheFrontPortsIsRefusedWhateverSetsIt() {
        ConfigException e = assertThrows(ConfigException.class,
                () -> Main.builder(new String[0], Map.of("JCOMET_ADMIN_PORT", "8150"), new Properties()));
        assertTrue(e.getMessage().contains("admin_port") && e.getMessage().contains("front ports"), e.getMessage());
        assertThrows(ConfigException.class, () -> Main.builder(new String[] {"--front-port", "9000", "--admin-port", "9003"}, Map.of(), new Properties()));
    }

    @Test
    void theWebAppUsesTheAdminPortTheLauncherReallyOpened() throws Exception {
        System.setProperty("jcomet.admin_port", "1"); // highest precedence in the web app's own loading
        try (TestServer t = TestServer.start()) {
            assertEquals(200, t.admin("/info").status(), "admin API on the launcher's admin connector");
            assertEquals(404, t.front("/info").status(), "and not on a front port");
        } finally {
            System.clearProperty("jcomet.admin_port");
        }
    }

    /**
     * The launcher, run as README shows it, prints jcomet's lines and not Jetty's INFO (one line per
     * connector, ~110 at the default 100 front ports); -Dorg.eclipse.jetty.LEVEL=INFO brings them back.
     */
    @org.junit.jupiter.params.ParameterizedTest(name = "jetty level {0}")
    @org.junit.jupiter.params.provider.ValueSource(strings = {"", "INFO"})
    void theLauncherIsQuietUnlessJettysLevelIsAskedFor(String level) throws Exception {
        io.jcomet.deploy.FreePorts.Plan ports = io.jcomet.deploy.FreePorts.plan(10);
        java.util.List<String> cmd = new java.util.ArrayList<>(java.util.List.of(
                java.nio.file.Path.of(System.getProperty("java.home"), "bin", "java").toString()));
        if (!level.isEmpty()) {
            cmd.add("-Dorg.eclipse.jetty.LEVEL=" + level);
        }
        cmd.addAll(java.util.List.of("-cp", System.getProperty("surefire.test.class.path", System.getProperty("java.class.path")),
                "io.jcomet.launcher.Main", "--host", "127.0.0.1", "--front-host", "127.0.0.1",
                "--admin-port", String.valueOf(ports.admin()), "--front-port", String.valueOf(ports.front()), "--front-count", "10"));
        io.jcomet.deploy.ServerProcess p = io.jcomet.deploy.ServerProcess.start("launcher-" + (level.isEmpty() ? "default" : level), cmd, Map.of(),
                java.nio.file.Path.of("target/it-logs/launcher-" + (level.isEmpty() ? "default" : level) + ".log"));
        try {
            p.await("the launcher's line", java.time.Duration.ofSeconds(30), () -> p.logText().contains("jcomet admin=http://"));
            String log = p.logText();
            long jettyInfo = log.lines().filter(l -> l.contains(":INFO :oej")).count();
            if (level.isEmpty()) {
                assertEquals(0, jettyInfo, "no Jetty INFO lines by default:\n" + log);
                assertTrue(log.contains("jcomet " + io.jcomet.core.Broker.VERSION + " started"), "jcomet's own INFO lines stay:\n" + log);
            } else {
                assertTrue(jettyInfo >= 11, "one Jetty INFO line per connector at least, got " + jettyInfo + ":\n" + log);
            }
        } finally {
            p.close();
        }
    }

    private static boolean connects(String host, int port) {
        try (Socket s = new Socket()) {
            s.connect(new InetSocketAddress(host, port), 1000);
            return true;
        } catch (Exception e) {
            return false;
        }
    }
}
