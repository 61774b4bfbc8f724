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

    private static boolean connects(String host, int port) {
        try (Socket s = new Socket()) {
            s.connect(new InetSocketAddress(host, port), 1000);
            return true;
        } catch (Exception e) {
            return false;
        }
    }
}
