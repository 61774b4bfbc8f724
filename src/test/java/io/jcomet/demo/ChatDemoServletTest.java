package io.jcomet.demo;

import io.jcomet.config.JcometConfig;
import io.jcomet.core.Broker;
import io.jcomet.core.Message;
import io.jcomet.core.Subscriber;
import io.jcomet.protocol.Transport;
import jakarta.servlet.ServletOutputStream;
import jakarta.servlet.WriteListener;
import jakarta.servlet.http.HttpServletRequest;
import jakarta.servlet.http.HttpServletResponse;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.io.ByteArrayOutputStream;
import java.lang.reflect.Proxy;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The chat demo servlet against a real {@link Broker}, with minimal request/response fakes: what
 * a client gets back (status + JSON) and what lands on the channel.
 */
class ChatDemoServletTest {

    Broker broker;
    ChatDemoServlet servlet;
    int ip = 1;

    @BeforeEach
    void setUp() {
        broker = new Broker(JcometConfig.defaults());
        servlet = new ChatDemoServlet();
        servlet.setBroker(broker);
    }

    @AfterEach
    void tearDown() {
        servlet.destroy();
        broker.close();
    }

    record Reply(int status, String body, Map<String, String> headers) {}

    Reply call(String method, String path, String addr, String... kv) throws Exception {
        Map<String, String> params = new HashMap<>();
        for (int i = 0; i < kv.length; i += 2) params.put(kv[i], kv[i + 1]);
        HttpServletRequest req = (HttpServletRequest) Proxy.newProxyInstance(getClass().getClassLoader(),
                new Class<?>[]{HttpServletRequest.class}, (p, m, a) -> switch (m.getName()) {
                    case "getMethod" -> method;
                    case "getPathInfo" -> path;
                    case "getParameter" -> params.get((String) a[0]);
                    case "getRemoteAddr" -> addr;
                    case "setCharacterEncoding" -> null;
                    default -> throw new UnsupportedOperationException(m.getName());
                });
        ByteArrayOutputStream body = new ByteArrayOutputStream();
        int[] status = {200};
        Map<String, String> headers = new HashMap<>();
        ServletOutputStream out = new ServletOutputStream() {
            @Override public boolean isReady() { return true; }
            @Override public void setWriteListener(WriteListener l) { }
            @Override public void write(int b) { body.write(b); }
        };
        HttpServletResponse resp = (HttpServletResponse) Proxy.newProxyInstance(getClass().getClassLoader(),
                new Class<?>[]{HttpServletResponse.class}, (p, m, a) -> switch (m.getName()) {
                    case "setStatus" -> { status[0] = (Integer) a[0]; yield null; }
                    case "setHeader" -> { headers.put((String) a[0], (String) a[1]); yield null; }
                    case "setContentType" -> { headers.put("Content-Type", (String) a[0]); yield null; }
                    case "setContentLength" -> null;
                    case "getOutputStream" -> out;
                    default -> throw new UnsupportedOperationException(m.getName());
                });
        servlet.service(req, resp);
        return new Reply(status[0], body.toString(StandardCharsets.UTF_8), headers);
    }

    /** GET for the read-only who/sign, POST for everything that changes state (as chat.html sends them). */
    Reply get(String path, String... kv) throws Exception {
        String method = path.endsWith("/who") || path.endsWith("/sign") ? "GET" : "POST";
        return call(method, path, "10.0.0." + (ip++), kv); // a new client each time: no rate limit
    }

    /** Joins as {@code name} and returns the key the demo gave for it. */
    String join(String room, String name) throws Exception {
        Reply r = get("/chat/join", "room", room, "name", name);
        assertEquals(200, r.status(), r.body());
        java.util.regex.Matcher m = java.util.regex.Pattern.compile("\"key\":\"([0-9a-f]{32})\"").matcher(r.body());
        assertTrue(m.find(), r.body());
        return m.group(1);
    }

    /** What the channel buffers from seq 1 on, as the JSON messages subscribers get. */
    List<String> channel(String cname) {
        List<String> got = new ArrayList<>();
        broker.subscribe(new Subscriber(0) {
            @Override public Transport transport() { return Transport.POLL; }
            @Override protected boolean send(Message m) { got.add(new String(m.json(), StandardCharsets.UTF_8)); return true; }
            @Override protected boolean sendAll(Message[] ms, int n) {
                for (int i = 0; i < n; i++) send(ms[i]);
                return true;
            }
            @Override protected void refuse(int status, Message m) { got.add("refused " + status); }
            @Override protected void end(Message last) { if (last != null) send(last); }
        }, new Broker.SubscribeRequest(cname, 1, "", null));
        return got;
    }

