package io.jcomet.ws;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.jcomet.support.Engines;
import io.jcomet.support.TestServer;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.AfterParameterizedClassInvocation;
import org.junit.jupiter.params.BeforeParameterizedClassInvocation;
import org.junit.jupiter.params.Parameter;
import org.junit.jupiter.params.ParameterizedClass;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * {@code /ws} as a client uses it, on the embedded Jetty with the real web.xml: subscribing in the
 * upgrade URL and with frames, one text frame per message holding the /stream JSON, unsub, the
 * token and Origin rules, the per-socket limits, and a reader that stops reading being dropped at
 * max_pending_bytes. On both engines (support/Engines): on Redis the sockets are held on one node
 * and admin requests go to the other, so every delivery crosses nodes.
 */
@ParameterizedClass(name = "{0}")
@ValueSource(strings = {Engines.MEMORY, Engines.REDIS})
class WebSocketIT {
    private static Engines base;
    /** The engine of this run (memory or redis), which {@link #start} also receives. */
    @Parameter
    String engine;

    @BeforeParameterizedClassInvocation
    static void start(String engine) throws Exception {
        base = Engines.start(engine);
    }

    @AfterParameterizedClassInvocation
    static void stop() throws Exception {
        if (base != null) {
            base.close();
            base = null;
        }
    }

    /** A deployment of this run's engine with these settings (on Redis: two more nodes on the same redis-server). */
    private static Engines with(String... keyValues) throws Exception {
        return base.with(keyValues);
    }

    /** The JSON /sub (long-poll) answers for message {@code seq}, minus the newline that ends it (as a /stream line). */
    private static String streamJson(TestServer s, String cname, long seq) throws Exception {
        String body = s.front("/sub?cname=" + cname + "&seq=" + seq).body();
        assertTrue(body.endsWith("\n"), body);
        return body.substring(0, body.length() - 1);
    }

    private static long seqOf(String json) {
        return Long.parseLong(json.replaceAll(".*\"seq\":(\\d+).*", "$1"));
    }

    @Test
    void pushArrivesAsOneTextFrameWithTheStreamJsonAndASecondChannelJoinsBySubFrame() throws Exception {
        try (Engines e = with(); WsClient ws = WsClient.open(e.sub.front(), "/ws?cname=a")) {
            assertEquals("{\"type\":\"sub_ok\",\"cname\":\"a\"}", ws.next(5));
            String next = ws.next(5);
            assertTrue(next.startsWith("{\"type\":\"next_seq\",\"cname\":\"a\""), next);
            TestServer.awaitIo("ws subscriber held", Duration.ofSeconds(5), () -> e.pub.subscribers("a") == 1);

            assertEquals(200, e.pub.admin("/push?cname=a&content=hello%20%22ws%22").status());
            String frame = ws.next(5);
            assertTrue(frame.contains("\"type\":\"data\"") && frame.contains("\"content\":\"hello \\\"ws\\\"\""), frame);
            assertEquals(streamJson(e.sub, "a", seqOf(frame)), frame, "the frame is exactly the JSON a /stream line holds");

            ws.send("{\"op\":\"sub\",\"cname\":\"b\",\"seq\":0}");
            assertEquals("{\"type\":\"sub_ok\",\"cname\":\"b\"}", ws.next(5));
            assertTrue(ws.next(5).startsWith("{\"type\":\"next_seq\",\"cname\":\"b\""));
            TestServer.awaitIo("second subscription held", Duration.ofSeconds(5), () -> e.pub.subscribers("b") == 1);
            e.pub.admin("/push?cname=b&content=to-b");
            String b = ws.next(5);
            assertTrue(b.contains("\"cname\":\"b\"") && b.contains("\"content\":\"to-b\""), b);
            e.pub.admin("/push?cname=a&content=to-a");
            assertTrue(ws.next(5).contains("\"content\":\"to-a\""), "the first channel still delivers on the same socket");
            assertEquals(2, e.sub.info("held_ws"), "one subscription per channel");

            ws.send("{\"op\":\"unsub\",\"cname\":\"a\"}");
            assertEquals("{\"type\":\"unsub_ok\",\"cname\":\"a\"}", ws.next(5));
            assertEquals(0, e.pub.subscribers("a"));
            e.pub.admin("/push?cname=a&content=not-for-me");
            e.pub.admin("/push?cname=b&content=after-unsub");
            String after = ws.next(5);
            assertTrue(after.contains("\"content\":\"after-unsub\""), "nothing of a after unsub, b goes on: " + after);
            assertEquals(0, e.sub.info("disconnected"), "an unsub is not a disconnect");
        }
    }

