package io.jcomet.jetty;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.jcomet.jetty.HeadDeadlineConnectionFactory.HeadDeadlineConnection;
import io.jcomet.os.OpenFileLimit;
import org.eclipse.jetty.http.HttpFields;
import org.eclipse.jetty.http.HttpHeader;
import org.eclipse.jetty.http.HttpURI;
import org.eclipse.jetty.http.HttpVersion;
import org.eclipse.jetty.http.MetaData;
import org.junit.jupiter.api.Test;

/**
 * The front connectors' connection limit that keeps admin_fd_reserve open files for the admin port,
 * and which admin requests run on the selector thread (admin_inline).
 *
 * <p>Threads: JUnit's test thread only.
 */
class FrontDoorTest {

    @Test
    void theFrontGetsTheLimitMinusWhatIsOpenMinusTheReserve() {
        assertEquals(1024 - 120 - 256, FrontDoor.frontMaxConnections(1024, 120, 256));
        assertEquals(1_110_000 - 300 - 512, FrontDoor.frontMaxConnections(1_110_000, 300, 512));
    }

    @Test
    void noLimitWithoutAReserveOrAKnownFiniteLimit() {
        assertEquals(-1, FrontDoor.frontMaxConnections(1024, 120, 0));
        assertEquals(-1, FrontDoor.frontMaxConnections(OpenFileLimit.UNKNOWN, 120, 512));
        assertEquals(-1, FrontDoor.frontMaxConnections(OpenFileLimit.UNLIMITED, 120, 512));
        assertEquals(-1, FrontDoor.frontMaxConnections(1024, -1, 512));
    }

    private static MetaData.Request get(String pathAndQuery, HttpFields fields) {
        return new MetaData.Request("GET", HttpURI.from("http://127.0.0.1:8000" + pathAndQuery), HttpVersion.HTTP_1_1,
                fields, fields.getLongField(HttpHeader.CONTENT_LENGTH));
    }

    private static boolean inline(String pathAndQuery, HttpFields fields) {
        return HeadDeadlineConnection.runsInline(get(pathAndQuery, fields), FrontDoor.INLINE_PATHS);
    }

    @Test
    void onlyShortRequestsWithoutABodyRunOnTheAdminSelector() {
        HttpFields none = HttpFields.EMPTY;
        for (String path : new String[] {"/push?cname=a&content=b", "/pub?cname=a&content=%22b%22", "/sign?cname=a",
                "/close?cname=a", "/clear?cname=a", "/check?cname=a"}) {
            assertTrue(inline(path, none), path);
        }
        // whatever visits every channel, scans the open files, writes a long answer or is held
        for (String path : new String[] {"/broadcast?content=x", "/info", "/metrics", "/psub", "/batch", "/", "/push/x"}) {
            assertFalse(inline(path, none), path);
        }
        // a body is read with blocking reads
        assertFalse(inline("/push", HttpFields.build().add(HttpHeader.CONTENT_LENGTH, "20")));
        assertFalse(inline("/push", HttpFields.build().add(HttpHeader.TRANSFER_ENCODING, "chunked")));
    }

    @Test
    void aReserveLargerThanWhatIsLeftStillLetsOneConnectionIn() {
        assertEquals(1, FrontDoor.frontMaxConnections(1024, 900, 512));
    }
}
