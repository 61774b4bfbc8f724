package io.jcomet.deploy;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

/**
 * The user-visible promise both containers must keep: subscribers long-polling one channel on any
 * front ports all receive a message pushed on the admin port.
 *
 * <p>Threads: runs on the test thread; the subscribers' responses complete on the HttpClient's threads.
 */
final class CometRoundTrip {

    private CometRoundTrip() {
    }

    /**
     * /sign creates the channel and says which seq the next message gets; one /sub per front port
     * asks for exactly that seq and is held; once /info counts them all, /push sends one message,
     * which every subscriber must receive as a data message.
     */
    static void run(ServerProcess server, int adminPort, List<Integer> frontPorts) throws Exception {
        String cname = "it" + Long.toHexString(System.nanoTime());
        String content = "hello from " + cname;

        HttpResponse<String> sign = Http.get(adminPort, "/sign?cname=" + cname);
        assertEquals(200, sign.statusCode(), "sign: " + sign.body());
        long seq = Http.jsonLong(sign.body(), "seq");
        assertTrue(seq >= 0, "sign answered a seq: " + sign.body());

        List<CompletableFuture<HttpResponse<String>>> subs = new ArrayList<>();
        for (int port : frontPorts) {
            subs.add(Http.getAsync(port, "/sub?cname=" + cname + "&seq=" + seq, Duration.ofSeconds(25)));
        }
        server.await(frontPorts.size() + " held subscribers", Duration.ofSeconds(15), () -> {
            HttpResponse<String> info = Http.tryGet(adminPort, "/info?cname=" + cname);
            return info != null && Http.jsonLong(info.body(), "subscribers") == frontPorts.size();
        });

        HttpResponse<String> push = Http.get(adminPort, "/push?cname=" + cname + "&content=" + Http.enc(content));
        assertEquals(200, push.statusCode(), "push: " + push.body());
        assertTrue(push.body().contains("\"ok\""), "push answered ok: " + push.body());

        for (int i = 0; i < subs.size(); i++) {
            HttpResponse<String> r = subs.get(i).get(15, TimeUnit.SECONDS);
            String where = "subscriber on port " + frontPorts.get(i) + ": ";
            assertEquals(200, r.statusCode(), where + r.body());
            assertTrue(r.body().contains("\"type\":\"data\""), where + r.body());
            assertTrue(r.body().contains("\"content\":\"" + content + "\""), where + r.body());
            assertEquals(seq, Http.jsonLong(r.body(), "seq"), where + r.body());
        }
    }
}
