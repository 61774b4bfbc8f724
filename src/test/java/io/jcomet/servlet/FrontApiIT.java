package io.jcomet.servlet;

import static io.jcomet.support.TestServer.await;
import static io.jcomet.support.TestServer.awaitIo;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.jcomet.support.Engines;
import io.jcomet.support.RawStream;
import io.jcomet.support.TestServer;
import io.jcomet.support.TestServer.Response;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.AfterParameterizedClassInvocation;
import org.junit.jupiter.params.BeforeParameterizedClassInvocation;
import org.junit.jupiter.params.Parameter;
import org.junit.jupiter.params.ParameterizedClass;
import org.junit.jupiter.params.provider.ValueSource;

/** The front API over real HTTP, one behaviour per test. */
@ParameterizedClass(name = "{0}")
@ValueSource(strings = {Engines.MEMORY, Engines.REDIS})
class FrontApiIT {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static Engines e;
    /** The engine of this run (memory or redis), which {@link #start} also receives. */
    @Parameter
    String engine;

    @BeforeParameterizedClassInvocation
    static void start(String engine) throws Exception {
        // channel_timeout 2: presence lines for freed channels and the periodic repeat come within seconds
        e = Engines.start(engine, "polling_timeout", "1", "channel_buffer_size", "5", "channel_timeout", "2");
    }

    @AfterParameterizedClassInvocation
    static void stop() throws Exception {
        if (e != null) {
            e.close();
            e = null;
        }
    }

    private static void awaitHeld(String cname, int n) throws Exception {
        awaitIo(n + " subscriber(s) held on " + cname, Duration.ofSeconds(5), () -> e.pub.subscribers(cname) == n);
    }

    @Test
    void subThenPushDeliversIcometsExactMessage() throws Exception {
        CompletableFuture<Response> sub = e.sub.getAsync(e.sub.front(), "/sub?cname=12&seq=1");
        awaitHeld("12", 1);
        Response push = e.pub.admin("/push?cname=12&content=hi");
        assertEquals(200, push.status());
        assertEquals("{\"type\":\"ok\",\"seq\":1}\n", push.body());
        Response r = sub.get(5, TimeUnit.SECONDS);
        assertEquals(200, r.status());
        // jcomet adds the channel's epoch (icomet clients ignore it); otherwise icomet's exact answer, newline included
        assertTrue(r.body().matches("(?s).*,\"epoch\":\"[0-9a-z.]+\".*"), r.body());
        assertEquals("{\"type\":\"data\",\"cname\":\"12\",\"seq\":1,\"content\":\"hi\"}\n", r.body().replaceFirst(",\"epoch\":\"[^\"]*\"", ""));
        assertEquals("no-cache", r.header("cache-control"));
        assertEquals("*", r.header("access-control-allow-origin"));
        assertTrue(r.header("content-type").startsWith("application/json"));
    }

    @Test
    void subscriberOnOnePortGetsPushesLikeOneOnAnother() throws Exception {
        CompletableFuture<Response> a = e.sub.getAsync(e.sub.server.frontPort(0), "/poll?cname=ports&seq=1");
        CompletableFuture<Response> b = e.sub.getAsync(e.sub.server.frontPort(1), "/sub?cname=ports&seq=1");
        awaitHeld("ports", 2);
        e.pub.admin("/push?cname=ports&content=both");
        assertTrue(a.get(5, TimeUnit.SECONDS).body().contains("\"content\":\"both\""));
        assertTrue(b.get(5, TimeUnit.SECONDS).body().contains("\"content\":\"both\""));
    }

    @Test
    void pushThenSubWithAnOlderSeqReplaysAsOneArray() throws Exception {
        for (int i = 1; i <= 3; i++) {
            e.pub.admin("/push?cname=replay&content=m" + i);
        }
        JsonNode arr = JSON.readTree(e.sub.front("/sub?cname=replay&seq=2").body());
        assertTrue(arr.isArray());
        assertEquals(2, arr.size());
        assertEquals(2, arr.get(0).get("seq").asInt());
        assertEquals("m3", arr.get(1).get("content").asText());
    }

    @Test
    void seqZeroGetsNextSeq() throws Exception {
        e.pub.admin("/push?cname=nx&content=a");
        JsonNode m = JSON.readTree(e.sub.front("/sub?cname=nx&seq=0").body());
        assertEquals("next_seq", m.get("type").asText());
        assertEquals(2, m.get("seq").asInt());
        assertTrue(m.get("epoch").asText().length() > 3);
    }

