package io.jcomet.servlet;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.jcomet.config.ConfigSources;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * In a container (jetty-base, Tomcat, mvn jetty:run) the web app cannot open connectors: the
 * settings that only the embedded launcher applies (icomet.conf's {@code listen} lines among them)
 * are named at start with a warning instead of being ignored silently; admin_port does apply.
 */
class LauncherOnlyKeysTest {

    @Test
    void icometConfListenLinesAreNamedAsNotAppliedInAContainer(@TempDir Path dir) throws Exception {
        Path conf = dir.resolve("icomet.conf");
        Files.writeString(conf, "admin:\n\tlisten: 127.0.0.1:8000\nfront:\n\tlisten: 0.0.0.0:8100\n");
        Properties sys = new Properties();
        sys.setProperty("jcomet.icomet_conf", conf.toString());
        ConfigSources.Loaded loaded = ConfigSources.load(n -> null, List.of(), Map.of(), sys);

        List<String> warnings = JcometBootstrap.notApplied(loaded);
        assertEquals(3, warnings.size(), "admin_host, front_host, front_port: " + warnings);
        assertTrue(warnings.get(0).startsWith("admin_host=127.0.0.1 (from icomet.conf " + conf + ") is NOT applied"), warnings.get(0));
        assertTrue(warnings.get(2).startsWith("front_port=8100 (from icomet.conf"), warnings.get(2));
        assertTrue(warnings.stream().noneMatch(w -> w.startsWith("admin_port")), "admin_port applies: it names the admin connector");
    }

    @Test
    void nothingToSayWhenNoSourceSetsThem() {
        Properties sys = new Properties();
        sys.setProperty("jcomet.admin_port", "8000"); // as mvn jetty:run sets it
        assertEquals(List.of(), JcometBootstrap.notApplied(ConfigSources.load(n -> null, List.of(), Map.of(), sys)));
    }
}
