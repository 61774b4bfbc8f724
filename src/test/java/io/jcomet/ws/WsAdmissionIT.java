package io.jcomet.ws;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.jcomet.support.TestServer;
import java.io.IOException;
import java.io.InputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * The admission policy on WebSockets: one address under the same caps as over HTTP (held
 * subscriptions, new channels per second, a channel's slots, open sockets), and a well-behaved
 * client from another address subscribing and receiving during each attack. Addresses 127.0.0.x
 * stand for internet clients: {@code client_limits_exempt} names an address no test uses.
 */
class WsAdmissionIT {
    private static final String ATTACKER = "127.0.0.5";
    private static final String GOOD = "127.0.0.9";

    private static String[] settings(String... more) {
        List<String> kv = new ArrayList<>(List.of("client_limits_exempt", "127.0.0.250", "ws_max_frames_per_second", "1000"));
        kv.addAll(List.of(more));
        return kv.toArray(new String[0]);
    }

    /** Sends n sub frames and counts the answers: sub_ok, or an error frame with status 429. */
    private static int[] subscribeAll(RawWs ws, List<String> cnames) throws IOException {
        for (String c : cnames) {
            ws.text("{\"op\":\"sub\",\"cname\":\"" + c + "\"}");
        }
        int ok = 0;
        int refused = 0;
        while (ok + refused < cnames.size()) {
            RawWs.Frame f = ws.nextTextOrClose(10_000);
            assertNotNull(f, "an answer to every sub");
            String t = f.text();
            if (t.contains("\"type\":\"sub_ok\"")) {
                ok++;
            } else if (t.contains("\"type\":\"error\"") && t.contains("\"status\":429")) {
                refused++;
            } else if (!t.contains("\"type\":\"next_seq\"")) {
                throw new AssertionError("unexpected frame " + t);
            }
        }
        return new int[] {ok, refused};
    }

    private static List<String> names(String prefix, int from, int n) {
        List<String> out = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            out.add(prefix + (from + i));
        }
        return out;
    }

    /** A well-behaved client from another address: subscribes over WebSocket and receives a push. */
    private static void wellBehavedClientIsServed(TestServer t, String cname) throws Exception {
        // others may hold the channel already: wait for one more (sub_ok is sent before the broker
        // holds the subscription, and a push before that is not this subscriber's: it asked from now)
        int before = Math.max(0, t.subscribers(cname));
        try (RawWs good = RawWs.open(GOOD, t.front(), "/ws", 0)) {
            assertTrue(good.upgraded(), good.head);
            int[] r = subscribeAll(good, List.of(cname));
            assertEquals(1, r[0], "the well-behaved client is admitted");
            TestServer.awaitIo("good client held", Duration.ofSeconds(5), () -> t.subscribers(cname) >= before + 1);
            t.admin("/push?cname=" + cname + "&content=hello");
            long deadline = System.nanoTime() + 5_000_000_000L;
            RawWs.Frame f;
            do {
                f = good.nextTextOrClose(5000);
                assertNotNull(f, "the push reaches the well-behaved client");
            } while (!f.text().contains("\"content\":\"hello\"") && System.nanoTime() < deadline);
            assertTrue(f.text().contains("\"type\":\"data\""), f.text());
        }
    }

    /** GET from a chosen loopback address: the status, or 0 when the request is held (no answer within 1 s). */
    static int httpStatusFrom(String from, int port, String path) throws IOException {
        try (Socket s = new Socket()) {
            s.bind(new InetSocketAddress(InetAddress.getByName(from), 0));
            s.connect(new InetSocketAddress("127.0.0.1", port), 5000);
            s.setSoTimeout(1000);
            s.getOutputStream().write(("GET " + path + " HTTP/1.1\r\nHost: x\r\n\r\n").getBytes(StandardCharsets.US_ASCII));
            InputStream in = s.getInputStream();
            StringBuilder line = new StringBuilder();
            int c;
            try {
                while ((c = in.read()) >= 0 && c != '\n') {
                    line.append((char) c);
                }
            } catch (SocketTimeoutException held) {
                return 0;
            }
            return Integer.parseInt(line.toString().split(" ")[1]);
        }
    }

    @Test
    void subscriptionsOverWebSocketsCountAgainstMaxHeldPerClientLikeHttp() throws Exception {
        try (TestServer t = TestServer.start(settings("max_held_per_client", "50", "max_new_channels_per_client", "0"))) {
            List<RawWs> sockets = new ArrayList<>();
            int ok = 0;
            int refused = 0;
            try {
                for (int i = 0; i < 10; i++) { // 10 sockets x 16 subs on new channels from one address
                    RawWs ws = RawWs.open(ATTACKER, t.front(), "/ws", 0);
                    assertTrue(ws.upgraded(), ws.head);
                    sockets.add(ws);
                    int[] r = subscribeAll(ws, names("a" + i + "-", 0, 16));
                    ok += r[0];
                    refused += r[1];
                }
                assertEquals(50, ok, "held at max_held_per_client");
                assertEquals(110, refused);
                assertEquals(110, t.info("client_held_limit"));
                assertEquals(50, t.info("held_ws"));
                assertEquals(429, httpStatusFrom(ATTACKER, t.front(), "/sub?cname=h&seq=1"), "HTTP from the same address: the same count");
                wellBehavedClientIsServed(t, "a0-0");
                // a socket that closes gives its subscriptions back
                sockets.get(0).close();
                TestServer.awaitIo("first socket's 16 released", Duration.ofSeconds(5), () -> t.info("held_ws") == 34);
                RawWs again = RawWs.open(ATTACKER, t.front(), "/ws", 0);
                sockets.add(again);
                assertEquals(16, subscribeAll(again, names("b", 0, 16))[0]);
            } finally {
                sockets.forEach(RawWs::close);
            }
        }
    }

    @Test
    void oneAddressCannotTakeEverySlotOfAChannel() throws Exception {
        try (TestServer t = TestServer.start(settings("max_held_per_client", "20", "max_subscribers_per_channel", "100"))) {
            List<RawWs> sockets = new ArrayList<>();
            int ok = 0;
            try {
                for (int i = 0; i < 40; i++) {
                    RawWs ws = RawWs.open(ATTACKER, t.front(), "/ws", 0);
                    sockets.add(ws);
                    ok += subscribeAll(ws, List.of("room"))[0];
                }
                assertEquals(20, ok);
                assertEquals(20, t.subscribers("room"));
                wellBehavedClientIsServed(t, "room");
            } finally {
                sockets.forEach(RawWs::close);
            }
        }
    }

    @Test
    void newChannelsAndSubUnsubChurnAreCappedAtTheRate() throws Exception {
        try (TestServer t = TestServer.start(settings("max_new_channels_per_client", "100", "max_channels", "1000"))) {
            List<RawWs> sockets = new ArrayList<>();
            try {
                long start = System.nanoTime();
                int ok = 0;
                for (int i = 0; i < 20; i++) {
                    RawWs ws = RawWs.open(ATTACKER, t.front(), "/ws", 0);
                    sockets.add(ws);
                    ok += subscribeAll(ws, names("n" + i + "-", 0, 16))[0];
                }
                double seconds = (System.nanoTime() - start) / 1e9;
                assertTrue(ok <= 100 * (Math.ceil(seconds) + 1), ok + " channels created in " + seconds + " s");
                assertTrue(t.info("client_channel_rate") >= 320 - ok, "each refusal counted");
                // churn: sub and unsub fresh names on one socket
                RawWs churn = sockets.get(0);
                long c0 = System.nanoTime();
                int created = 0;
                for (int i = 0; i < 300; i++) {
                    churn.text("{\"op\":\"sub\",\"cname\":\"churn" + i + "\"}");
                    churn.text("{\"op\":\"unsub\",\"cname\":\"churn" + i + "\"}");
                }
                int answers = 0;
                while (answers < 600) {
                    RawWs.Frame f = churn.nextTextOrClose(10_000);
                    assertNotNull(f);
                    String x = f.text();
                    if (x.contains("sub_ok") && !x.contains("unsub_ok")) {
                        created++;
                    }
                    if (x.contains("sub_ok") || x.contains("\"type\":\"error\"")) {
                        answers++;
                    }
                }
                double cs = (System.nanoTime() - c0) / 1e9;
                assertTrue(created <= 100 * (Math.ceil(cs) + 1), created + " churned channels in " + cs + " s");
                assertTrue(t.info("channels") < 1000, "the table is not filled");
                wellBehavedClientIsServed(t, "fresh");
            } finally {
                sockets.forEach(RawWs::close);
            }
        }
    }

    @Test
    void openSocketsPerAddressAreCappedWith1008() throws Exception {
        try (TestServer t = TestServer.start(settings("ws_max_sockets_per_client", "5"))) {
            List<RawWs> sockets = new ArrayList<>();
            try {
                for (int i = 0; i < 5; i++) {
                    sockets.add(RawWs.open(ATTACKER, t.front(), "/ws", 0));
                    assertEquals(1, subscribeAll(sockets.get(i), List.of("s" + i))[0]);
                }
                RawWs sixth = RawWs.open(ATTACKER, t.front(), "/ws", 0);
                sockets.add(sixth);
                RawWs.Frame f = sixth.nextTextOrClose(5000);
                assertNotNull(f);
                assertEquals(1008, f.closeCode(), "closed as a policy violation");
                assertEquals(1, t.info("client_socket_limit"));
                wellBehavedClientIsServed(t, "s0");
                sockets.get(0).close();
                TestServer.awaitIo("a socket freed", Duration.ofSeconds(5), () -> t.subscribers("s0") == 0);
                RawWs back = RawWs.open(ATTACKER, t.front(), "/ws", 0);
                sockets.add(back);
                assertEquals(1, subscribeAll(back, List.of("s9"))[0], "back under the cap");
            } finally {
                sockets.forEach(RawWs::close);
            }
        }
    }

    @Test
    void aBinaryFrameClosesWith1003() throws Exception {
        try (TestServer t = TestServer.start(settings()); RawWs ws = RawWs.open(ATTACKER, t.front(), "/ws", 0)) {
            ws.frame(2, new byte[] {1, 2, 3});
            RawWs.Frame f = ws.nextTextOrClose(5000);
            assertNotNull(f);
            assertEquals(1003, f.closeCode());
            assertEquals(1, t.admin("/metrics").body().lines().filter(l -> l.contains("reason=\"ws_binary\"") && l.endsWith(" 1.0")).count());
        }
    }

    @Test
    void unsolicitedPongsDoNotKeepASilentSocketAlive() throws Exception {
        try (TestServer t = TestServer.start(settings("ws_ping_interval", "1"));
             RawWs silent = RawWs.open(ATTACKER, t.front(), "/ws?cname=p", 0)) {
            TestServer.awaitIo("subscribed", Duration.ofSeconds(5), () -> t.subscribers("p") == 1);
            long deadline = System.nanoTime() + 8_000_000_000L;
            // never reads; sends a pong with a payload of its own choosing every 200 ms
            while (t.subscribers("p") == 1 && System.nanoTime() < deadline) {
                try {
                    silent.frame(10, new byte[] {0, 0, 0, 0, 0, 0, 0, 1});
                    silent.frame(10, new byte[0]);
                } catch (IOException closed) {
                    break;
                }
                Thread.sleep(200);
            }
            assertEquals(0, t.subscribers("p"), "closed for not answering the ping it was sent");
        }
    }
}
