package io.jcomet.deploy;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.InputStream;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * The front door on the shipped jetty-base (bin/jetty-dist, as deployed): 600 closed long-polls give
 * their fds back within 3 s; 1,500 anonymous seq=0 queries leave the admin able to publish on a new
 * channel with max_channels=1000; no demo, no listing, no /stats; nosniff; malformed queries get
 * the JSON 400.
 */
class JettyBaseFrontDoorIT {
    private static final Path BASEDIR = Path.of(System.getProperty("basedir", ".")).toAbsolutePath();

    @Test
    void theShippedJettyBaseHoldsTheFrontDoor() throws Exception {
        assertTrue(Files.isRegularFile(BASEDIR.resolve("target/jetty-home/start.jar")), "jetty-home unpacked");
        assertTrue(Files.isRegularFile(BASEDIR.resolve("target/jcomet.war")), "the WAR is built by package");
        FreePorts.Plan ports = FreePorts.plan(2);
        List<String> cmd = List.of(BASEDIR.resolve("bin/jetty-dist").toString(), "--no-build",
                "-Djcomet.max_channels=1000", "-Djcomet.polling_timeout=60",
                "jetty.http.port=" + ports.admin(), "jcomet.front.port=" + ports.front(),
                "jcomet.front.count=" + ports.count(), "jcomet.front.host=127.0.0.1");
        ServerProcess server = ServerProcess.start("jetty-base-front-door", cmd, Map.of("JAVA_HOME", System.getProperty("java.home")),
                BASEDIR.resolve("target/it-logs/jetty-base-front-door.log"));
        try {
            server.await("admin port answering", Duration.ofSeconds(60), () -> {
                HttpResponse<String> r = Http.tryGet(ports.admin(), "/info");
                return r != null && r.statusCode() == 200;
            });
            closedLongPollsGiveTheirFdsBack(server, ports);
            seqZeroQueriesCreateNothing(ports);
            nothingExtraIsServed(ports);
            ServerProcess.Stopped stopped = server.stop(Duration.ofSeconds(30));
            assertTrue(stopped.graceful(), "stopped cleanly; log:\n" + server.tail(30));
        } finally {
            server.close();
        }
    }

    private static long info(FreePorts.Plan ports, String field) throws Exception {
        return Http.jsonLong(Http.get(ports.admin(), "/info").body(), field);
    }

    private static void closedLongPollsGiveTheirFdsBack(ServerProcess server, FreePorts.Plan ports) throws Exception {
        Http.get(ports.admin(), "/sign?cname=fds");
        long baseline = info(ports, "open_fds");
        List<Socket> clients = new ArrayList<>();
        for (int i = 0; i < 600; i++) {
            Socket s = new Socket("127.0.0.1", i % 2 == 0 ? ports.front() : ports.lastFront());
            s.getOutputStream().write("GET /sub?cname=fds&seq=1 HTTP/1.1\r\nHost: x\r\n\r\n".getBytes(StandardCharsets.US_ASCII));
            clients.add(s);
        }
        server.await("600 held", Duration.ofSeconds(20), () -> {
            try {
                return info(ports, "held_poll") == 600;
            } catch (Exception e) {
                return false;
            }
        });
        assertTrue(info(ports, "open_fds") >= baseline + 600, "the server holds an fd per long-poll");
        long t0 = System.nanoTime();
        for (Socket s : clients) {
            s.close();
        }
        // each is watched once held detect_disconnects_after_ms (2 s by default), then noticed at once
        server.await("fds back within 5 s", Duration.ofSeconds(5), () -> {
            try {
                return info(ports, "open_fds") <= baseline + 10 && info(ports, "held_poll") == 0;
            } catch (Exception e) {
                return false;
            }
        });
        System.out.printf("jetty-base: 600 closed long-polls released in %d ms, disconnected=%d%n",
                (System.nanoTime() - t0) / 1_000_000, info(ports, "disconnected"));
        assertEquals(600, info(ports, "disconnected"));
    }

    private static void seqZeroQueriesCreateNothing(FreePorts.Plan ports) throws Exception {
        StringBuilder pipeline = new StringBuilder();
        for (int i = 0; i < 1500; i++) {
            pipeline.append("GET /sub?cname=fresh").append(i).append("&seq=0 HTTP/1.1\r\nHost: x\r\n\r\n");
        }
        pipeline.append("GET /ping?cb= HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
        String answers;
        try (Socket s = new Socket("127.0.0.1", ports.front())) {
            s.setSoTimeout(30_000);
            s.getOutputStream().write(pipeline.toString().getBytes(StandardCharsets.US_ASCII));
            answers = readAll(s.getInputStream());
        }
        assertEquals(1500, answers.split("\"type\":\"next_seq\"", -1).length - 1, "every query answered");
        assertEquals(1, info(ports, "channels"), "only the channel signed above exists");
        HttpResponse<String> push = Http.get(ports.admin(), "/push?cname=brand-new&content=hi");
        assertEquals(200, push.statusCode(), push.body());
    }

    private static void nothingExtraIsServed(FreePorts.Plan ports) throws Exception {
        assertEquals(404, Http.get(ports.front(), "/demo/chat/sign?room=secret").statusCode());
        assertEquals(404, Http.get(ports.front(), "/chat.html").statusCode());
        assertEquals(404, Http.get(ports.front(), "/stats").statusCode());
        HttpResponse<String> listing = Http.get(ports.front(), "/js/");
        assertFalse(listing.body().contains("jcomet.js"), "no directory listing: " + listing.body());
        HttpResponse<String> ping = Http.get(ports.front(), "/ping");
        assertEquals("nosniff", ping.headers().firstValue("X-Content-Type-Options").orElse(null));
        String bad;
        try (Socket s = new Socket("127.0.0.1", ports.front())) {
            s.setSoTimeout(10_000);
            s.getOutputStream().write(("GET /ping?cb=%zz&x=" + "a".repeat(2000) + " HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
                    .getBytes(StandardCharsets.US_ASCII));
            bad = readAll(s.getInputStream());
        }
        assertTrue(bad.startsWith("HTTP/1.1 400"), bad);
        assertTrue(bad.contains("\r\n\r\n{\"type\":\"error\""), bad);
        assertTrue(bad.toLowerCase().contains("x-content-type-options: nosniff"), bad);
    }

    private static String readAll(InputStream in) throws Exception {
        ByteArrayOutputStream b = new ByteArrayOutputStream();
        byte[] buf = new byte[65536];
        while (true) {
            int n;
            try {
                n = in.read(buf);
            } catch (SocketTimeoutException e) {
                break;
            }
            if (n < 0) {
                break;
            }
            b.write(buf, 0, n);
        }
        return b.toString(StandardCharsets.UTF_8);
    }
}
