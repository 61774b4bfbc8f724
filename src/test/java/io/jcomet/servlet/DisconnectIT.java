package io.jcomet.servlet;

import static io.jcomet.support.SocketReads.readUntil;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.jcomet.support.TestServer;
import java.io.File;
import java.io.IOException;
import java.io.OutputStream;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * A held subscriber whose client closes its connection (FIN or RST) is removed, counted and its
 * file descriptor closed within about a second of being watched (at once with
 * {@code detect_disconnects_after_ms=0}, otherwise once held that long), on every transport; and a
 * request pipelined behind a held one is still served (the watch reads nothing away from Jetty).
 */
class DisconnectIT {

    /** Sends a GET and leaves the connection open; the caller closes it. */
    static Socket hold(int port, String pathAndQuery) throws IOException {
        Socket s = new Socket("127.0.0.1", port);
        s.getOutputStream().write(("GET " + pathAndQuery + " HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n").getBytes(StandardCharsets.US_ASCII));
        s.getOutputStream().flush();
        return s;
    }

    static void close(Socket s, boolean reset) throws IOException {
        if (reset) {
            s.setSoLinger(true, 0); // RST instead of FIN
        }
        s.close();
    }

    static long openFds() {
        String[] fds = new File("/proc/self/fd").list();
        return fds == null ? -1 : fds.length;
    }

    @ParameterizedTest(name = "{0} reset={1} watched after {2} ms")
    @CsvSource({"/sub,false,0", "/sub,true,500", "/stream,false,500", "/sse,true,0", "/iframe,false,500"})
    void sixteenClosedSubscribersFreeTheirChannelForTheSeventeenthWithinASecondOfBeingWatched(
            String path, boolean reset, int watchAfterMillis) throws Exception {
        try (TestServer t = TestServer.start("max_subscribers_per_channel", "16", "polling_timeout", "60",
                "detect_disconnects_after_ms", Integer.toString(watchAfterMillis))) {
            t.admin("/sign?cname=full"); // the channel exists, so subscribers are held on it
            List<Socket> clients = new ArrayList<>();
            for (int i = 0; i < 16; i++) {
                clients.add(hold(t.front(), path + "?cname=full&seq=1"));
            }
            TestServer.awaitIo("16 held", Duration.ofSeconds(5), () -> t.subscribers("full") == 16);
            long closedAt = System.nanoTime();
            for (Socket s : clients) {
                close(s, reset);
            }
            long bound = watchAfterMillis + 1500;
            TestServer.awaitIo("the 16 closed clients removed", Duration.ofMillis(bound), () -> t.subscribers("full") == 0);
            long millis = (System.nanoTime() - closedAt) / 1_000_000;
            assertEquals(16, t.info("disconnected"), "each departure counted");
            try (Socket seventeenth = hold(t.front(), path + "?cname=full&seq=1")) {
                TestServer.awaitIo("the 17th subscriber held", Duration.ofSeconds(2), () -> t.subscribers("full") == 1);
            }
            assertTrue(millis < bound, "freed after " + millis + " ms");
        }
    }

    @Test
    void sixHundredClosedLongPollsGiveTheirFileDescriptorsBackWithinThreeSecondsOfBeingWatched() throws Exception {
        // the default detect_disconnects_after_ms (2 s): the 600 are watched by the time they close
        try (TestServer t = TestServer.start("polling_timeout", "120", "max_subscribers_per_channel", "1000")) {
            t.admin("/sign?cname=many");
            long baseline = openFds();
            List<Socket> clients = new ArrayList<>();
            for (int i = 0; i < 600; i++) {
                clients.add(hold(t.front(), "/sub?cname=many&seq=1"));
            }
            TestServer.awaitIo("600 held", Duration.ofSeconds(10), () -> t.subscribers("many") == 600);
            // the 1,200 sockets (client and server ends) are open; the baseline may hold a few fds that
            // close meanwhile (the admin call's pooled client connection), hence the small margin
            assertTrue(openFds() >= baseline + 1180, "client and server fds open: " + openFds() + " vs baseline " + baseline);
            for (Socket s : clients) {
                s.close();
            }
            // the clients' 600 fds close at once; the server's must follow within 3 s of the watch starting
            TestServer.await("server fds back near the baseline", Duration.ofSeconds(5), () -> openFds() <= baseline + 20);
            // "near" leaves room for a few connections Jetty closed itself, whose departure reaches the
            // broker a moment after the fd went: wait for that too, on its own bound
            TestServer.awaitIo("every closed client forgotten", Duration.ofSeconds(3), () -> t.subscribers("many") == 0);
            assertEquals(600, t.info("disconnected"));
            assertEquals(0, t.info("held_poll"));
        }
    }

