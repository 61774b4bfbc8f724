package io.jcomet.launcher;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.lang.reflect.Method;
import org.eclipse.jetty.server.HttpConfiguration;
import org.junit.jupiter.api.Test;

/**
 * The embedded launcher applies every HTTP setting of {@link JettyTuning#HTTP_CONFIG}, the list that
 * jetty-base's http-config.ini and the {@code mvn jetty:run} XML are generated from: a setting added
 * to the list but not to the launcher fails here.
 *
 * <p>Threads: JUnit's test thread only.
 */
class JettyTuningTest {

    @Test
    void launcherHttpConfigurationHasEveryListedValue() throws Exception {
        HttpConfiguration http = EmbeddedJcomet.Builder.httpConfiguration();
        for (JettyTuning.Setting s : JettyTuning.HTTP_CONFIG.settings()) {
            String suffix = Character.toUpperCase(s.name().charAt(0)) + s.name().substring(1);
            Method getter;
            try {
                getter = HttpConfiguration.class.getMethod("get" + suffix);
            } catch (NoSuchMethodException e) {
                getter = HttpConfiguration.class.getMethod("is" + suffix);
            }
            assertEquals(s.value(), getter.invoke(http), s.name());
        }
    }

    @Test
    void launcherTlsContextHasEveryListedValue() {
        org.eclipse.jetty.util.ssl.SslContextFactory.Server ssl =
                EmbeddedJcomet.Builder.tlsContext(DevCertificate.DEFAULT, DevCertificate.PASSWORD, JettyTuning.TLS_DEV_ALIAS);
        assertEquals(5, JettyTuning.TLS_CONTEXT.settings().size(), "a new TLS setting needs its check here");
        assertEquals(JettyTuning.TLS_PROTOCOLS, String.join(",", ssl.getIncludeProtocols()));
        assertEquals(JettyTuning.TLS_EXCLUDE_CIPHER_SUITES, String.join(",", ssl.getExcludeCipherSuites()));
        assertEquals(JettyTuning.TLS_SESSION_CACHING, ssl.isSessionCachingEnabled());
        assertEquals(JettyTuning.TLS_SESSION_CACHE_SIZE, ssl.getSslSessionCacheSize());
        assertEquals(JettyTuning.TLS_SESSION_TIMEOUT_S, ssl.getSslSessionTimeout());
    }
}
