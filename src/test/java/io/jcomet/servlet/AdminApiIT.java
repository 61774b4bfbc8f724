package io.jcomet.servlet;

import static io.jcomet.support.TestServer.awaitIo;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.jcomet.support.Engines;
import io.jcomet.support.TestServer;
import io.jcomet.support.TestServer.Response;
import java.net.http.HttpRequest;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.AfterParameterizedClassInvocation;
import org.junit.jupiter.params.BeforeParameterizedClassInvocation;
import org.junit.jupiter.params.Parameter;
import org.junit.jupiter.params.ParameterizedClass;
import org.junit.jupiter.params.provider.ValueSource;

/** The admin API, its port separation and its IP filter. */
@ParameterizedClass(name = "{0}")
@ValueSource(strings = {Engines.MEMORY, Engines.REDIS})
class AdminApiIT {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static Engines e;
    /** The engine of this run (memory or redis), which {@link #start} also receives. */
    @Parameter
    String engine;

    @BeforeParameterizedClassInvocation
    static void start(String engine) throws Exception {
        e = Engines.start(engine, "polling_timeout", "5", "max_subscribers_per_channel", "2");
    }

    @AfterParameterizedClassInvocation
    static void stop() throws Exception {
        if (e != null) {
            e.close();
            e = null;
        }
    }

    private static void awaitHeld(String cname, int n) throws Exception {
        awaitIo(n + " held on " + cname, Duration.ofSeconds(5), () -> e.pub.subscribers(cname) == n);
    }

    @Test
    void infoReportsTheProjectVersionFromThePom() throws Exception {
        String pom = java.nio.file.Files.readString(java.nio.file.Path.of("pom.xml"));
        java.util.regex.Matcher m = java.util.regex.Pattern.compile("<artifactId>jcomet</artifactId>\\s*<version>([^<]+)</version>").matcher(pom);
        assertTrue(m.find());
        assertEquals(m.group(1).trim(), JSON.readTree(e.pub.admin("/info").body()).get("version").asText());
    }

    @Test
    void pushAcceptsGetQueryPostFormAndRawPostBody() throws Exception {
        assertEquals(200, e.pub.admin("/push?cname=m&content=q").status());
        Response form = e.pub.send(HttpRequest.newBuilder(e.pub.uri(e.pub.admin(), "/push"))
                .header("Content-Type", "application/x-www-form-urlencoded")
                .POST(HttpRequest.BodyPublishers.ofString("cname=m&content=f%20orm")));
        assertEquals("{\"type\":\"ok\",\"seq\":2}\n", form.body(), "every admin answer ends with a newline");
        // a raw body only when asked for with raw=1: without it a text/plain body is a query string, as in icomet
        Response raw = e.pub.send(HttpRequest.newBuilder(e.pub.uri(e.pub.admin(), "/push?cname=m&raw=1"))
                .header("Content-Type", "text/plain").POST(HttpRequest.BodyPublishers.ofString("raw \"body\"\n")));
        assertEquals(200, raw.status(), raw.body());
        JsonNode all = JSON.readTree(e.sub.front("/sub?cname=m&seq=1").body());
        assertEquals("q", all.get(0).get("content").asText());
        assertEquals("f orm", all.get(1).get("content").asText());
        assertEquals("raw \"body\"\n", all.get(2).get("content").asText());
    }

    @Test
    void aRetryWithTheSameIdempotencyKeyAnswersTheFirstSeqAndPublishesOnce() throws Exception {
        Response first = e.pub.admin("/push?cname=idem&content=once&idempotency_key=k-1");
        assertEquals("{\"type\":\"ok\",\"seq\":1}\n", first.body());
        assertEquals(first.body(), e.pub.admin("/push?cname=idem&content=once&idempotency_key=k-1").body());
        assertEquals(first.body(), e.pub.admin("/pub?cname=idem&content=once&idempotency_key=k-1").body(), "/pub shares the keys");
        assertEquals("{\"type\":\"ok\",\"seq\":2}\n", e.pub.admin("/push?cname=idem&content=next&idempotency_key=k-2").body());
        Response bad = e.pub.admin("/push?cname=idem&content=x&idempotency_key=" + "k".repeat(129));
        assertEquals(400, bad.status(), bad.body());
        JsonNode all = JSON.readTree(e.sub.front("/sub?cname=idem&seq=1&epoch=").body());
        assertEquals(2, all.size(), "published once each: " + all);
    }

