package io.jcomet.bench;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.jcomet.launcher.EmbeddedJcomet;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.junit.jupiter.api.io.TempDir;

/**
 * The load client against a real embedded jcomet on ephemeral loopback ports, at small N: the loss
 * accounting must say "no loss" for a correct run, and must report the loss when the client (or
 * the stream it is fed) drops a message.
 */
class BenchJcometIT {

    private static EmbeddedJcomet server;

    @TempDir
    Path dir;

    private Map<String, Object> result;
    private String printed;

    @BeforeAll
    static void start() throws Exception {
        server = EmbeddedJcomet.builder().host("127.0.0.1").adminPort(0).frontPorts(0, 2).tlsPort(0)
                .set("max_subscribers_per_channel", "1000")
                .set("polling_timeout", "2")
                // larger than any run's message count: a subscriber slowed down by a loaded machine
                // then replays from the buffer instead of getting a gap, so "no loss" is
                // deterministic and any loss is a real bug
                .set("channel_buffer_size", "100")
                .start();
    }

    @AfterAll
    static void stop() {
        if (server != null) {
            server.stop();
        }
    }

    private int run(String args) throws Exception {
        return run(args, server.frontPort(0) + "," + server.frontPort(1));
    }

    private int run(String args, String ports) throws Exception {
        String all = args + " --ports " + ports
                + " --admin http://127.0.0.1:" + server.adminPort()
                + " --out " + dir.resolve("r.json") + " --svg " + dir.resolve("r.svg") + " --timeout 90";
        ByteArrayOutputStream buf = new ByteArrayOutputStream();
        int rc = new Bench(Options.parse(new String[] {all}), new PrintStream(buf, true, StandardCharsets.UTF_8)).run();
        printed = buf.toString(StandardCharsets.UTF_8);
        result = Json.asObject(Json.parse(Files.readString(dir.resolve("r.json"))));
        return rc;
    }

    @SuppressWarnings("unchecked")
    private Map<String, Object> figures() {
        return (Map<String, Object>) result.get("figures");
    }

    @SuppressWarnings("unchecked")
    private Map<String, Object> verification() {
        return (Map<String, Object>) figures().get("verification");
    }

    @Test
    void fanoutTwentySubscribersFiftyMessagesHasNoLoss() throws Exception {
        int rc = run("fanout --connections 20 --messages 50 --msg-rate 200 --publishers 1");
        assertEquals(0, rc, printed);
        assertEquals(Boolean.TRUE, verification().get("no_loss"), printed);
        assertEquals(1000L, verification().get("expected_deliveries"));
        assertEquals(1000L, verification().get("received"));
        assertEquals(1000L, figures().get("delivered_total"));
        assertTrue(printed.contains("OK: no loss"), printed);
    }

    @ParameterizedTest
    @ValueSource(strings = {"stream", "sse", "ws"})
    void fanoutOverAStreamingTransportHasNoLossAndADroppedMessageIsCaught(String transport) throws Exception {
        int rc = run("fanout --transport " + transport + " --connections 20 --messages 50 --msg-rate 200 --publishers 1");
        assertEquals(0, rc, printed);
        assertEquals(Boolean.TRUE, verification().get("no_loss"), printed);
        assertEquals(1000L, verification().get("received"));
        assertEquals(20L, ((Number) ((Map<?, ?>) figures().get("client")).get("requests")).longValue(),
                "one request per subscriber: a stream, not re-polls");

        SubscriberPool.testDropSeq = 5;
        try {
            rc = run("fanout --transport " + transport + " --connections 20 --messages 30 --msg-rate 200 --publishers 1 --drain 2");
            assertEquals(1, rc, printed);
            assertEquals(1L, verification().get("missing"), "subscriber 0 threw seq 5 away");
        } finally {
            SubscriberPool.testDropSeq = 0;
        }
    }

    @Test
    void aClientThatDropsAMessageCannotReportNoLoss() throws Exception {
        SubscriberPool.testDropSeq = 5;
        try {
            int rc = run("fanout --connections 20 --messages 30 --msg-rate 200 --publishers 1 --drain 2");
            assertEquals(1, rc, printed);
            assertEquals(Boolean.FALSE, verification().get("no_loss"));
            assertEquals(1L, verification().get("missing"), "subscriber 0 threw seq 5 away");
            assertEquals(19L, verification().get("subscribers_clean"));
            assertTrue(printed.contains("FAILED"), printed);
        } finally {
            SubscriberPool.testDropSeq = 0;
        }
    }

