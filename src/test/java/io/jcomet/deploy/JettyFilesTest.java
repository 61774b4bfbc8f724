package io.jcomet.deploy;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.jcomet.launcher.JettyTuning;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * jetty-base's ini files carry exactly the tuning of {@link JettyTuning} (which the embedded launcher
 * uses); that Jetty reads every key they set is checked by {@link JettyFilesKeysIT}, once
 * jetty-home is unpacked. A failure means someone edited a generated block by hand or
 * changed JettyTuning without regenerating ({@link JettyFiles#COMMAND}).
 *
 * <p>Threads: JUnit's test thread only.
 */
class JettyFilesTest {

    private static final Path ROOT = Path.of(System.getProperty("basedir", "."));

    @Test
    void committedIniFilesCarryTheGeneratedTuningBlock() throws Exception {
        for (Map.Entry<String, JettyTuning.Section> e : JettyFiles.INI.entrySet()) {
            String committed = read(e.getKey());
            assertEquals(JettyFiles.withBlock(committed, e.getValue()), committed,
                    e.getKey() + " differs from io.jcomet.launcher.JettyTuning: regenerate with " + JettyFiles.COMMAND);
            assertTrue(committed.contains(JettyFiles.block(e.getValue())), e.getKey());
        }
    }

    @Test
    void theBlockHasOneKeyPerSettingWithItsValue() {
        String block = JettyFiles.block(JettyTuning.HTTP_CONFIG);
        assertTrue(block.contains("\njetty.httpConfig.requestHeaderSize=" + JettyTuning.REQUEST_HEADER_SIZE + "\n"), block);
        assertTrue(block.contains("\njetty.httpConfig.headerCacheSize=0\n"), block);
        long keys = block.lines().filter(l -> !l.startsWith("#")).count();
        assertEquals(JettyTuning.HTTP_CONFIG.settings().size(), keys, block);
    }

    @Test
    void theJettyRunXmlGivesTheFrontConnectorsTheSameTuning() throws Exception {
        // what the plugin does with <jettyXmls>: run the XML against its Server (never started here,
        // so no port is bound)
        org.eclipse.jetty.server.Server server = new org.eclipse.jetty.server.Server();
        new org.eclipse.jetty.xml.XmlConfiguration(org.eclipse.jetty.util.resource.ResourceFactory.root()
                .newResource(ROOT.resolve(FrontConnectorsXml.DEV_PATH).toAbsolutePath())).configure(server);
        org.eclipse.jetty.server.Connector[] connectors = server.getConnectors();
        assertEquals(FrontConnectorsXml.DEV_COUNT, connectors.length);
        org.eclipse.jetty.util.thread.QueuedThreadPool pool = (org.eclipse.jetty.util.thread.QueuedThreadPool) server.getThreadPool();
        assertEquals(JettyTuning.RESERVED_THREADS, pool.getReservedThreads());
        for (org.eclipse.jetty.server.Connector c : connectors) {
            org.eclipse.jetty.server.ServerConnector sc = (org.eclipse.jetty.server.ServerConnector) c;
            assertEquals(JettyTuning.FRONT_IDLE_TIMEOUT_MS, sc.getIdleTimeout());
            assertEquals(JettyTuning.FRONT_ACCEPT_QUEUE_SIZE, sc.getAcceptQueueSize());
            assertEquals(JettyTuning.ACCEPTORS, sc.getAcceptors());
            org.eclipse.jetty.server.HttpConfiguration http =
                    sc.getConnectionFactory(org.eclipse.jetty.server.HttpConnectionFactory.class).getHttpConfiguration();
            assertEquals(JettyTuning.REQUEST_HEADER_SIZE, http.getRequestHeaderSize());
            assertEquals(JettyTuning.RESPONSE_HEADER_SIZE, http.getResponseHeaderSize());
            assertEquals(JettyTuning.INPUT_BUFFER_SIZE, http.getInputBufferSize());
            assertEquals(JettyTuning.HEADER_CACHE_SIZE, http.getHeaderCacheSize());
            assertEquals(JettyTuning.OUTPUT_AGGREGATION_SIZE, http.getOutputAggregationSize());
        }
        // the connection-level front door over exactly these connectors (it wires them at start)
        assertEquals(1, server.getBeans(io.jcomet.jetty.FrontDoor.class).size(), "the XML adds the front door");
    }

    private static String read(String relative) throws Exception {
        return Files.readString(ROOT.resolve(relative), StandardCharsets.UTF_8);
    }
}
