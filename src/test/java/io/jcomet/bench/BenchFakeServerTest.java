package io.jcomet.bench;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The whole client (NIO subscribers, publishers, accounting, result files) run end to end against
 * {@link FakeIcomet}: a correct server gives "no loss", a server that silently drops one message
 * makes the same run fail with that loss counted.
 */
class BenchFakeServerTest {

    @TempDir
    Path dir;

    private Map<String, Object> result;
    private String printed;

    private int run(FakeIcomet s, String... args) throws Exception {
        String base = String.join(" ", args) + " --ports " + s.frontPort() + " --admin http://127.0.0.1:"
                + s.adminPort() + " --out " + dir.resolve("r.json") + " --svg " + dir.resolve("r.svg")
                + " --timeout 60";
        Options o = Options.parse(new String[] {base});
        ByteArrayOutputStream buf = new ByteArrayOutputStream();
        int rc = new Bench(o, new PrintStream(buf, true, StandardCharsets.UTF_8)).run();
        printed = buf.toString(StandardCharsets.UTF_8);
        result = Json.asObject(Json.parse(Files.readString(dir.resolve("r.json"))));
        return rc;
    }

    @SuppressWarnings("unchecked")
    private Map<String, Object> fig(String key) {
        return (Map<String, Object>) ((Map<String, Object>) result.get("figures")).get(key);
    }

    @Test
    void fanoutAgainstACorrectServerVerifiesNoLoss() throws Exception {
        try (FakeIcomet s = new FakeIcomet(5000)) {
            int rc = run(s, "fanout --connections 20 --messages 50 --msg-rate 0 --publishers 2 --sources 127.0.0.1-127.0.0.3");
            assertEquals(0, rc, printed);
            Map<String, Object> v = fig("verification");
            assertEquals(Boolean.TRUE, v.get("no_loss"), printed);
            assertEquals(1000L, v.get("expected_deliveries"));
            assertEquals(1000L, v.get("received"));
            assertEquals(20L, v.get("subscribers_clean"));
            assertTrue(printed.contains("OK: no loss"), printed);
            assertTrue(Files.readString(dir.resolve("r.svg")).startsWith("<svg"));
        }
    }

    @Test
    @SuppressWarnings("unchecked")
    void warmupMessagesAreVerifiedButLeftOutOfTheFigures() throws Exception {
        try (FakeIcomet s = new FakeIcomet(5000)) {
            int rc = run(s, "fanout --connections 10 --warmup 5 --messages 20 --msg-rate 0");
            assertEquals(0, rc, printed);
            Map<String, Object> f = (Map<String, Object>) result.get("figures");
            assertEquals(250L, fig("verification").get("expected_deliveries"), "warm-up messages are verified too");
            assertEquals(250L, f.get("delivered_total"));
            assertEquals(200L, f.get("delivered_measured"));
            assertEquals(200L, fig("latency").get("count"), "latency only of the measured messages");
            assertEquals(20L, fig("last_delivery_latency_per_message").get("count"), "one value per message");
        }
    }

    @Test
    void fanoutAgainstAServerThatDropsAMessageReportsTheLoss() throws Exception {
        try (FakeIcomet s = new FakeIcomet(5000)) {
            s.dropSeq = 7; // seq 7 of channel ...x0 is never delivered
            int rc = run(s, "fanout --connections 20 --channels 4 --messages 40 --msg-rate 0 --publishers 2"
                    + " --drain 2");
            assertEquals(1, rc, printed);
            Map<String, Object> v = fig("verification");
            assertEquals(Boolean.FALSE, v.get("no_loss"));
            assertEquals(5L, v.get("missing"), "5 subscribers on channel x0 each miss seq 7");
            assertEquals(15L, v.get("subscribers_clean"));
            assertTrue(printed.contains("FAILED"), printed);
        }
    }

    @Test
    void holdSamplesEveryStepAndRepollsAfterNoop() throws Exception {
        try (FakeIcomet s = new FakeIcomet(300)) {
            int rc = run(s, "hold --connections 30 --step 10 --rate 0 --idle 1 --server-pid " + ProcessHandle.current().pid());
            assertEquals(0, rc, printed);
            Map<String, Object> f = (Map<String, Object>) result.get("figures");
            List<?> samples = (List<?>) f.get("samples");
            assertEquals(4, samples.size(), "samples at 0, 10, 20, 30");
            assertEquals(30L, f.get("held_at_end"));
            Map<String, Object> idle = fig("idle");
            assertTrue((Long) idle.get("noops_during_idle") > 0, "noops arrive every 300 ms and are re-polled");
            assertEquals(30L, idle.get("connected_min"));
            Map<?, ?> first = (Map<?, ?>) samples.get(0);
            assertTrue(((Number) first.get("rss_bytes")).longValue() > 0, "RSS from /proc/<pid> (--server-pid)");
        }
    }

    @Test
    void churnResumesFromLastSeqWithoutLoss() throws Exception {
        try (FakeIcomet s = new FakeIcomet(5000)) {
            int rc = run(s, "churn --connections 20 --channels 5 --messages 30 --publishers 2 --threads 2");
            assertEquals(0, rc, printed);
            assertEquals(Boolean.TRUE, fig("verification").get("no_loss"), printed);
            assertEquals(20L * (1 + 6), fig("verification").get("expected_deliveries"),
                    "1 message per channel before, 30 over 5 channels during");
        }
    }

    @Test
    void publishCountsPushes() throws Exception {
        try (FakeIcomet s = new FakeIcomet(5000)) {
            int rc = run(s, "publish --duration 0.5 --publishers 2");
            assertEquals(0, rc, printed);
            Map<String, Object> f = (Map<String, Object>) result.get("figures");
            assertTrue(((Number) f.get("pushes_per_s")).doubleValue() > 0);
            assertEquals(0L, f.get("push_errors"));
        }
    }

    @Test
    void refusesNonLoopbackTargetsAndCapsAtFdLimits() throws Exception {
        assertThrows(Options.UsageException.class, () -> Options.parse(new String[] {"hold", "--host", "10.1.2.3"}));
        assertThrows(Options.UsageException.class,
                () -> Options.parse(new String[] {"hold", "--admin", "http://192.168.1.1:8000"}));
        assertThrows(Options.UsageException.class, () -> Options.parse(new String[] {"hold", "--sources", "8.8.8.8"}));
        assertThrows(Options.UsageException.class, () -> Options.parse(new String[] {"flood"}));
        Options o = Options.parse(new String[] {"hold --connections 100000"});
        BenchRun b = new BenchRun(o, new PrintStream(new ByteArrayOutputStream(), true, StandardCharsets.UTF_8));
        int n = b.cap(100_000, Map.of("max_fds", 20000L, "open_fds", 120L));
        assertTrue(n <= 20000 - 120 - 500, "capped below the server's limit: " + n);
        assertFalse(n <= 0);
    }
}