    @Test
    void pubTakesContentThatIsAlreadyJsonEscaped() throws Exception {
        assertEquals(200, e.pub.admin("/pub?cname=p&content=a%5C%22b%5Cu003c").status()); // a\"b\u003c
        JsonNode m = JSON.readTree(e.sub.front("/sub?cname=p&seq=1").body());
        assertEquals("a\"b<", m.get("content").asText());
        Response bad = e.pub.admin("/pub?cname=p&content=a%22b"); // a"b: not an escaped body
        assertEquals(400, bad.status());
        assertTrue(bad.body().contains("\"type\":\"error\""));
    }

    @Test
    void signReturnsATokenAndTheChannelsSeq() throws Exception {
        JsonNode s = JSON.readTree(e.pub.admin("/sign?cname=sg&expires=60").body());
        assertEquals("sign", s.get("type").asText());
        assertEquals("sg", s.get("cname").asText());
        assertEquals(1, s.get("seq").asInt());
        assertTrue(s.get("token").asText().matches("[0-9a-f]{32}"));
        assertEquals(60, s.get("expires").asInt());
        assertEquals(5, s.get("sub_timeout").asInt());
        assertTrue(e.pub.admin("/sign?cname=sg&cb=cb1").body().startsWith("cb1({\"type\":\"sign\""));
        // after pushes: the oldest buffered seq (a client starting there misses nothing), as icomet
        for (int i = 1; i <= 3; i++) {
            e.pub.admin("/push?cname=sg-pushed&content=m" + i);
        }
        assertEquals(1, JSON.readTree(e.pub.admin("/sign?cname=sg-pushed").body()).get("seq").asInt());
    }

    @Test
    void aChannelIsReportedWhileItExistsWhoeverMadeIt() throws Exception {
        e.pub.admin("/push?cname=chk-pushed&content=x");
        assertEquals("{\"chk-pushed\":1}\n", e.sub.admin("/check?cname=chk-pushed").body(), "pushed, no subscriber");
        assertEquals(0, e.sub.subscribers("chk-pushed"));
        e.pub.admin("/sign?cname=chk-signed");
        assertEquals("{\"chk-signed\":1}\n", e.sub.admin("/check?cname=chk-signed").body(), "signed, no subscriber");
        assertEquals("{}\n", e.sub.admin("/check?cname=chk-never").body());
        assertEquals("{\"cname\":\"chk-never\",\"subscribers\":0}\n", e.sub.admin("/info?cname=chk-never").body());
    }

    @Test
    void aChannelASubscriberMadeGoesWithItsLastSubscriberUnlessPublishedTo() throws Exception {
        try (io.jcomet.support.RawStream made = new io.jcomet.support.RawStream(e.sub.front(), "/stream?cname=sub-made&seq=1");
                io.jcomet.support.RawStream kept = new io.jcomet.support.RawStream(e.sub.front(), "/stream?cname=sub-kept&seq=1")) {
            awaitHeld("sub-made", 1);
            awaitHeld("sub-kept", 1);
            e.pub.admin("/push?cname=sub-kept&content=x");
            kept.awaitBody("\"content\":\"x\"", 5000);
        }
        // channel_timeout is 30 s here: the subscriber's channel goes about a second after its
        // subscriber, on every node and in Redis; the one published to lives on
        awaitIo("the subscriber-made channel gone", Duration.ofSeconds(6),
                () -> e.pub.admin("/check?cname=sub-made").body().equals("{}\n"));
        assertEquals("{\"sub-kept\":1}\n", e.pub.admin("/check?cname=sub-kept").body());
        if (e.shared()) {
            assertEquals("0", e.redis().cli("EVAL", "return #redis.call('KEYS', 'jcomet:{sub-made}*')", "0").trim().replaceAll("\\D", ""),
                    "no key left in Redis for it");
        }
    }

