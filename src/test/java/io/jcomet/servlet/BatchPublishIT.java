package io.jcomet.servlet;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.jcomet.support.Engines;
import io.jcomet.support.RawStream;
import io.jcomet.support.TestServer;
import io.jcomet.support.TestServer.Response;
import java.net.http.HttpRequest;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.AfterParameterizedClassInvocation;
import org.junit.jupiter.params.BeforeParameterizedClassInvocation;
import org.junit.jupiter.params.Parameter;
import org.junit.jupiter.params.ParameterizedClass;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Admin /batch: one request, many publishes, each answered and delivered as if pushed alone. On
 * Redis the batch goes to one node and the subscribers are on the other.
 */
@ParameterizedClass(name = "{0}")
@ValueSource(strings = {Engines.MEMORY, Engines.REDIS})
class BatchPublishIT {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static Engines e;
    /** Where /batch and /push go. */
    private static TestServer server;
    /** Where subscribers are: the other node on Redis. */
    private static TestServer front;
    /** The engine of this run (memory or redis), which {@link #start} also receives. */
    @Parameter
    String engine;

    @BeforeParameterizedClassInvocation
    static void start(String engine) throws Exception {
        e = Engines.start(engine, "polling_timeout", "5", "max_batch_lines", "5", "max_batch_bytes", "2048",
                "max_message_size", "64");
        server = e.pub;
        front = e.sub;
    }

    @AfterParameterizedClassInvocation
    static void stop() throws Exception {
        if (e != null) {
            e.close();
            e = null;
        }
    }

    private static Response batch(String body) throws Exception {
        return e.pub.send(HttpRequest.newBuilder(e.pub.uri(e.pub.admin(), "/batch"))
                .POST(HttpRequest.BodyPublishers.ofString(body)));
    }

    private static List<JsonNode> answers(Response r) throws Exception {
        List<JsonNode> out = new ArrayList<>();
        for (String line : r.body().split("\n")) {
            out.add(JSON.readTree(line));
        }
        return out;
    }

    @Test
    void eachLineIsAnsweredInOrderAndABadLineDoesNotSinkTheOthers() throws Exception {
        Response r = batch("cname=ba&content=one\r\ncname=bb&content=x\n\ncname=ba\ncname=ba&content=" + "y".repeat(65)
                + "\ncname=ba&content=two%20%E2%9C%93\n");
        assertEquals(200, r.status(), r.body());
        assertTrue(r.header("content-type").startsWith("application/x-ndjson"), r.header("content-type"));
        assertTrue(r.body().endsWith("\n"), "every answer line ends with a newline");
        List<JsonNode> a = answers(r);
        assertEquals(5, a.size(), "one answer per non-empty line: " + r.body());
        assertEquals("{\"type\":\"ok\",\"seq\":1}", a.get(0).toString());
        assertEquals("{\"type\":\"ok\",\"seq\":1}", a.get(1).toString(), "another channel has its own seq");
        assertEquals("error", a.get(2).get("type").asText());
        assertEquals("missing content", a.get(2).get("reason").asText(), "what /push answers for the same line");
        assertTrue(a.get(3).get("reason").asText().contains("max_message_size"), a.get(3).toString());
        assertEquals("{\"type\":\"ok\",\"seq\":2}", a.get(4).toString(), "a refused line takes no seq");
        JsonNode got = JSON.readTree(front.front("/sub?cname=ba&seq=1").body());
        assertEquals("one", got.get(0).get("content").asText());
        assertEquals("two \u2713", got.get(1).get("content").asText());
        assertEquals(2, got.size());
    }

