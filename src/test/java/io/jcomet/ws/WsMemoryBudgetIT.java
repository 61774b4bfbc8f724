package io.jcomet.ws;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.jcomet.deploy.FreePorts;
import io.jcomet.deploy.ServerProcess;
import java.io.IOException;
import java.io.InputStream;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Properties;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;

/**
 * The memory budget under the WebSocket heap-exhaustion attack: the embedded launcher in its own
 * JVM with jetty-base's production JVM options and settings, but a 96 MB heap; attackers from
 * 127.0.0.x open sockets with ~7.9 KB request heads and 16 subscriptions on new channels each.
 * (With Jetty's Jakarta WebSocket layer, which kept each upgrade request, 256 MB ran short at about
 * 8,000 such sockets; Jetty's WebSocket core keeps no request, and 9,500 of them held ~95 MB, so
 * the heap here is smaller.) Without a budget the JVM would exit with OutOfMemoryError
 * (ExitOnOutOfMemoryError); with it the server refuses (1013, or 503 error frames) while memory is short, stays
 * alive, and serves a well-behaved client from another address again once the attackers are gone.
 */
class WsMemoryBudgetIT {
    private static final int MAX_SOCKETS = 9500;
    private static final int ADDRESSES = 180; // 127.0.0.10 .. 127.0.0.189: each under the per-address caps
    private final HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();

    /** jetty-base's JVM options (start.d/jvm.ini) with the heap lowered to 96 MB. */
    private static List<String> productionJvmOptions(Path base) throws IOException {
        List<String> out = new ArrayList<>();
        for (String line : Files.readAllLines(base.resolve("jetty-base/start.d/jvm.ini"))) {
            String l = line.trim();
            if (l.startsWith("-X")) {
                out.add(l.startsWith("-Xmx") ? "-Xmx96m" : l);
            }
        }
        assertTrue(out.contains("-Xmx96m") && out.contains("-XX:+ExitOnOutOfMemoryError"), "jvm.ini read: " + out);
        return out;
    }

    /** jetty-base's jcomet.properties as launcher arguments. */
    private static List<String> productionSettings(Path base) throws IOException {
        Properties p = new Properties();
        try (InputStream in = Files.newInputStream(base.resolve("jetty-base/etc/jcomet.properties"))) {
            p.load(in);
        }
        List<String> out = new ArrayList<>();
        p.stringPropertyNames().stream().sorted().forEach(k -> out.add(k + "=" + p.getProperty(k)));
        return out;
    }

