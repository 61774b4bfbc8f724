package io.jcomet.servlet;

import static org.junit.jupiter.api.Assertions.assertEquals;

import io.jcomet.support.TestServer;
import io.jcomet.support.Tls;
import io.jcomet.support.TlsChecks;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The embedded launcher's https front (development certificate, trusted by the test): the checks of
 * {@link TlsChecks}, which jetty-base's https front passes too (JettyBaseTlsIT).
 *
 * <p>Threads: JUnit's test thread.
 */
class TlsIT {
    private static TestServer t;
    private static TlsChecks checks;

    @BeforeAll
    static void start() throws Exception {
        t = TestServer.startWithTls("polling_timeout", "60", "detect_disconnects_after_ms", "0");
        checks = new TlsChecks(t.tls(), Tls.trustingDevCertificate(), path -> {
            TestServer.Response r = t.admin(path);
            assertEquals(200, r.status(), path + ": " + r.body());
            return r.body();
        });
    }

    @AfterAll
    static void stop() {
        if (t != null) {
            t.close();
        }
    }

    @Test
    void longPollStreamAndSseAnswerOverHttp2() throws Exception {
        checks.longPollStreamAndSseAnswerOverHttp2();
    }

    @Test
    void aStreamTheClientResetsFreesItsHolderAtOnceWhileItsConnectionLivesOn() throws Exception {
        checks.aStreamTheClientResetsFreesItsHolderAtOnceWhileItsConnectionLivesOn();
    }

    @Test
    void webSocketUpgradesOverTlsHttp11() throws Exception {
        checks.webSocketUpgradesOverTlsHttp11();
    }

    @Test
    void aTlsLongPollClientThatLeavesIsNoticedAtOnce() throws Exception {
        checks.aTlsLongPollClientThatLeavesIsNoticedAtOnce();
    }

    @Test
    void aRequestPipelinedBehindAHeldOneOverTlsIsStillAnswered() throws Exception {
        checks.aRequestPipelinedBehindAHeldOneOverTlsIsStillAnswered();
    }
}
