package io.jcomet.servlet;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.jcomet.support.Engines;
import io.jcomet.support.TestServer;
import java.net.Socket;
import java.net.http.HttpRequest;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Per-client-address caps on held subscribers and on new channels per second: 429 + Retry-After,
 * counted; the caps are a node's (its clients' connections), checked on both engines.
 */
class ClientLimitsIT {

    @ParameterizedTest(name = "{0} engine")
    @ValueSource(strings = {Engines.MEMORY, Engines.REDIS})
    void oneAddressHoldsAtMostMaxHeldPerClientAndGetsBackInWhenOneLeaves(String engine) throws Exception {
        try (Engines e = Engines.start(engine, "client_limits_exempt", "", "max_held_per_client", "3", "max_new_channels_per_client", "0")) {
            TestServer t = e.sub; // on Redis: the channel signed through the other node, held on this one
            assertEquals(200, e.pub.admin("/sign?cname=lim").status());
            List<Socket> held = new ArrayList<>();
            for (int i = 0; i < 3; i++) {
                held.add(DisconnectIT.hold(t.front(), "/sub?cname=lim&seq=1"));
            }
            TestServer.awaitIo("3 held", Duration.ofSeconds(5), () -> t.subscribers("lim") == 3);
            TestServer.Response r = t.front("/sse?cname=lim&seq=1");
            assertEquals(429, r.status());
            assertEquals("5", r.header("Retry-After"));
            assertTrue(r.body().startsWith("{\"type\":\"error\"") && r.body().contains("max_held_per_client"), r.body());
            assertEquals(1, t.info("client_held_limit"));
            held.get(0).close();
            TestServer.awaitIo("a place freed", Duration.ofSeconds(3), () -> t.subscribers("lim") == 2);
            try (Socket again = DisconnectIT.hold(t.front(), "/sub?cname=lim&seq=1")) {
                TestServer.awaitIo("back in", Duration.ofSeconds(3), () -> t.subscribers("lim") == 3);
            }
            for (Socket s : held) {
                s.close();
            }
        }
    }

    @ParameterizedTest(name = "{0} engine")
    @ValueSource(strings = {Engines.MEMORY, Engines.REDIS})
    void newChannelsPerSecondAreCappedButSeqZeroQueriesAreFree(String engine) throws Exception {
        try (Engines e = Engines.start(engine, "client_limits_exempt", "", "max_new_channels_per_client", "5", "polling_timeout", "1")) {
            TestServer t = e.sub;
            for (int i = 0; i < 50; i++) {
                assertEquals(200, t.front("/sub?cname=ask" + i + "&seq=0").status(), "asking creates nothing, costs nothing");
            }
            int refused = 0;
            List<java.util.concurrent.CompletableFuture<TestServer.Response>> polls = new ArrayList<>();
            for (int i = 0; i < 20; i++) {
                polls.add(t.getAsync(t.front(), "/sub?cname=new" + i + "&seq=1"));
            }
            for (var f : polls) {
                TestServer.Response r = f.get();
                if (r.status() == 429) {
                    refused++;
                    assertEquals("1", r.header("Retry-After"));
                    assertTrue(r.body().contains("max_new_channels_per_client"), r.body());
                }
            }
            // sent within well under two seconds: at most 5 a second (10 over a second boundary) pass
            assertTrue(refused >= 10, "refused " + refused);
            assertEquals(refused, t.info("client_channel_rate"));
        }
    }

    @Test
    void xForwardedForCountsOnlyFromATrustedProxy() throws Exception {
        try (TestServer t = TestServer.start("client_limits_exempt", "", "max_held_per_client", "1", "trusted_proxies", "127.0.0.1")) {
            t.admin("/sign?cname=px");
            try (Socket a = DisconnectIT.hold(t.front(), "/sub?cname=px&seq=1");
                 Socket b = holdAs(t.front(), "203.0.113.7")) {
                TestServer.awaitIo("two clients behind the proxy held", Duration.ofSeconds(5), () -> t.subscribers("px") == 2);
                TestServer.Response r = t.send(HttpRequest.newBuilder(t.uri(t.front(), "/sub?cname=px&seq=1"))
                        .header("X-Forwarded-For", "203.0.113.7"));
                assertEquals(429, r.status(), "the same forwarded client again");
            }
        }
        try (TestServer t = TestServer.start("client_limits_exempt", "", "max_held_per_client", "1")) {
            t.admin("/sign?cname=px");
            try (Socket a = DisconnectIT.hold(t.front(), "/sub?cname=px&seq=1")) {
                TestServer.awaitIo("held", Duration.ofSeconds(5), () -> t.subscribers("px") == 1);
                TestServer.Response r = t.send(HttpRequest.newBuilder(t.uri(t.front(), "/sub?cname=px&seq=1"))
                        .header("X-Forwarded-For", "198.51.100.1"));
                assertEquals(429, r.status(), "no trusted proxy: a client cannot pick another address");
            }
        }
    }

    @Test
    void aTrustedProxyAddressMatchesOnlyItselfNotEveryAddressItPrefixes() throws Exception {
        try (TestServer t = TestServer.start("client_limits_exempt", "", "max_held_per_client", "1", "trusted_proxies", "127.0.0.1")) {
            t.admin("/sign?cname=px");
            // 127.0.0.15 and 127.0.0.123 start with "127.0.0.1" but are not the proxy: their X-Forwarded-For is ignored
            for (String peer : new String[] {"127.0.0.15", "127.0.0.123"}) {
                try (Socket a = holdAs(peer, t.front(), "203.0.113.7")) {
                    TestServer.awaitIo("held", Duration.ofSeconds(5), () -> t.subscribers("px") == 1);
                    try (Socket b = holdAs(peer, t.front(), "203.0.113.8")) {
                        b.setSoTimeout(5000);
                        String status = new String(b.getInputStream().readNBytes(12), java.nio.charset.StandardCharsets.US_ASCII);
                        assertEquals("HTTP/1.1 429", status, peer + " names no other client by a header");
                    }
                }
                TestServer.awaitIo("released", Duration.ofSeconds(5), () -> t.subscribers("px") == 0);
            }
        }
    }

    private static Socket holdAs(String from, int port, String forwardedFor) throws Exception {
        Socket s = new Socket();
        s.bind(new java.net.InetSocketAddress(java.net.InetAddress.getByName(from), 0));
        s.connect(new java.net.InetSocketAddress("127.0.0.1", port), 5000);
        s.getOutputStream().write(("GET /sub?cname=px&seq=1 HTTP/1.1\r\nHost: x\r\nX-Forwarded-For: " + forwardedFor + "\r\n\r\n")
                .getBytes(java.nio.charset.StandardCharsets.US_ASCII));
        return s;
    }

    private static Socket holdAs(int port, String forwardedFor) throws Exception {
        Socket s = new Socket("127.0.0.1", port);
        s.getOutputStream().write(("GET /sub?cname=px&seq=1 HTTP/1.1\r\nHost: x\r\nX-Forwarded-For: " + forwardedFor + "\r\n\r\n")
                .getBytes(java.nio.charset.StandardCharsets.US_ASCII));
        return s;
    }
}
