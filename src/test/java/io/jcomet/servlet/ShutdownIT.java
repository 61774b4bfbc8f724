package io.jcomet.servlet;

import static org.junit.jupiter.api.Assertions.assertTrue;

import io.jcomet.support.RawStream;
import io.jcomet.support.TestServer;
import java.time.Duration;
import org.junit.jupiter.api.Test;

/** Stopping with an open admin /psub is as quick as without, and the stream ends properly (not cut). */
class ShutdownIT {

    @Test
    void anOpenPresenceStreamEndsCleanlyAndDoesNotDelayTheStop() throws Exception {
        TestServer s = TestServer.start("polling_timeout", "60");
        RawStream psub = new RawStream(s.admin(), "/psub");
        RawStream sub = new RawStream(s.front(), "/stream?cname=present&seq=1");
        psub.awaitBody("1 present", 5000);
        long t0 = System.nanoTime();
        s.close();
        long millis = (System.nanoTime() - t0) / 1_000_000;
        assertTrue(psub.awaitEnd(2000), "the /psub response ended with its last chunk, not a cut connection");
        assertTrue(millis < 2500, "stopped in " + millis + " ms (the container's 5 s graceful wait was not needed)");
        sub.close();
        psub.close();
    }
}
