package io.jcomet.redis;

import static io.jcomet.redis.Nodes.data;
import static io.jcomet.redis.Nodes.heldHere;
import static io.jcomet.support.TestServer.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import io.jcomet.support.RawStream;
import io.jcomet.support.TestServer;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** The admin API acts on the cluster from any node: counts, check, close, clear, broadcast, presence. */
class ClusterAdminIT {
    private static RedisProcess redis;
    private static TestServer a;
    private static TestServer b;
    private static TestServer c;

    @BeforeAll
    static void start() throws Exception {
        RedisProcess.assumeAvailable();
        redis = RedisProcess.launch();
        a = Nodes.node(redis.uri(), "polling_timeout", "2");
        b = Nodes.node(redis.uri(), "polling_timeout", "2");
        c = Nodes.node(redis.uri(), "polling_timeout", "2");
    }

    @AfterAll
    static void stop() throws Exception {
        for (TestServer n : new TestServer[] {a, b, c}) {
            if (n != null) {
                n.close();
            }
        }
        if (redis != null) {
            redis.close();
        }
    }

    @Test
    void infoAndCheckOnOneNodeCountSubscribersOnEveryNode() throws Exception {
        try (RawStream s1 = new RawStream(b.front(), "/stream?cname=cnt&seq=1");
                RawStream s2 = new RawStream(c.front(), "/stream?cname=cnt&seq=1");
                RawStream s3 = new RawStream(c.front(), "/sse?cname=cnt&seq=1")) {
            await("held on b and c", Duration.ofSeconds(5), () -> heldHere(b, "cnt") == 1 && heldHere(c, "cnt") == 2);
            assertEquals(0, heldHere(a, "cnt"));
            assertEquals(3, a.subscribers("cnt"));
            assertEquals("{\"cnt\":1}\n", a.admin("/check?cname=cnt").body());
            assertEquals("{}\n", a.admin("/check?cname=nobody-here").body());
        }
    }

    @Test
    void closeOnOneNodeClosesTheChannelOnEveryNode() throws Exception {
        Nodes.push(a, "cl", "x");
        try (RawStream s1 = new RawStream(b.front(), "/stream?cname=cl&seq=2");
                RawStream s2 = new RawStream(c.front(), "/stream?cname=cl&seq=2")) {
            await("held", Duration.ofSeconds(5), () -> heldHere(b, "cl") == 1 && heldHere(c, "cl") == 1);
            TestServer.Response r = a.admin("/close?cname=cl");
            assertEquals(200, r.status(), r.body());
            assertEquals("ok 2\n", r.body());
            for (RawStream s : List.of(s1, s2)) {
                s.awaitBody("\"close\"", 5000);
                assertTrue(s.awaitEnd(5000));
            }
            assertEquals(404, a.admin("/close?cname=cl").status(), "already closed everywhere");
        }
    }

    @Test
    void clearOnOneNodeEmptiesTheBufferForEveryNode() throws Exception {
        for (int i = 0; i < 3; i++) {
            Nodes.push(a, "clr", "m" + i);
        }
        // b has the channel (and its buffer) locally; c does not
        assertEquals(3, data(b.front("/sub?cname=clr&seq=1").body()).size());
        assertEquals("ok 4\n", a.admin("/clear?cname=clr").body());
        for (TestServer n : List.of(b, c)) {
            await("buffer cleared on a node", Duration.ofSeconds(5), () -> {
                try {
                    return data(n.front("/sub?cname=clr&seq=1").body()).isEmpty();
                } catch (Exception e) {
                    throw new RuntimeException(e);
                }
            });
        }
    }

    @Test
    void broadcastOnOneNodeReachesChannelsOnEveryNodeOnce() throws Exception {
        try (RawStream onB = new RawStream(b.front(), "/stream?cname=bc1&seq=1");
                RawStream onC = new RawStream(c.front(), "/stream?cname=bc2&seq=1");
                RawStream bothB = new RawStream(b.front(), "/stream?cname=bc3&seq=1");
                RawStream bothC = new RawStream(c.front(), "/stream?cname=bc3&seq=1")) {
            await("held", Duration.ofSeconds(5), () -> heldHere(b, "bc1") == 1 && heldHere(c, "bc2") == 1
                    && heldHere(b, "bc3") == 1 && heldHere(c, "bc3") == 1);
            assertEquals(200, a.admin("/broadcast?content=hello-all").status());
            for (RawStream s : List.of(onB, onC, bothB, bothC)) {
                s.awaitBody("hello-all", 5000);
            }
            Nodes.push(a, "bc3", "after");
            bothB.awaitBody("\"after\"", 5000);
            bothC.awaitBody("\"after\"", 5000);
            for (RawStream s : List.of(bothB, bothC)) {
                List<JsonNode> msgs = Nodes.messages(s.body()).stream()
                        .filter(n -> n.path("type").asText().equals("broadcast") || n.path("type").asText().equals("data")).toList();
                assertEquals(2, msgs.size(), "the channel on two nodes got the broadcast once: " + s.body());
                assertEquals(1, msgs.get(0).get("seq").asInt());
                assertEquals(2, msgs.get(1).get("seq").asInt());
            }
        }
    }

