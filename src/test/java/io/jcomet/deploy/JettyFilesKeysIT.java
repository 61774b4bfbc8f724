package io.jcomet.deploy;

import static org.junit.jupiter.api.Assertions.assertTrue;

import io.jcomet.launcher.JettyTuning;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * Every key jetty-base's generated ini blocks set is one that Jetty's module XML (or jcomet's
 * front-connector XML) reads, so a misspelt key cannot be silently ignored. An integration test
 * because it reads the jetty-home Maven unpacks before the integration tests.
 *
 * <p>Threads: JUnit's test thread only.
 */
class JettyFilesKeysIT {

    private static final Path ROOT = Path.of(System.getProperty("basedir", "."));

    @Test
    void everyGeneratedKeyIsOneJettyOrTheFrontXmlReads() throws Exception {
        Path etc = ROOT.resolve("target/jetty-home/etc");
        assertTrue(Files.isDirectory(etc), "target/jetty-home is unpacked by maven-dependency-plugin (pre-integration-test)");
        // the Jetty XML each module runs reads its properties by name: <Property name=".."/> or property=".."
        Map<String, String> readers = Map.of(
                "jetty.httpConfig.", Files.readString(etc.resolve("jetty-http-config.xml")),
                "jetty.byteBufferPool.", Files.readString(etc.resolve("jetty-bytebufferpool.xml")),
                "jetty.threadPool.", Files.readString(etc.resolve("jetty-threadpool.xml")),
                "jetty.http.", Files.readString(etc.resolve("jetty-http.xml")),
                "jcomet.front.", read(FrontConnectorsXml.BASE_PATH),
                "jetty.ssl.", Files.readString(etc.resolve("jetty-ssl.xml")),
                "jetty.sslContext.", Files.readString(etc.resolve("jetty-ssl-context.xml")),
                "jetty.sslContext.reload.", Files.readString(etc.resolve("jetty-ssl-context-reload.xml")),
                "jetty.http2.", Files.readString(etc.resolve("jetty-http2.xml")));
        for (JettyTuning.Section s : JettyFiles.INI.values()) {
            String reader = readers.get(s.iniPrefix());
            for (JettyTuning.Setting set : s.settings()) {
                String key = s.iniPrefix() + set.name();
                assertTrue(reader.contains("name=\"" + key + "\"") || reader.contains("property=\"" + key + "\""), key + " is read by nobody");
            }
        }
    }

    private static String read(String relative) throws Exception {
        return Files.readString(ROOT.resolve(relative), StandardCharsets.UTF_8);
    }
}