    @Test
    void aRequestPipelinedBehindAHeldOneIsStillAnsweredAfterIt() throws Exception {
        try (TestServer t = TestServer.start("detect_disconnects_after_ms", "0")) { // watched from the start
            t.admin("/sign?cname=pipe");
            try (Socket s = new Socket("127.0.0.1", t.front())) {
                s.setSoTimeout(200);
                OutputStream out = s.getOutputStream();
                out.write(("GET /sub?cname=pipe&seq=1 HTTP/1.1\r\nHost: x\r\n\r\n"
                        + "GET /ping?cb= HTTP/1.1\r\nHost: x\r\n\r\n").getBytes(StandardCharsets.US_ASCII));
                out.flush();
                TestServer.awaitIo("held", Duration.ofSeconds(5), () -> t.subscribers("pipe") == 1);
                Thread.sleep(300); // give a wrongly eager watch the chance to misread the pipelined bytes
                assertEquals(1, t.subscribers("pipe"), "a pipelined request is not a disconnect");
                assertEquals(200, t.admin("/push?cname=pipe&content=hello").status());
                String both = readUntil(s.getInputStream(), "\"type\":\"ping\"", Duration.ofSeconds(5));
                assertTrue(both.contains("\"content\":\"hello\""), both);
                assertEquals(0, t.info("disconnected"));
            }
        }
    }

    @Test
    void aClientThatStaysIsNotDisconnected() throws Exception {
        try (TestServer t = TestServer.start("polling_timeout", "1")) {
            t.admin("/sign?cname=stay");
            try (Socket s = hold(t.front(), "/stream?cname=stay&seq=1")) {
                TestServer.awaitIo("held", Duration.ofSeconds(5), () -> t.subscribers("stay") == 1);
                assertEquals(200, t.admin("/push?cname=stay&content=one").status());
                // a noop after the 1 s polling timeout, then another message: the stream lives on
                String seen = readUntil(s.getInputStream(), "\"type\":\"noop\"", Duration.ofSeconds(5));
                assertTrue(seen.contains("\"content\":\"one\""), seen);
                assertEquals(200, t.admin("/push?cname=stay&content=two").status());
                readUntil(s.getInputStream(), "\"content\":\"two\"", Duration.ofSeconds(5));
                assertEquals(1, t.subscribers("stay"));
                assertEquals(0, t.info("disconnected"));
            }
        }
    }

    @ParameterizedTest(name = "reset={0}")
    @CsvSource({"false", "true"})
    void aPresenceStreamWhoseClientLeftAfterALineIsReleasedWithoutAnotherLine(boolean reset) throws Exception {
        try (TestServer t = TestServer.start()) {
            Socket psub = hold(t.admin(), "/psub");
            psub.setSoTimeout(200);
            TestServer.awaitIo("psub held", Duration.ofSeconds(5), () -> t.info("held_psub") == 1);
            t.admin("/sign?cname=seen");
            readUntil(psub.getInputStream(), "1 seen", Duration.ofSeconds(5)); // the stream delivered a line
            close(psub, reset);
            // nothing else happens on the server: no later line could fail and reveal the departure
            TestServer.awaitIo("the departed presence stream released", Duration.ofMillis(1500), () -> t.info("held_psub") == 0);
        }
    }
}
