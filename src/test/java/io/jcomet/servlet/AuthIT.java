package io.jcomet.servlet;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.ObjectMapper;
import io.jcomet.support.TestServer;
import io.jcomet.support.TestServer.Response;
import org.junit.jupiter.api.Test;

/** auth=token: /sign, then subscribers need the token. */
class AuthIT {
    @Test
    void subscribersNeedTheTokenThatSignReturned() throws Exception {
        try (TestServer s = TestServer.start("auth", "token", "polling_timeout", "1")) {
            // icomet's refusals are protocol messages: HTTP 200, the type in the body
            Response unsigned = s.front("/sub?cname=secret&seq=1");
            assertEquals(200, unsigned.status());
            assertTrue(unsigned.body().contains("\"type\":\"401\""), "an unsigned channel is a token error, as in icomet: " + unsigned.body());
            String token = new ObjectMapper().readTree(s.admin("/sign?cname=secret").body()).get("token").asText();
            Response none = s.front("/sub?cname=secret&seq=1");
            assertEquals(200, none.status());
            assertTrue(none.body().contains("\"type\":\"401\"") && none.body().contains("Token error"));
            Response wrong = s.front("/sub?cname=secret&seq=1&token=00000000000000000000000000000000");
            assertEquals(200, wrong.status());
            assertTrue(wrong.body().contains("\"type\":\"401\""), wrong.body());
            s.admin("/push?cname=secret&content=ok");
            Response right = s.front("/sub?cname=secret&seq=1&token=" + token);
            assertEquals(200, right.status());
            assertTrue(right.body().contains("\"content\":\"ok\""), right.body());
        }
    }
}