    @Test
    void aPushedChannelAnswersAsOnOneNode() throws Exception {
        for (int i = 1; i <= 3; i++) {
            Nodes.push(a, "pushed", "m" + i);
        }
        // no node serves it, but it exists (as long as Redis keeps it)
        assertEquals("{\"pushed\":1}\n", b.admin("/check?cname=pushed").body());
        assertEquals(0, c.subscribers("pushed"));
        // /sign answers the oldest buffered seq, as one node does
        assertEquals(1, Nodes.JSON.readTree(c.admin("/sign?cname=pushed").body()).get("seq").asInt());
    }

    @Test
    void askingWhereAnUnknownChannelIsCreatesNothingInRedis() throws Exception {
        for (int i = 0; i < 20; i++) {
            TestServer.Response r = b.front("/sub?cname=probe" + i + "&seq=0");
            assertTrue(r.body().contains("\"next_seq\""), r.body());
        }
        assertEquals("0", redis.cli("EVAL", "return #redis.call('KEYS', 'jcomet:{probe*')", "0").trim().replaceAll("\\D", ""),
                "no key for a channel only asked about");
        assertEquals(-1, b.server.broker().localSubscribers("probe0"), "nor a local channel");
    }

    @Test
    void backToBackBroadcastsReachAChannelOnTwoNodesOnceEach() throws Exception {
        int count = 20;
        try (RawStream onB = new RawStream(b.front(), "/stream?cname=bb&seq=1");
                RawStream onC = new RawStream(c.front(), "/stream?cname=bb&seq=1")) {
            await("held", Duration.ofSeconds(5), () -> heldHere(b, "bb") == 1 && heldHere(c, "bb") == 1);
            for (int i = 1; i <= count; i++) {
                assertEquals(200, a.admin("/broadcast?content=bb" + i).status());
            }
            Nodes.push(a, "bb", "after");
            for (RawStream s : List.of(onB, onC)) {
                s.awaitBody("\"after\"", 10_000);
                List<JsonNode> msgs = Nodes.messages(s.body()).stream()
                        .filter(n -> n.path("type").asText().equals("broadcast")).toList();
                assertEquals(count, msgs.size(), "each broadcast once: " + s.body());
                java.util.Set<String> contents = new java.util.HashSet<>();
                for (int i = 0; i < msgs.size(); i++) {
                    assertEquals(i + 1, msgs.get(i).get("seq").asInt(), s.body());
                    assertTrue(contents.add(msgs.get(i).get("content").asText()), "twice: " + msgs.get(i));
                }
            }
        }
    }

    @Test
    void aRetryWithTheSameIdempotencyKeyOnAnyNodeAnswersTheFirstSeqAndDeliversOnce() throws Exception {
        try (RawStream onC = new RawStream(c.front(), "/stream?cname=idem&seq=1")) {
            await("held", Duration.ofSeconds(5), () -> heldHere(c, "idem") == 1);
            TestServer.Response first = a.admin("/push?cname=idem&content=once&idempotency_key=order-17");
            assertEquals("{\"type\":\"ok\",\"seq\":1}\n", first.body());
            TestServer.Response retry = b.admin("/push?cname=idem&content=once&idempotency_key=order-17");
            assertEquals(first.body(), retry.body(), "the retry answers the first outcome");
            TestServer.Response pub = b.admin("/pub?cname=idem&content=twice&idempotency_key=order-18");
            assertEquals(200, pub.status(), pub.body());
            // the same key on another channel is another publish
            assertEquals(200, a.admin("/push?cname=idem-other&content=x&idempotency_key=order-17").status());
            assertEquals(400, a.admin("/push?cname=idem&content=x&idempotency_key=has%20space").status());
            Nodes.push(a, "idem", "after");
            onC.awaitBody("\"after\"", 5000);
            List<JsonNode> data = Nodes.data(onC.body());
            assertEquals(List.of("once", "twice", "after"), data.stream().map(n -> n.get("content").asText()).toList(), onC.body());
        }
    }

    @Test
    void presenceIsReportedOnceForTheClusterOnEveryNodesPsub() throws Exception {
        try (RawStream psubA = new RawStream(a.admin(), "/psub");
                RawStream psubB = new RawStream(b.admin(), "/psub")) {
            await("psub streams held", Duration.ofSeconds(5),
                    () -> a.server.broker().stats().held(io.jcomet.protocol.Transport.PSUB) == 1
                            && b.server.broker().stats().held(io.jcomet.protocol.Transport.PSUB) == 1);
            try (RawStream s1 = new RawStream(c.front(), "/stream?cname=pres&seq=1")) {
                psubA.awaitBody("1 pres", 5000);
                psubB.awaitBody("1 pres", 5000);
                try (RawStream s2 = new RawStream(b.front(), "/stream?cname=pres&seq=1")) {
                    await("second subscriber held", Duration.ofSeconds(5), () -> heldHere(b, "pres") == 1);
                }
            }
            // the last subscriber leaving does not free the channel (it lives channel_timeout, as on
            // icomet); closing it on a node that never held it frees it on every node: "0" once
            TestServer.Response closed = a.admin("/close?cname=pres");
            assertEquals(200, closed.status(), closed.body());
            psubA.awaitBody("0 pres", 10_000);
            psubB.awaitBody("0 pres", 10_000);
            for (RawStream p : List.of(psubA, psubB)) {
                String body = p.body();
                assertEquals(body.indexOf("1 pres"), body.lastIndexOf("1 pres"), "online once: " + body);
                assertEquals(body.indexOf("0 pres"), body.lastIndexOf("0 pres"), "offline once: " + body);
                assertFalse(body.indexOf("0 pres") < body.indexOf("1 pres"));
            }
        }
    }
}