    @Test
    void publishesEscapedJsonToTheRoomChannel() throws Exception {
        String key = join("r1", "al\"ice"); // seq 1: the presence line
        Reply r = get("/chat/pub", "room", "r1", "name", "al\"ice", "key", key, "text", "</script> 😀 \\ \u2028 x\ny");
        assertEquals(200, r.status(), r.body());
        assertEquals("{\"type\":\"ok\",\"seq\":2}", r.body());
        assertEquals("application/json;charset=utf-8", r.headers().get("Content-Type"));
        List<String> msgs = channel("demo.chat-r1");
        assertEquals(2, msgs.size(), msgs.toString());
        String m = msgs.get(1);
        assertTrue(m.replaceFirst(",\"epoch\":\"[^\"]*\"", "").startsWith("{\"type\":\"data\",\"cname\":\"demo.chat-r1\",\"seq\":2,\"content\":\""), m);
        // content is a JSON text (escaped once more by the server): no raw '<', quotes escaped
        assertFalse(m.contains("</script>"), m);
        assertTrue(m.contains("\\\"kind\\\":\\\"chat\\\",\\\"name\\\":\\\"al\\\\\\\"ice\\\""), m);
    }

    @Test
    void quoteEscapesEverythingJsonAndScriptContextsNeed() {
        assertEquals("\"a\\\"b\\\\c\\n\\r\\t\\u0001\\u003c/script\\u003e\\u0026\\u2028\\u2029😀\"",
                ChatDemoServlet.quote("a\"b\\c\n\r\t\u0001</script>&\u2028\u2029😀"));
    }

    @Test
    void cleanCountsCodePointsStripsControlsAndTrims() {
        assertEquals("😀".repeat(32), ChatDemoServlet.clean("😀".repeat(32), "name", 32, false));
        assertThrows(IllegalArgumentException.class, () -> ChatDemoServlet.clean("x".repeat(33), "name", 32, false));
        assertEquals("ab", ChatDemoServlet.clean(" a\u0000\nb ", "name", 32, false));
        assertEquals("a\nb", ChatDemoServlet.clean(" a\u0007\nb ", "text", 500, true));
        assertEquals("a", ChatDemoServlet.clean("a\uD800", "text", 500, true), "lone surrogate dropped");
        assertThrows(IllegalArgumentException.class, () -> ChatDemoServlet.clean(" \u0001 ", "text", 500, true));
        assertThrows(IllegalArgumentException.class, () -> ChatDemoServlet.clean(null, "text", 500, true));
    }

    @Test
    void badInputGetsClear4xxJson() throws Exception {
        assertEquals(new Reply(400, "{\"type\":\"error\",\"reason\":\"room must be 1-32 characters of A-Z a-z 0-9 _ -\"}", Map.of()).body(),
                get("/chat/pub", "room", "a/b", "name", "n", "text", "t").body());
        assertEquals(400, get("/chat/pub", "name", "n", "text", "t").status());
        String key = join("r", "n");
        Reply longText = get("/chat/pub", "room", "r", "name", "n", "key", key, "text", "x".repeat(501));
        assertEquals(400, longText.status());
        assertEquals("{\"type\":\"error\",\"reason\":\"text is longer than 500 characters\"}", longText.body());
        assertEquals(200, get("/chat/pub", "room", "r", "name", "n", "key", key, "text", "😀".repeat(500)).status(), "500 emoji are 500 characters");
        assertEquals(400, get("/chat/pub", "room", "r", "name", "n".repeat(33), "text", "t").status());
        assertEquals(400, get("/chat/pub", "room", "r", "name", "n", "key", key, "text", "   ").status());
        assertEquals(404, get("/chat/nope", "room", "r").status());
        Reply put = call("PUT", "/chat/pub", "10.1.1.1");
        assertEquals(405, put.status());
        assertEquals("GET, POST", put.headers().get("Allow"));
        assertTrue(put.body().startsWith("{\"type\":\"error\",\"reason\":"), put.body());
    }

    @Test
    void rateLimitedPerClientAddressWithBurst() throws Exception {
        int ok = 0;
        Reply last = null;
        String key = join("r", "n");
        for (int i = 0; i < 12; i++) {
            last = call("POST", "/chat/pub", "192.0.2.7", "room", "r", "name", "n", "key", key, "text", "m" + i);
            if (last.status() == 200) ok++;
        }
        assertEquals(10, ok, "burst of 10");
        assertEquals(429, last.status());
        assertEquals("1", last.headers().get("Retry-After"));
        assertTrue(last.body().contains("\"type\":\"error\""), last.body());
        // another client is not affected
        assertEquals(200, call("POST", "/chat/pub", "192.0.2.8", "room", "r", "name", "n", "key", key, "text", "x").status());
        // the bucket refills at 5/s (driven by an explicit clock, no sleeping)
        long t = System.nanoTime();
        ChatDemoServlet s = new ChatDemoServlet();
        for (int i = 0; i < 10; i++) assertTrue(s.allow("a", t));
        assertFalse(s.allow("a", t));
        assertTrue(s.allow("a", t + 200_000_000L), "one token after 200 ms");
        assertFalse(s.allow("a", t + 200_000_000L));
    }