    @Test
    void replayGapAndSeqRulesAreThoseOfTheOtherTransports() throws Exception {
        try (Engines e = with("channel_buffer_size", "2")) {
            for (int i = 1; i <= 4; i++) {
                e.pub.admin("/push?cname=r&content=m" + i);
            }
            try (WsClient ws = WsClient.open(e.sub.front(), "/ws?cname=r&seq=1&epoch=")) {
                assertEquals("{\"type\":\"sub_ok\",\"cname\":\"r\"}", ws.next(5));
                String gap = ws.next(5);
                assertTrue(gap.startsWith("{\"type\":\"gap\",\"cname\":\"r\",\"from\":1,\"to\":2"), gap);
                assertTrue(ws.next(5).contains("\"content\":\"m3\""));
                assertTrue(ws.next(5).contains("\"content\":\"m4\""));
            }
        }
    }

    @Test
    void tokenRuleAppliesToTheUrlAndToSubFrames() throws Exception {
        try (Engines e = with("auth", "token")) {
            String signed = e.pub.admin("/sign?cname=t").body();
            String token = signed.replaceAll("(?s).*\"token\":\"([0-9a-f]+)\".*", "$1");
            try (WsClient bad = WsClient.open(e.sub.front(), "/ws?cname=t&token=wrong")) {
                assertEquals("{\"type\":\"sub_ok\",\"cname\":\"t\"}", bad.next(5));
                assertEquals("{\"type\":\"401\",\"cname\":\"t\",\"seq\":0,\"content\":\"Token error\"}", bad.next(5));
                bad.send("{\"op\":\"sub\",\"cname\":\"unsigned\"}");
                bad.next(5);
                assertTrue(bad.next(5).startsWith("{\"type\":\"401\",\"cname\":\"unsigned\""), "auth=token: a channel never signed is a token error, as on icomet");
                bad.send("{\"op\":\"sub\",\"cname\":\"t\",\"token\":\"" + token + "\"}");
                assertEquals("{\"type\":\"sub_ok\",\"cname\":\"t\"}", bad.next(5));
                assertTrue(bad.next(5).startsWith("{\"type\":\"next_seq\""), "the right token on the same socket subscribes");
                TestServer.awaitIo("held", Duration.ofSeconds(5), () -> e.pub.subscribers("t") == 1);
                e.pub.admin("/push?cname=t&content=secret");
                assertTrue(bad.next(5).contains("\"content\":\"secret\""));
            }
        }
    }

    @Test
    void originOutsideTheAllowListIsRefusedWith403() throws Exception {
        try (Engines e = with("ws_allowed_origins", "https://good.example, http://localhost:3000")) {
            TestServer s = e.sub; // a front-door rule: the node holding the socket answers and counts it
            String refused = WsClient.rawHandshake(s.front(), "/ws?cname=o", "Origin", "https://evil.example");
            assertTrue(refused.startsWith("HTTP/1.1 403"), refused);
            String accepted = WsClient.rawHandshake(s.front(), "/ws?cname=o", "Origin", "https://good.example");
            assertTrue(accepted.startsWith("HTTP/1.1 101"), accepted);
            try (WsClient ok = WsClient.open(s.front(), "/ws?cname=o", "Origin", "https://GOOD.example");
                 WsClient noOrigin = WsClient.open(s.front(), "/ws?cname=o")) {
                assertEquals("{\"type\":\"sub_ok\",\"cname\":\"o\"}", ok.next(5));
                assertEquals("{\"type\":\"sub_ok\",\"cname\":\"o\"}", noOrigin.next(5), "no Origin: not a browser, allowed");
            }
            assertTrue(s.admin("/metrics").body().contains("jcomet_rejections_total{reason=\"ws_origin\"} 1.0"));
        }
    }

