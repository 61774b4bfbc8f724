package io.jcomet.deploy;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.jcomet.ws.WsClient;
import java.net.http.HttpResponse;
import java.time.Duration;

/**
 * The WebSocket promise both containers must keep with the same WAR: {@code /ws} upgrades on a
 * front port, a push arrives as a text frame, a second channel joins by a {@code sub} frame, and
 * the admin {@code /metrics} counts the open socket in its {@code ws} held gauge.
 *
 * <p>Threads: the test thread; frames arrive on the JDK client's threads (see {@link WsClient}).
 */
final class WsRoundTrip {
    private WsRoundTrip() {
    }

    static void run(ServerProcess server, int adminPort, int frontPort) throws Exception {
        String a = "ws" + Long.toHexString(System.nanoTime());
        String b = a + "b";
        try (WsClient ws = WsClient.open(frontPort, "/ws?cname=" + a)) {
            assertEquals("{\"type\":\"sub_ok\",\"cname\":\"" + a + "\"}", ws.next(10));
            assertTrue(ws.next(10).startsWith("{\"type\":\"next_seq\""));
            ws.send("{\"op\":\"sub\",\"cname\":\"" + b + "\"}");
            assertEquals("{\"type\":\"sub_ok\",\"cname\":\"" + b + "\"}", ws.next(10));
            assertTrue(ws.next(10).startsWith("{\"type\":\"next_seq\""));
            server.await("both ws subscriptions held", Duration.ofSeconds(15), () -> {
                HttpResponse<String> info = Http.tryGet(adminPort, "/info?cname=" + b);
                return info != null && Http.jsonLong(info.body(), "subscribers") == 1;
            });
            HttpResponse<String> metrics = Http.get(adminPort, "/metrics");
            assertEquals(200, metrics.statusCode());
            assertTrue(metrics.body().contains("jcomet_held_connections{transport=\"ws\"} 1.0"), metrics.body());
            assertTrue(metrics.body().contains("jcomet_subscriptions{transport=\"ws\"} 2.0"), metrics.body());
            assertTrue(metrics.body().contains("jvm_memory_used_bytes"), "JVM families");

            assertEquals(200, Http.get(adminPort, "/push?cname=" + a + "&content=one").statusCode());
            String one = ws.next(10);
            assertTrue(one.startsWith("{\"type\":\"data\",\"cname\":\"" + a + "\"") && one.contains("\"content\":\"one\""), one);
            assertEquals(200, Http.get(adminPort, "/push?cname=" + b + "&content=two").statusCode());
            String two = ws.next(10);
            assertTrue(two.startsWith("{\"type\":\"data\",\"cname\":\"" + b + "\"") && two.contains("\"content\":\"two\""), two);
        }
    }
}
