package io.jcomet.ws;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.jcomet.support.TestServer;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/**
 * {@code /ws} as a client uses it, on the embedded Jetty with the real web.xml: subscribing in the
 * upgrade URL and with frames, one text frame per message holding the /stream JSON, unsub, the
 * token and Origin rules, the per-socket limits, and a reader that stops reading being dropped at
 * max_pending_bytes.
 */
class WebSocketIT {

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
        try (TestServer s = TestServer.start(); WsClient ws = WsClient.open(s.front(), "/ws?cname=a")) {
            assertEquals("{\"type\":\"sub_ok\",\"cname\":\"a\"}", ws.next(5));
            String next = ws.next(5);
            assertTrue(next.startsWith("{\"type\":\"next_seq\",\"cname\":\"a\""), next);
            TestServer.awaitIo("ws subscriber held", Duration.ofSeconds(5), () -> s.subscribers("a") == 1);

            assertEquals(200, s.admin("/push?cname=a&content=hello%20%22ws%22").status());
            String frame = ws.next(5);
            assertTrue(frame.contains("\"type\":\"data\"") && frame.contains("\"content\":\"hello \\\"ws\\\"\""), frame);
            assertEquals(streamJson(s, "a", seqOf(frame)), frame, "the frame is exactly the JSON a /stream line holds");

            ws.send("{\"op\":\"sub\",\"cname\":\"b\",\"seq\":0}");
            assertEquals("{\"type\":\"sub_ok\",\"cname\":\"b\"}", ws.next(5));
            assertTrue(ws.next(5).startsWith("{\"type\":\"next_seq\",\"cname\":\"b\""));
            TestServer.awaitIo("second subscription held", Duration.ofSeconds(5), () -> s.subscribers("b") == 1);
            s.admin("/push?cname=b&content=to-b");
            String b = ws.next(5);
            assertTrue(b.contains("\"cname\":\"b\"") && b.contains("\"content\":\"to-b\""), b);
            s.admin("/push?cname=a&content=to-a");
            assertTrue(ws.next(5).contains("\"content\":\"to-a\""), "the first channel still delivers on the same socket");
            assertEquals(2, s.info("held_ws"), "one subscription per channel");

            ws.send("{\"op\":\"unsub\",\"cname\":\"a\"}");
            assertEquals("{\"type\":\"unsub_ok\",\"cname\":\"a\"}", ws.next(5));
            assertEquals(0, s.subscribers("a"));
            s.admin("/push?cname=a&content=not-for-me");
            s.admin("/push?cname=b&content=after-unsub");
            String after = ws.next(5);
            assertTrue(after.contains("\"content\":\"after-unsub\""), "nothing of a after unsub, b goes on: " + after);
            assertEquals(0, s.info("disconnected"), "an unsub is not a disconnect");
        }
    }

    @Test
    void replayGapAndSeqRulesAreThoseOfTheOtherTransports() throws Exception {
        try (TestServer s = TestServer.start("channel_buffer_size", "2")) {
            for (int i = 1; i <= 4; i++) {
                s.admin("/push?cname=r&content=m" + i);
            }
            try (WsClient ws = WsClient.open(s.front(), "/ws?cname=r&seq=1&epoch=")) {
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
        try (TestServer s = TestServer.start("auth", "token")) {
            String signed = s.admin("/sign?cname=t").body();
            String token = signed.replaceAll("(?s).*\"token\":\"([0-9a-f]+)\".*", "$1");
            try (WsClient bad = WsClient.open(s.front(), "/ws?cname=t&token=wrong")) {
                assertEquals("{\"type\":\"sub_ok\",\"cname\":\"t\"}", bad.next(5));
                assertEquals("{\"type\":\"401\",\"cname\":\"t\",\"seq\":0,\"content\":\"Token error\"}", bad.next(5));
                bad.send("{\"op\":\"sub\",\"cname\":\"unsigned\"}");
                bad.next(5);
                assertTrue(bad.next(5).startsWith("{\"type\":\"401\",\"cname\":\"unsigned\""), "auth=token: a channel never signed is a token error, as on icomet");
                bad.send("{\"op\":\"sub\",\"cname\":\"t\",\"token\":\"" + token + "\"}");
                assertEquals("{\"type\":\"sub_ok\",\"cname\":\"t\"}", bad.next(5));
                assertTrue(bad.next(5).startsWith("{\"type\":\"next_seq\""), "the right token on the same socket subscribes");
                TestServer.awaitIo("held", Duration.ofSeconds(5), () -> s.subscribers("t") == 1);
                s.admin("/push?cname=t&content=secret");
                assertTrue(bad.next(5).contains("\"content\":\"secret\""));
            }
        }
    }

    @Test
    void originOutsideTheAllowListIsRefusedWith403() throws Exception {
        try (TestServer s = TestServer.start("ws_allowed_origins", "https://good.example, http://localhost:3000")) {
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
        try (TestServer s = TestServer.start("ws_max_channels", "2", "ws_max_frames_per_second", "5", "ws_max_frame_bytes", "512");
             WsClient ws = WsClient.open(s.front(), "/ws")) {
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
        try (TestServer s = TestServer.start("max_pending_bytes", "65536");
             WsClient slow = WsClient.open(s.front(), "/ws?cname=slow", false);
             WsClient fast = WsClient.open(s.front(), "/ws?cname=slow")) {
            TestServer.awaitIo("both held", Duration.ofSeconds(5), () -> s.subscribers("slow") == 2);
            String content = "x".repeat(60_000);
            int pushes = 0;
            // the slow client's kernel buffers fill first, then the server's queue; bounded loop
            while (s.info("dropped_slow") == 0 && pushes < 2000) {
                assertEquals(200, s.send(java.net.http.HttpRequest.newBuilder(s.uri(s.admin(), "/push?cname=slow"))
                        .POST(java.net.http.HttpRequest.BodyPublishers.ofString("content=" + content))).status());
                pushes++;
            }
            assertEquals(1, s.info("dropped_slow"), "dropped after " + pushes + " pushes");
            assertEquals(1, s.subscribers("slow"), "the reading client stays");
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
        try (TestServer s = TestServer.start("ws_ping_interval", "1");
             WsClient answering = WsClient.open(s.front(), "/ws?cname=p"); // the JDK client answers pings
             java.net.Socket silent = new java.net.Socket("127.0.0.1", s.front())) {
            silent.getOutputStream().write(("GET /ws?cname=p HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                    + "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n").getBytes());
            TestServer.awaitIo("both sockets subscribed", Duration.ofSeconds(5), () -> s.subscribers("p") == 2);
            // the silent client never sends a pong: closed after one ping interval unanswered
            TestServer.awaitIo("silent socket closed", Duration.ofSeconds(10), () -> s.subscribers("p") == 1);
            assertTrue(s.admin("/metrics").body().contains("jcomet_ws_ping_timeouts_total 1.0"));
            assertTrue(!answering.closed.isDone(), "the answering client stays: " + answering.closed.getNow(""));
            s.admin("/push?cname=p&content=still-here");
            String f;
            do {
                f = answering.next(5);
            } while (!f.contains("\"type\":\"data\""));
            assertTrue(f.contains("still-here"), f);
        }
    }

    @Test
    void aPlainGetOfWsIsAClear400() throws Exception {
        try (TestServer s = TestServer.start()) {
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
        try (TestServer s = TestServer.start(); WsClient ws = WsClient.open(s.admin(), "/ws?cname=adm")) {
            assertTrue(ws.closed.get(5, TimeUnit.SECONDS).startsWith("1008 front endpoint"));
            assertNull(ws.poll(100));
            assertEquals(0, s.info("held_ws"));
            assertTrue(s.admin("/metrics").body().contains("jcomet_rejections_total{reason=\"ws_wrong_port\"} 1.0"));
        }
    }
}