    @Test
    void broadcastReachesEveryChannelWithItsOwnSeq() throws Exception {
        e.pub.admin("/push?cname=b1&content=x");
        e.pub.admin("/push?cname=b2&content=x");
        e.pub.admin("/push?cname=b2&content=y");
        assertEquals("ok\n", e.pub.admin("/broadcast?content=all").body(), "icomet's answer, which scripts test for");
        JsonNode m1 = JSON.readTree(e.sub.front("/sub?cname=b1&seq=2").body());
        JsonNode m2 = JSON.readTree(e.sub.front("/sub?cname=b2&seq=3").body());
        assertEquals("broadcast", m1.get("type").asText());
        assertEquals(2, m1.get("seq").asInt());
        assertEquals("broadcast", m2.get("type").asText());
        assertEquals(3, m2.get("seq").asInt());
    }

    @Test
    void closeEndsSubscribersWithCloseAndForgetsTheChannel() throws Exception {
        CompletableFuture<Response> sub = e.sub.getAsync(e.sub.front(), "/sub?cname=cl&seq=1");
        awaitHeld("cl", 1);
        Response r = e.pub.admin("/close?cname=cl");
        assertEquals("ok 1\n", r.body());
        assertEquals("close", JSON.readTree(sub.get(5, TimeUnit.SECONDS).body()).get("type").asText());
        assertEquals(404, e.pub.admin("/close?cname=cl").status());
        assertEquals("{}\n", e.pub.admin("/check?cname=cl").body());
    }

    @Test
    void clearDropsTheBuffer() throws Exception {
        e.pub.admin("/push?cname=clr&content=a");
        e.pub.admin("/push?cname=clr&content=b");
        assertEquals("ok 3\n", e.pub.admin("/clear?cname=clr").body());
        // a jcomet client (epoch parameter) is told what it lost
        JsonNode r = JSON.readTree(e.sub.front("/sub?cname=clr&seq=1&epoch=").body());
        assertEquals("gap", r.get("type").asText(), "a cleared buffer is a gap, not silence");
        assertEquals(2, r.get("to").asInt());
        // an icomet client (no epoch) is held as icomet holds it, and moved on by the next message
        CompletableFuture<Response> held = e.sub.getAsync(e.sub.front(), "/sub?cname=clr&seq=1&cb=icomet_cb_0");
        awaitHeld("clr", 1);
        e.pub.admin("/push?cname=clr&content=c");
        // icomet's answer, plus the channel's epoch (icomet clients ignore it)
        assertEquals("icomet_cb_0({\"type\":\"data\",\"cname\":\"clr\",\"seq\":3,\"content\":\"c\"});\n",
                held.get(5, TimeUnit.SECONDS).body().replaceFirst(",\"epoch\":\"[^\"]*\"", ""));
    }

    @Test
    void infoAndCheckReportSubscribers() throws Exception {
        CompletableFuture<Response> sub = e.sub.getAsync(e.sub.front(), "/sub?cname=inf&seq=1");
        awaitHeld("inf", 1);
        assertEquals("{\"cname\":\"inf\",\"subscribers\":1}\n", e.pub.admin("/info?cname=inf").body());
        assertEquals("{\"inf\":1}\n", e.pub.admin("/check?cname=inf").body());
        // /info?cname and /check are the cluster's; the global /info describes the node asked (its
        // table, its connections, its memory), so it is asked of the node holding the subscriber
        JsonNode info = JSON.readTree(e.sub.admin("/info").body());
        assertTrue(info.get("channels").asInt() >= 1);
        assertTrue(info.get("subscribers").asInt() >= 1);
        assertTrue(info.get("held_poll").asInt() >= 1);
        assertTrue(info.get("rss_bytes").asLong() > 0);
        assertTrue(info.get("heap_used_bytes").asLong() > 0);
        assertTrue(info.get("rejected").has("too_many_subscribers"));
        e.pub.admin("/push?cname=inf&content=done");
        sub.get(5, TimeUnit.SECONDS);
    }