    @Test
    void realStreamWithOneMessageRemovedIsReportedAsLoss() throws Exception {
        String cname = "itstream" + System.nanoTime();
        List<Integer> seqs = new ArrayList<>();
        try (Admin admin = new Admin("127.0.0.1", server.adminPort())) {
            for (int i = 0; i < 8; i++) {
                assertTrue(admin.push(cname, "m" + i).ok());
            }
        }
        // read the channel back the way a subscriber does: replay from seq 1 (buffer 10 >= 8)
        BlockingHttpClient http = new BlockingHttpClient("127.0.0.1", server.frontPort(0), 10_000);
        HttpResponse r = http.get("/sub?cname=" + cname + "&seq=1");
        http.close();
        for (Map<String, Object> m : Json.messages(r.bodyText())) {
            if ("data".equals(m.get("type"))) {
                seqs.add(((Number) m.get("seq")).intValue());
            }
        }
        assertEquals(8, seqs.size(), r.bodyText());
        int first = seqs.get(0);
        int last = seqs.get(seqs.size() - 1);

        SeqAccount whole = new SeqAccount(first);
        seqs.forEach(whole::onData);
        LossReport ok = new LossReport();
        ok.add(whole.verify(first, last));
        assertTrue(ok.noLoss());

        SeqAccount dropped = new SeqAccount(first);
        for (int i = 0; i < seqs.size(); i++) {
            if (i != 3) {
                dropped.onData(seqs.get(i));
            }
        }
        LossReport bad = new LossReport();
        bad.add(dropped.verify(first, last));
        assertFalse(bad.noLoss());
        assertEquals(1, bad.missing);
    }

    @Test
    void fanoutOverSeveralChannelsAndChurnResumeWithoutLoss() throws Exception {
        assertEquals(0, run("fanout --connections 40 --channels 4 --messages 40 --msg-rate 400 --publishers 2"),
                printed);
        assertEquals(Boolean.TRUE, verification().get("no_loss"), printed);
        assertEquals(400L, verification().get("expected_deliveries"));

        assertEquals(0, run("churn --connections 30 --channels 10 --messages 20 --publishers 2"), printed);
        assertEquals(Boolean.TRUE, verification().get("no_loss"), printed);
        assertEquals(30L * 3, verification().get("expected_deliveries"), "1 before + 2 during per channel");
        String chart = Files.readString(dir.resolve("r.svg"));
        assertTrue(chart.startsWith("<svg") && chart.contains("churn: 30 subscribers"), "churn draws its timeline");
    }

    @Test
    void webSocketChurnResumesWithoutLossAndHoldKeepsEverySocket() throws Exception {
        assertEquals(0, run("churn --transport ws --connections 30 --channels 10 --messages 20 --publishers 2"), printed);
        assertEquals(Boolean.TRUE, verification().get("no_loss"), printed);
        assertEquals(30L * 3, verification().get("expected_deliveries"), "1 before + 2 during per channel");

        assertEquals(0, run("hold --transport ws --connections 40 --step 20 --rate 0 --idle 1"), printed);
        assertEquals(40L, figures().get("held_at_end"));
    }

    /**
     * --tls: subscribers over TLS HTTP/1.1 to the https front lose nothing through a churn; with
     * {@code resume} each reconnecting subscriber resumes its own session, with {@code full} none does.
     */
    @ParameterizedTest
    @ValueSource(strings = {"resume", "full"})
    void tlsChurnResumesWithoutLossAndCountsItsHandshakes(String mode) throws Exception {
        assertEquals(0, run("churn --tls " + mode + " --transport stream --connections 20 --channels 5 --messages 20"
                + " --publishers 1", String.valueOf(server.tlsPort())), printed);
        assertEquals(Boolean.TRUE, verification().get("no_loss"), printed);
        assertEquals(20L, figures().get("tls_handshakes_during_churn"), printed);
        assertEquals(mode.equals("resume") ? 20L : 0L, figures().get("tls_resumed_during_churn"), printed);
        assertTrue(printed.contains("TLS handshakes"), printed);
    }

    @Test
    void holdSamplesMemoryAndKeepsEveryConnection() throws Exception {
        assertEquals(0, run("hold --connections 60 --step 20 --rate 0 --idle 1"), printed);
        assertEquals(60L, figures().get("held_at_end"));
        assertEquals(4, ((List<?>) figures().get("samples")).size());
        Map<?, ?> last = (Map<?, ?>) ((List<?>) figures().get("samples")).get(3);
        assertTrue(((Number) last.get("rss_bytes")).longValue() > 0, "jcomet reports RSS");
        assertTrue(((Number) last.get("heap_after_gc_bytes")).longValue() > 0);
    }
}