    private long info(int admin, String field) throws Exception {
        String body = http.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + admin + "/info"))
                .timeout(Duration.ofSeconds(20)).build(), HttpResponse.BodyHandlers.ofString()).body();
        Matcher m = Pattern.compile("\"" + field + "\":(-?\\d+)").matcher(body);
        assertTrue(m.find(), body);
        return Long.parseLong(m.group(1));
    }

    private static void keepAlive(List<RawWs> sockets) {
        for (RawWs s : sockets) {
            try {
                s.answerPings();
            } catch (IOException closed) {
                // refused or closed by the server: nothing to keep
            }
        }
    }

    @Test
    void theJvmSurvivesWebSocketHeapExhaustionAndServesAgainAfter() throws Exception {
        Path base = Path.of(System.getProperty("basedir", "."));
        FreePorts.Plan plan = FreePorts.plan(1);
        List<String> cmd = new ArrayList<>();
        cmd.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
        cmd.addAll(productionJvmOptions(base));
        cmd.addAll(List.of("-cp", System.getProperty("surefire.test.class.path", System.getProperty("java.class.path")),
                "io.jcomet.launcher.Main", "--host", "127.0.0.1", "--front-host", "127.0.0.1",
                "--admin-port", String.valueOf(plan.admin()), "--front-port", String.valueOf(plan.front()), "--front-count", "1"));
        cmd.addAll(productionSettings(base));
        cmd.add("client_limits_exempt=127.0.0.250");
        List<RawWs> attackers = new ArrayList<>();
        try (ServerProcess server = ServerProcess.start("memory-budget", cmd, java.util.Map.of(),
                base.resolve("target/memory-budget/launcher-" + plan.admin() + ".log"))) {
            server.await("the launcher's ready line", Duration.ofSeconds(60), () -> server.logText().contains("jcomet admin="));
            int front = plan.front();
            int admin = plan.admin();

            int refusedSockets = 0;
            int refusedSubs = 0;
            int firstRefusalAt = -1;
            long deadline = System.nanoTime() + Duration.ofSeconds(240).toNanos();
            for (int i = 0; i < MAX_SOCKETS && refusedSockets + refusedSubs < 200 && System.nanoTime() < deadline; i++) {
                if (i % 250 == 0) {
                    keepAlive(attackers); // an attacker answers pings like any client
                }
                RawWs ws = RawWs.open("127.0.0." + (10 + i % ADDRESSES), front, "/ws", 7900);
                if (!ws.upgraded()) {
                    ws.close();
                    refusedSockets++;
                    continue;
                }
                attackers.add(ws);
                try {
                    for (int j = 0; j < 16; j++) {
                        ws.text("{\"op\":\"sub\",\"cname\":\"x" + i + "-" + j + "\"}");
                    }
                } catch (IOException closedByServer) {
                    // refused at open: the close frame is waiting to be read (below)
                }
                int answered = 0;
                while (answered < 16) {
                    RawWs.Frame f = ws.nextTextOrClose(20_000);
                    assertNotNull(f, "the server answers socket " + i + " (alive: " + server.isAlive() + ")");
                    if (f.opcode() == 8) {
                        assertEquals(1013, f.closeCode(), "a refused socket is told to try again later");
                        refusedSockets++;
                        break;
                    }
                    String t = f.text();
                    if (t.contains("\"type\":\"sub_ok\"")) {
                        answered++;
                    } else if (t.contains("\"type\":\"error\"")) {
                        assertTrue(t.contains("\"status\":503"), "only the memory budget refuses here: " + t);
                        refusedSubs++;
                        answered++;
                    }
                }
                if (firstRefusalAt < 0 && refusedSockets + refusedSubs > 0) {
                    firstRefusalAt = i;
                }
            }
            http.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + admin + "/info?gc=1")).build(), HttpResponse.BodyHandlers.ofString());
            System.out.println("memory budget: first refusal at socket " + firstRefusalAt + ", " + attackers.size()
                    + " attacker sockets open, refused " + refusedSockets + " sockets and " + refusedSubs + " subs; heap in use after a full GC "
                    + info(admin, "heap_used_bytes") / (1 << 20) + " MB of " + info(admin, "heap_max_bytes") / (1 << 20) + " MB");
            assertTrue(server.isAlive(), "the JVM is alive:\n" + server.tail(20));
            assertTrue(firstRefusalAt > 0, "memory ran short within " + MAX_SOCKETS + " sockets");
            assertTrue(info(admin, "memory_budget") >= refusedSockets + refusedSubs, "each refusal counted");

            for (RawWs a : attackers) {
                a.close();
            }
            attackers.clear();
            // the attackers are gone: a well-behaved client from another address is served again
            long until = System.nanoTime() + Duration.ofSeconds(60).toNanos();
            boolean served = false;
            while (!served && System.nanoTime() < until) {
                try (RawWs good = RawWs.open("127.0.0.9", front, "/ws?cname=good", 0)) {
                    RawWs.Frame f = good.nextTextOrClose(5000);
                    if (f != null && f.opcode() == 1 && f.text().contains("sub_ok")) {
                        http.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + admin + "/push?cname=good&content=back"))
                                .build(), HttpResponse.BodyHandlers.ofString());
                        for (int k = 0; k < 5 && !served; k++) {
                            RawWs.Frame m = good.nextTextOrClose(5000);
                            served = m != null && m.opcode() == 1 && m.text().contains("\"content\":\"back\"");
                        }
                    }
                }
                if (!served) {
                    Thread.sleep(500);
                }
            }
            assertTrue(served, "a well-behaved client is served again after the attack:\n" + server.tail(20));
            assertTrue(server.isAlive());
        } finally {
            attackers.forEach(RawWs::close);
        }
    }
}