    @Test
    void subscribersOfEveryTransportGetEachMessageAsIfPushedAlone() throws Exception {
        server.admin("/push?cname=bs&content=before"); // seq 1
        CompletableFuture<Response> poll = front.getAsync(front.front(), "/sub?cname=bs&seq=2");
        try (RawStream stream = new RawStream(front.front(), "/stream?cname=bs&seq=2");
                RawStream sse = new RawStream(front.front(), "/sse?cname=bs&seq=2")) {
            TestServer.awaitIo("3 held on bs", java.time.Duration.ofSeconds(5), () -> front.subscribers("bs") == 3);
            Response r = batch("cname=bs&content=m2\ncname=bs&content=m3\ncname=bs&content=m4\n");
            assertEquals(3, answers(r).size(), r.body());
            String body = stream.awaitBody("\"seq\":4", 5000);
            int i2 = body.indexOf("\"seq\":2");
            int i3 = body.indexOf("\"seq\":3");
            int i4 = body.indexOf("\"seq\":4");
            assertTrue(i2 >= 0 && i2 < i3 && i3 < i4, "in seq order on the stream: " + body);
            assertTrue(sse.awaitBody("id: 4", 5000).contains("m4"));
            JsonNode first = JSON.readTree(poll.get(5, java.util.concurrent.TimeUnit.SECONDS).body());
            JsonNode m = first.isArray() ? first.get(0) : first;
            assertEquals(2, m.get("seq").asInt(), "the long-poll is answered from seq 2: " + first);
            assertEquals("m2", m.get("content").asText());
        }
    }

    @Test
    void tooManyLinesOrBytesAreRefusedWholeBeforeAnythingIsPublished() throws Exception {
        long tooLarge = e.pub.info("too_large");
        Response lines = batch("cname=bt&content=1\n".repeat(6));
        assertEquals(413, lines.status());
        assertTrue(JSON.readTree(lines.body()).get("reason").asText().contains("max_batch_lines"), lines.body());
        Response bytes = batch("cname=bt&content=" + "z".repeat(2100) + "\n");
        assertEquals(413, bytes.status());
        assertTrue(JSON.readTree(bytes.body()).get("reason").asText().contains("max_batch_bytes"), bytes.body());
        assertEquals(tooLarge + 2, e.pub.info("too_large"), "each refusal counted");
        assertEquals("{\"type\":\"ok\",\"seq\":1}\n", e.pub.admin("/push?cname=bt&content=first").body(),
                "nothing of a refused batch was published");
    }

    @Test
    void aRetriedBatchWithIdempotencyKeysPublishesEachMessageOnce() throws Exception {
        String body = "cname=bi&content=a&idempotency_key=k1\ncname=bi&content=b&idempotency_key=k2\n";
        Response first = batch(body);
        Response retry = batch(body); // the publisher did not see the first answer and sends it again
        assertEquals(first.body(), retry.body(), "a retry answers the first publishes' seqs");
        assertEquals("{\"type\":\"ok\",\"seq\":3}\n", e.pub.admin("/push?cname=bi&content=c").body(),
                "the retry published nothing");
    }

    @Test
    void aLongBatchOverSeveralChannelsKeepsEachChannelsOrderAndEveryKey() throws Exception {
        // 150 lines on one channel (more than one script call's worth on Redis) interleaved with
        // another channel's, one key repeated: every answer is what /push one after the other gives
        try (Engines big = e.with("max_batch_lines", "400", "max_batch_bytes", "65536", "polling_timeout", "5");
                RawStream stream = new RawStream(big.sub.front(), "/stream?cname=long&seq=1")) {
            TestServer.awaitIo("held on long", java.time.Duration.ofSeconds(5), () -> big.pub.subscribers("long") == 1);
            StringBuilder body = new StringBuilder();
            for (int i = 1; i <= 150; i++) {
                body.append("cname=long&content=L").append(i).append('\n');
                if (i % 10 == 0) {
                    body.append("cname=other&content=O").append(i / 10).append("&idempotency_key=same\n");
                }
            }
            Response r = big.pub.send(HttpRequest.newBuilder(big.pub.uri(big.pub.admin(), "/batch"))
                    .POST(HttpRequest.BodyPublishers.ofString(body.toString())));
            assertEquals(200, r.status(), r.body());
            List<JsonNode> a = answers(r);
            assertEquals(165, a.size());
            int longSeq = 0;
            for (int i = 0, line = 1; i < a.size(); i++) {
                if (line % 11 == 0) {
                    assertEquals(1, a.get(i).get("seq").asInt(), "a repeated key answers its first seq: " + a.get(i));
                } else {
                    assertEquals(++longSeq, a.get(i).get("seq").asInt(), "line " + line + ": " + a.get(i));
                }
                line++;
            }
            String got = stream.awaitBody("\"L150\"", 10_000);
            int last = -1;
            for (int i = 1; i <= 150; i++) {
                int at = got.indexOf("\"seq\":" + i + ",");
                assertTrue(at > last, "seq " + i + " once and in order on the other node");
                last = at;
            }
            assertEquals("{\"type\":\"ok\",\"seq\":2}\n", big.pub.admin("/push?cname=other&content=next").body(),
                    "the repeated key published once");
        }
    }

