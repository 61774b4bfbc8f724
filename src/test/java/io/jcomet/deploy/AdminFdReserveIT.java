package io.jcomet.deploy;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.net.Socket;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * The admin port keeps working when the front takes every file descriptor it can: the launcher
 * runs in a child JVM under {@code ulimit -n 1024}, 1,000 trickling connections from one address
 * (no per-address cap) flood its front port. The front connectors stop accepting at the open-file
 * limit minus the files open at start minus {@code admin_fd_reserve} and close the rest at once.
 * What the reserve guarantees: the admin port answers /info and /push at once while the front is
 * full (it keeps its files, whatever the front takes); front clients are refused while the front
 * is full, and a well-behaved client from another address that retries is served as soon as the
 * request-head deadline frees front connections.
 *
 * <p>Threads: JUnit's test thread only.
 */
class AdminFdReserveIT {
    private static final Path BASEDIR = Path.of(System.getProperty("basedir", ".")).toAbsolutePath();

    @Test
    void theAdminPortAnswersWhileOneAddressFillsTheFront() throws Exception {
        FreePorts.Plan ports = FreePorts.plan(1);
        String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
        List<String> cmd = List.of("bash", "-c", "ulimit -n 1024 && exec \"$@\"", "bash", java, "-Xmx256m",
                "-cp", System.getProperty("surefire.test.class.path", System.getProperty("java.class.path")),
                "io.jcomet.launcher.Main", "--host", "127.0.0.1", "--front-host", "127.0.0.1",
                "--admin-port", String.valueOf(ports.admin()), "--front-port", String.valueOf(ports.front()),
                "--front-count", "1", "max_connections_per_client=0", "client_limits_exempt=192.0.2.1",
                "request_head_timeout_ms=4000", "admin_fd_reserve=256");
        try (ServerProcess server = ServerProcess.start("admin-fd-reserve", cmd, Map.of(),
                BASEDIR.resolve("target/it-logs/admin-fd-reserve.log"))) {
            server.await("the launcher's ready line", Duration.ofSeconds(60), () -> server.logText().contains("jcomet admin="));
            assertEquals(1024, Http.jsonLong(Http.get(ports.admin(), "/info").body(), "max_fds"), "the child runs under ulimit -n 1024");
            try (Trickle flood = new Trickle("127.0.0.2", ports.front(), 1000)) {
                for (int i = 0; i < 5; i++) {
                    flood.tick();
                    Thread.sleep(200);
                }
                // the front has stopped accepting: the admin still answers, at once
                server.await("the front at its connection limit", Duration.ofSeconds(10), () -> {
                    flood.tick();
                    return rejected(ports, "front_fd_limit") >= 1;
                });
                long t0 = System.nanoTime();
                HttpResponse<String> info = Http.get(ports.admin(), "/info");
                assertEquals(200, info.statusCode());
                assertEquals(200, Http.get(ports.admin(), "/push?cname=good&content=hello").statusCode());
                long ms = (System.nanoTime() - t0) / 1_000_000;
                assertTrue(ms < 3000, "the admin answered in " + ms + " ms");
                long open = Http.jsonLong(info.body(), "open_fds");
                assertTrue(open > 600 && open < 1024, "the front holds what it may, under the limit: " + open);

                // a client from another address is served again as soon as the deadline frees front slots
                Socket[] good = new Socket[1];
                server.await("the well-behaved client subscribed", Duration.ofSeconds(20), () -> {
                    flood.tick();
                    try {
                        if (good[0] != null && refused(good[0])) {
                            good[0].close();
                            good[0] = null;
                        }
                        if (good[0] == null) {
                            good[0] = ConnectionDeadlinesIT.subscribe("127.0.0.3", ports.front(), "late");
                        }
                        HttpResponse<String> r = Http.tryGet(ports.admin(), "/info");
                        return r != null && Http.jsonLong(r.body(), "held_poll") >= 1;
                    } catch (java.io.IOException e) {
                        return false;
                    }
                });
                good[0].setSoTimeout(15_000);
                assertEquals(200, Http.get(ports.admin(), "/push?cname=late&content=later").statusCode());
                assertTrue(ConnectionDeadlinesIT.readUntil(good[0], "later").contains("\"content\":\"later\""));
                good[0].close();
            }
        }
    }

    /** Whether the server closed this connection before answering (it waits 50 ms to see). */
    private static boolean refused(Socket s) throws java.io.IOException {
        s.setSoTimeout(50);
        try {
            return s.getInputStream().read() < 0;
        } catch (java.net.SocketTimeoutException e) {
            return false;
        } catch (java.io.IOException e) {
            return true;
        }
    }

    private static long rejected(FreePorts.Plan ports, String reason) {
        HttpResponse<String> r = Http.tryGet(ports.admin(), "/info");
        return r == null ? -1 : Http.jsonLong(r.body(), reason);
    }
}
