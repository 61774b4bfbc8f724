package io.jcomet.deploy;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.jcomet.launcher.DevCertificate;
import io.jcomet.launcher.JettyTuning;
import io.jcomet.support.Tls;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import org.eclipse.jetty.server.Handler;
import org.eclipse.jetty.server.Request;
import org.eclipse.jetty.server.Response;
import org.eclipse.jetty.server.Server;
import org.eclipse.jetty.server.ServerConnector;
import org.eclipse.jetty.util.Callback;
import org.eclipse.jetty.util.ssl.SslContextFactory;
import org.eclipse.jetty.xml.XmlConfiguration;
import org.junit.jupiter.api.Test;

/**
 * The https front of {@code mvn jetty:run} (src/main/jetty/jetty-tls.xml) is what {@link TlsXml}
 * generates from {@link JettyTuning}, and works: applied to a Server as the plugin does (port moved
 * to an ephemeral one), it answers over HTTP/2 with the development certificate.
 *
 * <p>Threads: JUnit's test thread; the HttpClient's threads.
 */
class TlsXmlTest {
    private static final Path ROOT = Path.of(System.getProperty("basedir", "."));

    @Test
    void committedXmlIsTheGeneratedOne() throws Exception {
        assertEquals(TlsXml.dev(), Files.readString(ROOT.resolve(TlsXml.DEV_PATH), StandardCharsets.UTF_8),
                TlsXml.DEV_PATH + " differs from io.jcomet.launcher.JettyTuning: regenerate with " + JettyFiles.COMMAND);
    }

    @Test
    void theJettyRunXmlServesH2WithTheDevelopmentCertificate() throws Exception {
        Path keystore = DevCertificate.ensure(DevCertificate.DEFAULT);
        System.setProperty("jcomet.tls_port", "0");
        System.setProperty("jcomet-dev-keystore", keystore.toAbsolutePath().toString());
        Server server = new Server();
        try {
            new XmlConfiguration(org.eclipse.jetty.util.resource.ResourceFactory.root()
                    .newResource(ROOT.resolve(TlsXml.DEV_PATH).toAbsolutePath())).configure(server);
            server.setHandler(new Handler.Abstract() {
                @Override
                public boolean handle(Request request, Response response, Callback callback) {
                    response.write(true, java.nio.ByteBuffer.wrap(request.getConnectionMetaData().getProtocol()
                            .getBytes(StandardCharsets.US_ASCII)), callback);
                    return true;
                }
            });
            server.start();
            ServerConnector tls = (ServerConnector) server.getConnectors()[0];
            assertEquals(JettyTuning.FRONT_IDLE_TIMEOUT_MS, tls.getIdleTimeout());
            assertEquals(java.util.List.of("ssl", "alpn", "h2", "http/1.1"), tls.getProtocols());
            SslContextFactory ssl = server.getBean(org.eclipse.jetty.util.ssl.KeyStoreScanner.class) == null ? null
                    : tls.getConnectionFactory(org.eclipse.jetty.server.SslConnectionFactory.class).getSslContextFactory();
            assertTrue(ssl != null, "the keystore is watched for reloads");
            assertEquals(JettyTuning.TLS_PROTOCOLS, String.join(",", ssl.getIncludeProtocols()));
            HttpClient h2 = Tls.h2(Tls.trusting(keystore, DevCertificate.PASSWORD));
            HttpResponse<String> r = h2.send(HttpRequest.newBuilder(URI.create("https://127.0.0.1:" + tls.getLocalPort() + "/"))
                    .timeout(Duration.ofSeconds(10)).build(), HttpResponse.BodyHandlers.ofString());
            assertEquals(HttpClient.Version.HTTP_2, r.version());
            assertEquals("HTTP/2.0", r.body());
        } finally {
            server.stop();
            System.clearProperty("jcomet.tls_port");
            System.clearProperty("jcomet-dev-keystore");
        }
    }
}
