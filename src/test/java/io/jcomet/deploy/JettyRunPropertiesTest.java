package io.jcomet.deploy;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.jcomet.config.JcometConfig;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;

/**
 * `mvn jetty:run` reads every {@code jcomet.<key>} system property as a jcomet setting and refuses to
 * start on an unknown key, so each {@code jcomet.*} property pom.xml gives the plugin must be a
 * setting jcomet knows (values for the Jetty XML files are named {@code jcomet-<name>}).
 */
class JettyRunPropertiesTest {

    @Test
    void everyJcometDotPropertyOfTheJettyRunPluginIsAKnownSetting() throws Exception {
        String pom = Files.readString(Path.of("pom.xml"));
        int start = pom.indexOf("<artifactId>jetty-ee10-maven-plugin</artifactId>");
        assertTrue(start >= 0, "the jetty:run plugin in pom.xml");
        int from = pom.indexOf("<systemProperties>", start);
        int to = pom.indexOf("</systemProperties>", from);
        assertTrue(from > 0 && to > from, "the plugin's systemProperties");
        Matcher m = Pattern.compile("<jcomet\\.([A-Za-z0-9_.]+)>").matcher(pom.substring(from, to));
        List<String> unknown = new ArrayList<>();
        int found = 0;
        while (m.find()) {
            found++;
            if (!JcometConfig.KEYS.containsKey(m.group(1))) {
                unknown.add("jcomet." + m.group(1));
            }
        }
        assertTrue(found > 0, "the plugin sets jcomet settings (admin_port at least)");
        assertFalse(!unknown.isEmpty(), "not jcomet settings, jetty:run would refuse to start: " + unknown);
    }
}