    @Test
    void askingWhereAnUnknownChannelIsCreatesNothing() throws Exception {
        for (String transport : new String[] {"sub", "poll"}) {
            JsonNode m = JSON.readTree(e.sub.front("/" + transport + "?cname=probe-" + transport + "&seq=0").body());
            assertEquals("next_seq", m.get("type").asText());
            assertEquals(1, m.get("seq").asInt());
            assertEquals("{}\n", e.pub.admin("/check?cname=probe-" + transport).body(), "not created by asking");
        }
        if (e.shared()) {
            assertEquals("0", e.redis().cli("EVAL", "return #redis.call('KEYS', 'jcomet:{probe-*')", "0").trim().replaceAll("\\D", ""),
                    "no key in Redis for a channel only asked about");
        }
    }

    @Test
    void seqOlderThanTheBufferGetsAGapFirst() throws Exception {
        for (int i = 1; i <= 8; i++) {
            e.pub.admin("/push?cname=gap&content=m" + i);
        }
        // an icomet client (no epoch parameter) gets what is buffered, as from icomet, which has no gap
        JsonNode icomet = JSON.readTree(e.sub.front("/sub?cname=gap&seq=1").body());
        assertEquals(5, icomet.size());
        assertEquals(4, icomet.get(0).get("seq").asInt());
        // a jcomet client (epoch present, even empty) is told what it lost first
        JsonNode arr = JSON.readTree(e.sub.front("/sub?cname=gap&seq=1&epoch=").body());
        assertEquals("gap", arr.get(0).get("type").asText());
        assertEquals(1, arr.get(0).get("from").asInt());
        assertEquals(3, arr.get(0).get("to").asInt());
        assertEquals(4, arr.get(1).get("seq").asInt());
        assertEquals(6, arr.size());
    }

    @Test
    void noopAfterPollingTimeoutEchoesTheNoopCounter() throws Exception {
        Response r = e.sub.front("/sub?cname=quiet&seq=1&noop=5");
        assertEquals("{\"type\":\"noop\",\"cname\":\"quiet\",\"seq\":5,\"content\":\"\"}\n", r.body().replaceFirst(",\"epoch\":\"[^\"]*\"", ""));
    }

    @Test
    void jsonpWrapsInTheCallback() throws Exception {
        e.pub.admin("/push?cname=jp&content=x");
        Response r = e.sub.front("/sub?cname=jp&seq=1&cb=icomet_cb_3");
        assertTrue(r.body().startsWith("icomet_cb_3([{\"type\":\"data\"") || r.body().startsWith("icomet_cb_3({\"type\":\"data\""), r.body());
        assertTrue(r.body().trim().endsWith(");"));
        assertTrue(r.header("content-type").startsWith("text/javascript"));
    }

    @Test
    void streamIsOneJsonPerLineAndStaysOpen() throws Exception {
        try (RawStream s = new RawStream(e.sub.front(), "/stream?cname=st&seq=1")) {
            assertEquals(200, s.status);
            awaitHeld("st", 1);
            e.pub.admin("/push?cname=st&content=one");
            e.pub.admin("/push?cname=st&content=two");
            String body = s.awaitBody("\"content\":\"two\"", 5000);
            String[] lines = body.trim().split("\n");
            assertEquals(2, lines.length, body);
            assertEquals("one", JSON.readTree(lines[0]).get("content").asText());
            assertEquals(1, e.pub.subscribers("st"), "a stream stays subscribed");
        }
    }

    @Test
    void sseResumesFromLastEventId() throws Exception {
        for (int i = 1; i <= 4; i++) {
            e.pub.admin("/push?cname=sse&content=e" + i);
        }
        try (RawStream s = new RawStream(e.sub.front(), "/sse?cname=sse&seq=1", "Last-Event-ID: 2")) {
            assertTrue(s.header("content-type").startsWith("text/event-stream"));
            String body = s.awaitBody("\"content\":\"e4\"", 5000);
            assertTrue(body.contains("id: 3\ndata: {\"type\":\"data\",\"cname\":\"sse\",\"seq\":3"), body);
            assertTrue(!body.contains("\"e2\""), "Last-Event-ID 2 resumes at 3: " + body);
            e.pub.admin("/push?cname=sse&content=e5");
            s.awaitBody("id: 5\ndata:", 5000);
        }
    }