    @Test
    void perSocketLimitsAnswerErrorFramesAndAreCounted() throws Exception {
        try (Engines e = with("ws_max_channels", "2", "ws_max_frames_per_second", "5", "ws_max_frame_bytes", "512");
             WsClient ws = WsClient.open(e.sub.front(), "/ws")) {
            TestServer s = e.sub; // per-socket limits: the node holding the socket answers and counts them
            ws.send("{\"op\":\"sub\",\"cname\":\"c1\"}");
            ws.send("{\"op\":\"sub\",\"cname\":\"c2\"}");
            ws.send("{\"op\":\"sub\",\"cname\":\"c3\"}");
            String error = null;
            for (int i = 0; i < 6 && error == null; i++) {
                String f = ws.next(5);
                if (f.startsWith("{\"type\":\"error\"")) {
                    error = f;
                }
            }
            assertEquals("{\"type\":\"error\",\"op\":\"sub\",\"cname\":\"c3\",\"reason\":\"more than ws_max_channels (2) channels on one socket\"}", error);
            ws.send("{\"op\":\"pub\"}");
            assertTrue(ws.next(5).startsWith("{\"type\":\"error\",\"op\":\"pub\""));
            ws.send("not json");
            assertTrue(ws.next(5).startsWith("{\"type\":\"error\",\"op\":\"?\",\"reason\":\"expected {"));
            // 5 frames so far in (at most) this second; more in the same second are refused
            for (int i = 0; i < 10; i++) {
                ws.send("{\"op\":\"unsub\",\"cname\":\"zz\"}");
            }
            String rate = null;
            for (int i = 0; i < 10 && rate == null; i++) {
                String f = ws.next(5);
                if (f.startsWith("{\"type\":\"error\",\"op\":\"rate\"")) {
                    rate = f;
                }
            }
            assertTrue(rate != null && rate.contains("ws_max_frames_per_second (5)"), String.valueOf(rate));

            ws.send("{\"op\":\"sub\",\"cname\":\"" + "x".repeat(600) + "\"}");
            assertEquals("1009", ws.closed.get(5, TimeUnit.SECONDS).split(" ")[0], "a frame over ws_max_frame_bytes closes the socket");
            TestServer.awaitIo("subscriptions of the closed socket gone", Duration.ofSeconds(5), () -> s.info("held_ws") == 0);
            String metrics = s.admin("/metrics").body();
            assertTrue(metrics.contains("jcomet_rejections_total{reason=\"ws_too_many_channels\"} 1.0"), metrics);
            assertTrue(metrics.contains("jcomet_rejections_total{reason=\"ws_frame_too_large\"} 1.0"), metrics);
            assertTrue(metrics.contains("jcomet_rejections_total{reason=\"ws_bad_frame\"} 2.0"), metrics);
            assertTrue(metrics.matches("(?s).*jcomet_rejections_total\\{reason=\"ws_rate\"} [1-9].*"), metrics);
        }
    }

