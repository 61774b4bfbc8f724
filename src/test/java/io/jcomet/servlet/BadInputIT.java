package io.jcomet.servlet;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.jcomet.support.TestServer;
import io.jcomet.support.TestServer.Response;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.Socket;
import java.net.http.HttpRequest;
import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** Every bad input gets a 4xx with a JSON body saying what was wrong, and breaks nothing else. */
class BadInputIT {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static TestServer server;

    @BeforeAll
    static void start() throws Exception {
        server = TestServer.start("polling_timeout", "2", "max_message_size", "1000", "max_cname_length", "16");
    }

    @AfterAll
    static void stop() {
        server.close();
    }

    private static void assertJsonError(Response r, int status, String reasonPart) throws Exception {
        assertEquals(status, r.status(), r.body());
        JsonNode n = JSON.readTree(r.body());
        assertEquals("error", n.get("type").asText());
        assertTrue(n.get("reason").asText().contains(reasonPart), n.get("reason").asText());
    }

    @ParameterizedTest
    @ValueSource(strings = {"alert(1)", "a%3Bb", "%3Cscript%3E", "1x", "a..b"})
    void callbackThatIsNotAnIdentifierPathIs400(String cb) throws Exception {
        assertJsonError(server.front("/sub?cname=c&cb=" + cb), 400, "cb");
        assertJsonError(server.front("/ping?cb=" + cb), 400, "cb");
        assertJsonError(server.admin("/sign?cname=c&cb=" + cb), 400, "cb");
    }

    @Test
    void cnameTooLongOrWithControlCharactersIs400() throws Exception {
        assertJsonError(server.front("/sub?cname=" + "x".repeat(17)), 400, "cname longer than max_cname_length (16 bytes");
        assertJsonError(server.front("/sub?cname=" + "%E4%B8%AD".repeat(6)), 400, "16 bytes"); // 6 characters, 18 bytes
        assertJsonError(server.front("/sub?cname=a%0Ab"), 400, "control characters");
        assertJsonError(server.front("/sub?seq=1"), 400, "missing cname");
        assertJsonError(server.admin("/push?cname=a%01b&content=x"), 400, "cname");
    }

    @Test
    void errorsReachAJsonpCallerAsJsonp() throws Exception {
        Response r = server.front("/sub?cname=a%0Ab&cb=cbx");
        assertEquals(200, r.status(), "a browser runs no script sent with a 4xx: the callback must see the error");
        assertTrue(r.body().startsWith("cbx({\"type\":\"error\",\"reason\":\"cname must not contain control characters\"});"), r.body());
        Response admin = server.admin("/push?cname=c&cb=cbx");
        assertTrue(admin.body().startsWith("cbx({\"type\":\"error\",\"reason\":\"missing content\"});"), admin.body());
    }

    @Test
    void nonIntegerSeqNoopOrExpiresIs400() throws Exception {
        assertJsonError(server.front("/sub?cname=c&seq=abc"), 400, "seq must be an integer");
        assertJsonError(server.front("/sub?cname=c&noop=1.5"), 400, "noop must be an integer");
        // expires is not an error, as in icomet: anything but a positive integer is channel_timeout
        assertEquals(30, JSON.readTree(server.admin("/sign?cname=c&expires=soon").body()).get("expires").asInt());
    }

    @Test
    void contentOverMaxMessageSizeIs413AndNothingIsPublished() throws Exception {
        assertJsonError(server.admin("/push?cname=big&content=" + "y".repeat(1001)), 413, "max_message_size");
        Response raw = server.send(HttpRequest.newBuilder(server.uri(server.admin(), "/push?cname=big&raw=1"))
                .header("Content-Type", "text/plain").POST(HttpRequest.BodyPublishers.ofString("z".repeat(5000))));
        assertJsonError(raw, 413, "max_message_size");
        Response form = server.send(HttpRequest.newBuilder(server.uri(server.admin(), "/push?cname=big"))
                .POST(HttpRequest.BodyPublishers.ofString("content=" + "%7A".repeat(3000))));
        assertJsonError(form, 413, "max_message_size");
        assertEquals(200, server.admin("/push?cname=big&content=" + "y".repeat(1000)).status(), "exactly the limit is fine");
        JsonNode next = JSON.readTree(server.front("/sub?cname=big&seq=0").body());
        assertEquals(2, next.get("seq").asInt(), "only the message within the limit was published");
    }

    @Test
    void wrongMethodIs405() throws Exception {
        Response r = server.send(HttpRequest.newBuilder(server.uri(server.front(), "/sub?cname=c"))
                .DELETE());
        assertJsonError(r, 405, "DELETE not allowed");
        Response post = server.send(HttpRequest.newBuilder(server.uri(server.front(), "/sub?cname=c"))
                .POST(HttpRequest.BodyPublishers.ofString("")));
        assertJsonError(post, 405, "POST not allowed");
    }

    @Test
    void missingContentIs400() throws Exception {
        assertJsonError(server.admin("/push?cname=c"), 400, "missing content");
        assertJsonError(server.admin("/broadcast"), 400, "missing content");
    }

    @Test
    void unknownChannelOnCloseOrClearIs404() throws Exception {
        assertJsonError(server.admin("/close?cname=nosuch"), 404, "channel[nosuch] not connected");
        assertJsonError(server.admin("/clear?cname=nosuch"), 404, "channel[nosuch] not connected");
    }

    @Test
    void malformedPercentEncodingIs400NotA500() throws Exception {
        try (Socket s = new Socket("127.0.0.1", server.front())) {
            OutputStream out = s.getOutputStream();
            out.write("GET /sub?cname=%zz&seq=1 HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n".getBytes(StandardCharsets.US_ASCII));
            InputStream in = s.getInputStream();
            String resp = new String(in.readAllBytes(), StandardCharsets.UTF_8);
            assertTrue(resp.startsWith("HTTP/1.1 400"), resp);
        }
    }

    @Test
    void badRequestsDoNotLoseOthersMessages() throws Exception {
        server.admin("/push?cname=keep&content=one");
        server.front("/sub?cname=keep&seq=zzz");
        server.admin("/push?cname=keep&content=" + "q".repeat(2000));
        server.admin("/push?cname=keep&content=two");
        JsonNode all = JSON.readTree(server.front("/sub?cname=keep&seq=1").body());
        assertEquals(2, all.size());
        assertEquals("one", all.get(0).get("content").asText());
        assertEquals("two", all.get(1).get("content").asText());
        JsonNode info = JSON.readTree(server.admin("/info").body());
        assertTrue(info.get("rejected").get("bad_request").asInt() >= 1);
        assertTrue(info.get("rejected").get("too_large").asInt() >= 1);
    }
}