    /**
     * Ten messages of one channel in a batch, interleaved with another channel's: every /stream and
     * /sse subscriber gets all of them, in seq order. On one node (memory) each stream gets its share
     * of the batch in one write, so the ten arrive in one HTTP chunk; on Redis the publications come
     * back one by one and are written as they come.
     */
    @Test
    void aBatchReachesEachStreamInOrderAndOnOneNodeInOneWrite() throws Exception {
        try (Engines big = e.with("max_batch_lines", "100", "max_batch_bytes", "65536", "polling_timeout", "30");
                RawStream s1 = new RawStream(big.sub.front(), "/stream?cname=co&seq=1");
                RawStream s2 = new RawStream(big.sub.front(), "/stream?cname=co&seq=1");
                RawStream sse = new RawStream(big.sub.front(), "/sse?cname=co&seq=1");
                RawStream other = new RawStream(big.sub.front(), "/stream?cname=cx&seq=1")) {
            TestServer.awaitIo("held on co and cx", java.time.Duration.ofSeconds(5),
                    () -> big.pub.subscribers("co") == 3 && big.pub.subscribers("cx") == 1);
            StringBuilder body = new StringBuilder();
            for (int i = 1; i <= 10; i++) {
                body.append("cname=co&content=C").append(i).append('\n');
                body.append("cname=cx&content=X").append(i).append('\n');
            }
            Response r = big.pub.send(HttpRequest.newBuilder(big.pub.uri(big.pub.admin(), "/batch"))
                    .POST(HttpRequest.BodyPublishers.ofString(body.toString())));
            assertEquals(200, r.status(), r.body());
            assertEquals(20, answers(r).size(), r.body());
            for (RawStream s : List.of(s1, s2, other)) {
                String prefix = s == other ? "X" : "C";
                String got = s.awaitBody("\"" + prefix + "10\"", 5000);
                int last = -1;
                for (int i = 1; i <= 10; i++) {
                    int at = got.indexOf("\"content\":\"" + prefix + i + "\"");
                    assertTrue(at > last, prefix + i + " once and in order: " + got);
                    assertEquals(at, got.lastIndexOf("\"content\":\"" + prefix + i + "\""), "once: " + got);
                    last = at;
                }
                if (Engines.MEMORY.equals(engine)) {
                    assertEquals(0, s.chunksStartedIn(got.indexOf("\"" + prefix + "1\""), last),
                            "the batch's ten messages in one chunk: " + got);
                }
            }
            String events = sse.awaitBody("id: 10\n", 5000);
            for (int i = 1; i < 10; i++) {
                assertTrue(events.indexOf("id: " + i + "\n") < events.indexOf("id: " + (i + 1) + "\n"), events);
            }
            if (Engines.MEMORY.equals(engine)) {
                assertEquals(0, sse.chunksStartedIn(events.indexOf("id: 1\n"), events.indexOf("id: 10\n")),
                        "one chunk: " + events);
            }
        }
    }

    @Test
    void anEmptyBatchIsABadRequestAndTheFrontPortHasNoBatch() throws Exception {
        Response empty = batch("\n\n");
        assertEquals(400, empty.status());
        assertEquals("error", JSON.readTree(empty.body()).get("type").asText());
        assertEquals(404, e.sub.get(e.sub.front(), "/batch").status());
        Response badUtf8 = e.pub.send(HttpRequest.newBuilder(e.pub.uri(e.pub.admin(), "/batch"))
                .POST(HttpRequest.BodyPublishers.ofByteArray(new byte[] {'c', '=', (byte) 0xC3, '\n'})));
        assertEquals(400, badUtf8.status(), badUtf8.body());
    }
}
