package io.jcomet.protocol;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

/** Which exceptions out of a request handler are the client's malformed request (400) and which are ours (500). */
class MalformedRequestsTest {

    private static <T extends RuntimeException> T thrownAt(T e, String... classes) {
        StackTraceElement[] st = new StackTraceElement[classes.length];
        for (int i = 0; i < classes.length; i++) {
            st[i] = new StackTraceElement(classes[i], "m", null, 1);
        }
        e.setStackTrace(st);
        return e;
    }

    @Test
    void aContainerFailingToDecodeParametersIsTheClientsBadRequest() {
        assertTrue(MalformedRequests.isDecodeFailure(thrownAt(new IllegalArgumentException("bad %-encoding"),
                "java.net.URLDecoder", "org.eclipse.jetty.util.UrlEncoded", "io.jcomet.servlet.CometServlet")));
        assertTrue(MalformedRequests.isDecodeFailure(thrownAt(new IllegalStateException("too many parameters"),
                "org.apache.tomcat.util.http.Parameters", "io.jcomet.servlet.AdminParams")));
        assertTrue(MalformedRequests.isDecodeFailure(new RuntimeException(
                thrownAt(new IllegalArgumentException("x"), "org.apache.catalina.connector.Request"))), "as a cause too");
    }

    @Test
    void jcometsOwnIllegalStateIsABugNotABadRequest() {
        assertFalse(MalformedRequests.isDecodeFailure(thrownAt(new IllegalStateException("unexpected route"),
                "io.jcomet.servlet.CometServlet", "org.eclipse.jetty.ee10.servlet.ServletHolder")));
        assertFalse(MalformedRequests.isDecodeFailure(thrownAt(new IllegalArgumentException("bad index"),
                "java.util.Objects", "io.jcomet.core.Broker", "org.eclipse.jetty.server.Server")),
                "thrown by the JDK for jcomet's own call");
        assertFalse(MalformedRequests.isDecodeFailure(new NullPointerException("a plain bug")));
    }
}