    @Test
    void presenceIsPublishedOnJoinAndLeaveButNotOnHeartbeat() throws Exception {
        String alice = join("p", "alice");
        assertTrue(get("/chat/join", "room", "p", "name", "bob").body().startsWith("{\"type\":\"ok\",\"online\":[\"alice\",\"bob\"],\"key\":"));
        assertEquals(200, get("/chat/heartbeat", "room", "p", "name", "alice", "key", alice).status());
        assertEquals("{\"type\":\"ok\",\"online\":[\"alice\",\"bob\"]}", get("/chat/who", "room", "p").body());
        assertEquals("{\"type\":\"ok\",\"online\":[\"bob\"]}", get("/chat/leave", "room", "p", "name", "alice", "key", alice).body());
        List<String> msgs = channel("demo.chat-p");
        assertEquals(3, msgs.size(), "join, join, leave; no message for the heartbeat: " + msgs);
        assertTrue(msgs.get(0).contains("\\\"online\\\":[\\\"alice\\\"],\\\"joined\\\":\\\"alice\\\""), msgs.get(0));
        assertTrue(msgs.get(2).contains("\\\"online\\\":[\\\"bob\\\"],\\\"joined\\\":null,\\\"left\\\":[\\\"alice\\\"]"), msgs.get(2));
    }

    @Test
    void signGivesTokenAndSubTimeout() throws Exception {
        Reply r = get("/chat/sign", "room", "s");
        assertEquals(200, r.status());
        assertTrue(r.body().matches("\\{\"type\":\"sign\",\"cname\":\"demo.chat-s\",\"seq\":1,\"token\":\"[0-9a-f]{32}\",\"expires\":60,\"sub_timeout\":\\d+}"), r.body());
    }

    @Test
    void stateChangingActionsArePostOnlySoACrossSiteImageCannotPost() throws Exception {
        for (String action : new String[] {"pub", "join", "heartbeat", "leave"}) {
            Reply r = call("GET", "/chat/" + action, "10.2.0.1", "room", "r", "name", "n", "text", "t");
            assertEquals(405, r.status(), action);
            assertEquals("POST", r.headers().get("Allow"));
            assertTrue(r.body().startsWith("{\"type\":\"error\",\"reason\":"), r.body());
        }
    }

    @Test
    void namesWithBidiOrInvisibleCharactersAreRefused() throws Exception {
        for (String name : new String[] {"ali\u202Ece", "bob\u200B", "\u2066eve", "mal\uFEFFlory", "x\u200Ey"}) {
            Reply r = get("/chat/join", "room", "r", "name", name);
            assertEquals(400, r.status(), name);
            assertTrue(r.body().contains("formatting characters"), r.body());
        }
    }

    @Test
    void theDemoSignsAndPublishesOnlyItsOwnChannels() throws Exception {
        broker.sign("chat-secret", 3600); // a real application's channel
        Reply r = get("/chat/sign", "room", "secret");
        assertTrue(r.body().contains("\"cname\":\"demo.chat-secret\""), r.body());
        get("/chat/pub", "room", "secret", "name", "n", "key", join("secret", "n"), "text", "t");
        assertTrue(channel("chat-secret").isEmpty(), "nothing published to the application's channel");
        assertEquals(2, channel("demo.chat-secret").size(), "the join's presence line and the chat line");
    }

    @Test
    void nobodyPostsOrLeavesAsSomeoneElse() throws Exception {
        String mallory = join("k", "mallory");
        String alice = join("k", "alice");
        assertEquals(403, get("/chat/pub", "room", "k", "name", "alice", "text", "hi").status(), "no key");
        assertEquals(403, get("/chat/pub", "room", "k", "name", "alice", "key", mallory, "text", "hi").status(), "someone else's key");
        assertEquals(403, get("/chat/leave", "room", "k", "name", "alice", "key", mallory).status());
        assertEquals(409, get("/chat/join", "room", "k", "name", "alice").status(), "the name is taken");
        assertEquals(409, get("/chat/heartbeat", "room", "k", "name", "alice", "key", mallory).status());
        assertEquals(200, get("/chat/pub", "room", "k", "name", "alice", "key", alice, "text", "it is me").status());
        assertEquals(200, get("/chat/leave", "room", "k", "name", "alice", "key", alice).status());
        assertEquals(200, get("/chat/join", "room", "k", "name", "alice").status(), "a name that left is free again");
    }
}