    @Test
    void tooManySubscribersAndTooManyChannelsAre429InTheBody() throws Exception {
        CompletableFuture<Response> a = e.sub.getAsync(e.sub.front(), "/sub?cname=full&seq=1");
        CompletableFuture<Response> b = e.sub.getAsync(e.sub.front(), "/sub?cname=full&seq=1");
        awaitHeld("full", 2);
        Response third = e.sub.front("/sub?cname=full&seq=1");
        assertEquals(200, third.status(), "icomet's protocol types travel in the body of a 200");
        assertEquals("429", JSON.readTree(third.body()).get("type").asText());
        Response jsonp = e.sub.front("/sub?cname=full&seq=1&cb=cb");
        assertEquals(200, jsonp.status(), "JSONP answers 200 or the browser would never run the callback");
        assertTrue(jsonp.body().startsWith("cb({\"type\":\"429\""));
        CompletableFuture<Response> elsewhere = null;
        if (e.shared()) {
            // max_subscribers_per_channel protects one node's memory and fan-out: another node takes
            // its own (docs/PROTOCOL.md, several nodes against one node)
            elsewhere = e.pub.getAsync(e.pub.front(), "/sub?cname=full&seq=1");
            awaitHeld("full", 3);
        }
        e.pub.admin("/push?cname=full&content=x");
        a.get(5, TimeUnit.SECONDS);
        b.get(5, TimeUnit.SECONDS);
        if (elsewhere != null) {
            assertTrue(elsewhere.get(5, TimeUnit.SECONDS).body().contains("\"content\":\"x\""));
        }
        try (Engines small = e.with("max_channels", "3")) {
            for (int i = 0; i < 3; i++) {
                assertEquals(200, small.pub.admin("/push?cname=many" + i + "&content=x").status());
            }
            Response push = small.pub.admin("/push?cname=many3&content=x");
            assertEquals(429, push.status());
            assertTrue(push.body().contains("Too many channels"));
            Response sign = small.pub.admin("/sign?cname=signed-past-the-cap");
            assertEquals(429, sign.status(), "/sign makes a channel too");
            assertEquals(200, small.pub.admin("/push?cname=many0&content=again").status(), "an existing channel takes pushes");
            Response sub = small.sub.front("/sub?cname=yetanother&seq=1");
            assertEquals(200, sub.status());
            assertTrue(sub.body().contains("Too many channels"));
            // refusals are counted by the node that refused (a node's counters), the cap holds for the cluster
            long refused = small.pub.info("too_many_channels") + (small.shared() ? small.sub.info("too_many_channels") : 0);
            assertEquals(3, refused);
        }
    }

    @Test
    void channelsThatExpiredMakeRoomUnderMaxChannels() throws Exception {
        try (Engines small = e.with("max_channels", "2", "channel_timeout", "1")) {
            assertEquals(200, small.pub.admin("/push?cname=exp1&content=x").status());
            assertEquals(200, small.pub.admin("/push?cname=exp2&content=x").status());
            assertEquals(429, small.pub.admin("/push?cname=exp3&content=x").status());
            // nobody holds them: they expire after channel_timeout (1 s) and stop counting, on one
            // node by its sweeper, on Redis by the key's expiry and the channel set's recount
            awaitIo("room for a new channel once the others expired", Duration.ofSeconds(8),
                    () -> small.pub.admin("/push?cname=exp3&content=x").status() == 200);
            assertEquals("{}\n", small.sub.admin("/check?cname=exp1").body());
        }
    }

    @Test
    void adminEndpointsAreRefusedOnAFrontPortAndFrontOnesOnTheAdminPort() throws Exception {
        Response a = e.sub.front("/push?cname=x&content=y");
        assertEquals(404, a.status());
        assertTrue(a.body().contains("admin endpoint"));
        Response f = e.pub.admin("/sub?cname=x&seq=1");
        assertEquals(404, f.status());
        assertTrue(f.body().contains("front endpoint"));
    }

    @Test
    void adminIpFilterRefusesCallersNotAllowed() throws Exception {
        try (TestServer strict = TestServer.start("admin_allow", "10.1.0.0/16", "admin_deny", "all")) {
            Response r = strict.admin("/info");
            assertEquals(403, r.status());
            assertTrue(r.body().contains("\"type\":\"error\""));
        }
    }
}
