package io.jcomet.servlet;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.jcomet.support.Engines;
import io.jcomet.support.TestServer;
import io.jcomet.ws.RawWs;
import java.net.Socket;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * No ghosts: a client that closed its connection does not keep its place. A full channel checks
 * its holders before it refuses a newcomer (16 page reloads must not lock the 17th visitor out),
 * and a client that sends a byte after its request and then closes is noticed within 3 s, not
 * after the polling timeout. Default detect_disconnects_after_ms (2 s) throughout. The reloads run on
 * both engines (on Redis, two nodes: the channel is the cluster's, its holders one node's).
 */
class GhostsIT {

    @ParameterizedTest(name = "newcomer on {0}, {1} engine")
    @CsvSource({"/sub,memory", "/stream,memory", "/sse,memory", "ws,memory", "/sub,redis", "ws,redis"})
    void sixteenPageReloadsDoNotLockTheNextSubscriberOut(String newcomer, String engine) throws Exception {
        // on Redis the pages and the newcomer are on one node (the cap protects a node's memory)
        try (Engines e = Engines.start(engine, "max_subscribers_per_channel", "16", "polling_timeout", "30")) {
            TestServer t = e.sub;
            for (int i = 0; i < 16; i++) { // a page loads, subscribes, is reloaded (its connection closes)
                Socket page = DisconnectIT.hold(t.front(), "/sub?cname=room&seq=1");
                int held = i + 1;
                TestServer.awaitIo("page " + held + " held", Duration.ofSeconds(5), () -> t.subscribers("room") == held);
                page.close();
            }
            assertEquals(16, t.subscribers("room"), "not noticed yet: the watch starts after 2 s");
            long start = System.nanoTime();
            Socket http = null;
            RawWs ws = null;
            try {
                if (newcomer.equals("ws")) {
                    ws = RawWs.open("127.0.0.9", t.front(), "/ws?cname=room&seq=1", 0);
                } else {
                    http = DisconnectIT.hold(t.front(), newcomer + "?cname=room&seq=1");
                }
                TestServer.awaitIo("the real subscriber admitted at once", Duration.ofMillis(1000), () -> t.subscribers("room") == 1);
                long ms = (System.nanoTime() - start) / 1_000_000;
                assertEquals(16, t.info("evicted_ghosts"), "the 16 closed pages were found and freed");
                assertEquals(0, t.info("too_many_subscribers"), "nobody was refused");
                assertTrue(ms < 1000, "admitted after " + ms + " ms");
            } finally {
                if (http != null) {
                    http.close();
                }
                if (ws != null) {
                    ws.close();
                }
            }
        }
    }

    @ParameterizedTest(name = "{0}")
    @CsvSource({"/sub", "/stream", "/sse"})
    void aClientThatSendsAByteAndClosesIsNoticedWithinThreeSeconds(String path) throws Exception {
        try (TestServer t = TestServer.start("polling_timeout", "30", "max_subscribers_per_channel", "100")) {
            t.admin("/sign?cname=b");
            List<Socket> ghosts = new ArrayList<>();
            for (int i = 0; i < 20; i++) {
                ghosts.add(DisconnectIT.hold(t.front(), path + "?cname=b&seq=1"));
            }
            TestServer.awaitIo("20 held", Duration.ofSeconds(5), () -> t.subscribers("b") == 20);
            Thread.sleep(200); // the byte comes after the request, as a separate segment
            for (Socket s : ghosts) {
                s.getOutputStream().write('x');
                s.getOutputStream().flush();
            }
            long closedAt = System.nanoTime();
            for (Socket s : ghosts) {
                s.close();
            }
            TestServer.awaitIo("every byte-then-close ghost freed", Duration.ofSeconds(3), () -> t.subscribers("b") == 0);
            long ms = (System.nanoTime() - closedAt) / 1_000_000;
            assertTrue(ms < 3000, "freed after " + ms + " ms");
            assertEquals(20, t.info("disconnected"));
        }
    }
}
