package io.jcomet.servlet;

import static org.junit.jupiter.api.Assertions.assertEquals;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.jcomet.support.TestServer;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.concurrent.atomic.AtomicIntegerArray;
import org.junit.jupiter.api.Test;

/**
 * Keep-alive long-polls re-polling at once while the disconnect watch is armed on them: a client
 * that has its answer sends its next request before the fan-out walk has ended the response, and
 * that request must reach Jetty, not be read away as junk by the watch (the client would then wait
 * for an answer to a request the server never saw, and miss every message until it reconnects).
 */
class RepollWhileWatchedIT {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final int CLIENTS = 200;
    private static final int MESSAGES = 20;

    @Test
    void everyClientThatRepollsAtOnceGetsEveryMessage() throws Exception {
        // watched from the start, so every held long-poll of the fan-out has the watch armed
        try (TestServer s = TestServer.start("detect_disconnects_after_ms", "0", "max_subscribers_per_channel", "1000",
                "polling_timeout", "30")) {
            HttpClient http = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build();
            AtomicIntegerArray last = new AtomicIntegerArray(CLIENTS); // highest seq each client has
            for (int c = 0; c < CLIENTS; c++) {
                poll(http, s, c, 1, last);
            }
            TestServer.awaitIo(CLIENTS + " held", Duration.ofSeconds(10), () -> s.subscribers("rp") == CLIENTS);
            for (int m = 1; m <= MESSAGES; m++) {
                assertEquals(200, s.admin("/push?cname=rp&content=m" + m).status());
                int seq = m;
                // each client gets m and re-polls for m + 1 at once; wait until all are held again
                TestServer.awaitIo("every client has seq " + seq + " and is held again", Duration.ofSeconds(10), () -> {
                    for (int c = 0; c < CLIENTS; c++) {
                        if (last.get(c) < seq) {
                            return false;
                        }
                    }
                    return seq == MESSAGES || s.subscribers("rp") == CLIENTS; // after the last, nobody re-polls
                });
            }
        }
    }

    private static void poll(HttpClient http, TestServer s, int client, int seq, AtomicIntegerArray last) {
        HttpRequest req = HttpRequest.newBuilder(s.uri(s.front(), "/sub?cname=rp&seq=" + seq + "&epoch=")).build();
        http.sendAsync(req, HttpResponse.BodyHandlers.ofString()).thenAccept(r -> {
            try {
                JsonNode answer = JSON.readTree(r.body());
                int got = seq - 1;
                for (JsonNode m : answer.isArray() ? answer : JSON.createArrayNode().add(answer)) {
                    if ("data".equals(m.path("type").asText())) {
                        got = Math.max(got, m.get("seq").asInt());
                    }
                }
                last.accumulateAndGet(client, got, Math::max);
                if (got < MESSAGES) {
                    poll(http, s, client, got + 1, last); // at once, as a long-poll client does
                }
            } catch (Exception e) {
                throw new IllegalStateException(e);
            }
        });
    }
}