    @Test
    void sseStaysOpenAfterNextSeqAndNoop() throws Exception {
        try (RawStream s = new RawStream(e.sub.front(), "/sse?cname=ssenoop&seq=0&cb=icomet_cb_0")) {
            s.awaitBody("next_seq", 5000);
            s.awaitBody("\"type\":\"noop\"", 5000);
            e.pub.admin("/push?cname=ssenoop&content=after");
            s.awaitBody("\"content\":\"after\"", 5000);
        }
    }

    @Test
    void iframeCallsTheParentCallback() throws Exception {
        try (RawStream s = new RawStream(e.sub.front(), "/iframe?cname=ifr&seq=1&cb=my_cb")) {
            assertTrue(s.header("content-type").startsWith("text/html"));
            awaitHeld("ifr", 1);
            e.pub.admin("/push?cname=ifr&content=%3C%2Fscript%3E");
            String body = s.awaitBody("</script>\n", 5000);
            assertTrue(body.replaceFirst(",\"epoch\":\"[^\"]*\"", "").contains("<script>parent.my_cb({\"type\":\"data\",\"cname\":\"ifr\",\"seq\":1,\"content\":\"\\u003c/script\\u003e\"});</script>"), body);
        }
    }

    @Test
    void pingAnswersSubTimeout() throws Exception {
        assertEquals("icomet_cb({\"type\":\"ping\",\"sub_timeout\":1});\n", e.sub.front("/ping").body());
        assertEquals("x.y({\"type\":\"ping\",\"sub_timeout\":1});\n", e.sub.front("/ping?cb=x.y").body());
    }

    @Test
    void unknownParametersAndAnEmptyTokenAreIgnoredAsIcometJsSendsThem() throws Exception {
        e.pub.admin("/push?cname=icjs&content=x");
        Response r = e.sub.front("/sub?cb=icomet_cb_0&cname=icjs&seq=1&noop=0&token=&_=1700000000000");
        assertTrue(r.body().contains("\"content\":\"x\""), r.body());
    }

    @Test
    void aClientThatLeftIsRemovedWithinOnePollingTimeout() throws Exception {
        java.net.Socket held = new java.net.Socket("127.0.0.1", e.sub.front());
        held.getOutputStream().write("GET /sub?cname=leaver&seq=1 HTTP/1.1\r\nHost: x\r\n\r\n".getBytes());
        awaitHeld("leaver", 1);
        held.close();
        long start = System.nanoTime();
        awaitIo("the departed client to be removed", Duration.ofSeconds(3), () -> e.pub.subscribers("leaver") == 0);
        assertTrue(System.nanoTime() - start < TimeUnit.MILLISECONDS.toNanos(2500));
    }

    @Test
    void presenceLinesOnPsub() throws Exception {
        try (RawStream psub = new RawStream(e.pub.admin(), "/psub")) {
            assertEquals(200, psub.status);
            await("psub registered", Duration.ofSeconds(5), () -> {
                try {
                    return e.pub.info("held_psub") == 1;
                } catch (Exception e) {
                    return false;
                }
            });
            CompletableFuture<Response> sub = e.sub.getAsync(e.sub.front(), "/sub?cname=pres&seq=1");
            psub.awaitBody("1 pres\n", 5000); // created by the subscriber
            e.pub.admin("/sign?cname=signed&expires=30");
            psub.awaitBody("1 signed\n", 5000); // created by /sign, without any subscriber
            e.pub.admin("/push?cname=pushedp&content=x");
            psub.awaitBody("1 pushedp\n", 5000); // created by a publish, without any subscriber
            sub.get(5, TimeUnit.SECONDS); // noop after 1 s; the channel is freed channel_timeout later
            psub.awaitBody("0 pres\n", 5000);
            if (e.shared()) {
                // on Redis "1 <cname>" is repeated by the nodes that hold the channel; no node holds a
                // channel that was only signed (docs/PROTOCOL.md, several nodes against one node)
                return;
            }
            // "1 signed" again every channel_timeout while it lives
            awaitIo("a repeated 1 signed", Duration.ofSeconds(8), () -> {
                try {
                    psub.awaitBody("\u0000", 100); // reads what arrives for 100 ms
                } catch (AssertionError nothingYet) {
                    // expected: the marker never comes
                }
                return psub.body().indexOf("1 signed\n") != psub.body().lastIndexOf("1 signed\n");
            });
        }
    }
}
