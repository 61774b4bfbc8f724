package io.jcomet.core;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;

/**
 * One version: pom.xml's. The server reports it (/info, /stats, /metrics, the start-up log) through
 * {@link Broker#VERSION}, which the build writes from the pom; the JavaScript client, a static file
 * served as it is (also by {@code mvn jetty:run}, straight from webapp/), carries it as a literal
 * that must be the same.
 */
class VersionTest {

    static String pomVersion() throws Exception {
        String pom = Files.readString(Path.of("pom.xml"), StandardCharsets.UTF_8);
        Matcher m = Pattern.compile("<artifactId>jcomet</artifactId>\\s*<version>([^<]+)</version>").matcher(pom);
        assertTrue(m.find(), "the project's version in pom.xml");
        return m.group(1).trim();
    }

    @Test
    void theServerReportsThePomVersion() throws Exception {
        assertEquals(pomVersion(), Broker.VERSION, "io/jcomet/version.properties, filtered from pom.xml");
    }

    @Test
    void theJavaScriptClientCarriesThePomVersion() throws Exception {
        String js = Files.readString(Path.of("webapp/js/jcomet.js"), StandardCharsets.UTF_8);
        Matcher m = Pattern.compile("var VERSION = '([^']*)';").matcher(js);
        assertTrue(m.find(), "VERSION in webapp/js/jcomet.js");
        assertEquals(pomVersion(), m.group(1), "webapp/js/jcomet.js's VERSION: set it to pom.xml's version");
    }

    @Test
    void theProductionInstallNamesThisVersionsTarball() throws Exception {
        String deploy = Files.readString(Path.of("docs/DEPLOY.md"), StandardCharsets.UTF_8);
        Matcher m = Pattern.compile("(?m)^v=(\\S+)").matcher(deploy);
        assertTrue(m.find(), "docs/DEPLOY.md's production install sets v=<version>");
        assertEquals(pomVersion(), m.group(1), "docs/DEPLOY.md: v= in the production install");
    }
}