    @Test
    void aReaderThatStopsReadingIsDroppedAtMaxPendingBytes() throws Exception {
        // no pings: the slow client reads nothing, so it would not answer one either, and on a busy
        // machine the ping timeout could close its socket before its queue reaches the limit
        try (Engines e = with("max_pending_bytes", "65536", "ws_ping_interval", "0");
             WsClient slow = WsClient.open(e.sub.front(), "/ws?cname=slow", false);
             WsClient fast = WsClient.open(e.sub.front(), "/ws?cname=slow")) {
            TestServer s = e.sub; // holds both sockets, drops the slow one and counts it
            TestServer.awaitIo("both held", Duration.ofSeconds(5), () -> e.pub.subscribers("slow") == 2);
            String content = "x".repeat(60_000);
            int pushes = 0;
            // the slow client's kernel buffers fill first, then the server's queue; bounded loop
            while (s.info("dropped_slow") == 0 && pushes < 2000) {
                assertEquals(200, e.pub.send(java.net.http.HttpRequest.newBuilder(e.pub.uri(e.pub.admin(), "/push?cname=slow"))
                        .POST(java.net.http.HttpRequest.BodyPublishers.ofString("content=" + content))).status());
                pushes++;
            }
            assertEquals(1, s.info("dropped_slow"), "dropped after " + pushes + " pushes");
            TestServer.awaitIo("the reading client stays", Duration.ofSeconds(5), () -> e.pub.subscribers("slow") == 1);
            TestServer.awaitIo("slow socket closed", Duration.ofSeconds(10), () -> s.admin("/metrics").body().contains("jcomet_held_connections{transport=\"ws\"} 1.0"));
            int got = 0;
            while (fast.poll(2000) != null) {
                got++;
            }
            assertTrue(got >= pushes, "the reading client got every message: " + got + " of " + pushes);
            System.out.printf("ws slow reader dropped after %d pushes of 60 KB%n", pushes);
        }
    }

    @Test
    void pingsKeepAnsweringClientsOpenAndCloseSilentOnes() throws Exception {
        try (Engines e = with("ws_ping_interval", "1");
             WsClient answering = WsClient.open(e.sub.front(), "/ws?cname=p"); // the JDK client answers pings
             java.net.Socket silent = new java.net.Socket("127.0.0.1", e.sub.front())) {
            TestServer s = e.sub; // pings are the holding node's
            silent.getOutputStream().write(("GET /ws?cname=p HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                    + "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n").getBytes());
            TestServer.awaitIo("both sockets subscribed", Duration.ofSeconds(5), () -> e.pub.subscribers("p") == 2);
            // the silent client never sends a pong: closed after one ping interval unanswered
            TestServer.awaitIo("silent socket closed", Duration.ofSeconds(10), () -> e.pub.subscribers("p") == 1);
            assertTrue(s.admin("/metrics").body().contains("jcomet_ws_ping_timeouts_total 1.0"));
            assertTrue(!answering.closed.isDone(), "the answering client stays: " + answering.closed.getNow(""));
            e.pub.admin("/push?cname=p&content=still-here");
            String f;
            do {
                f = answering.next(5);
            } while (!f.contains("\"type\":\"data\""));
            assertTrue(f.contains("still-here"), f);
        }
    }

    @Test
    void aPlainGetOfWsIsAClear400() throws Exception {
        try (Engines e = with()) {
            TestServer s = e.sub;
            TestServer.Response r = s.front("/ws?cname=x");
            assertEquals(400, r.status(), r.body());
            assertTrue(r.body().startsWith("{\"type\":\"error\",\"reason\":\"/ws is a WebSocket endpoint"), r.body());
            try (WsClient ws = WsClient.open(s.front(), "/ws?cname=x")) {
                assertEquals("{\"type\":\"sub_ok\",\"cname\":\"x\"}", ws.next(5), "the servlet mapping does not get in the upgrade's way");
            }
        }
    }

    @Test
    void wsIsNotServedOnTheAdminPort() throws Exception {
        try (Engines e = with(); WsClient ws = WsClient.open(e.sub.admin(), "/ws?cname=adm")) {
            TestServer s = e.sub;
            assertTrue(ws.closed.get(5, TimeUnit.SECONDS).startsWith("1008 front endpoint"));
            assertNull(ws.poll(100));
            assertEquals(0, s.info("held_ws"));
            assertTrue(s.admin("/metrics").body().contains("jcomet_rejections_total{reason=\"ws_wrong_port\"} 1.0"));
        }
    }
}
