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
            Response unsigned = s.front("/sub?cname=secret&seq=1");
            assertEquals(404, unsigned.status());
            String token = new ObjectMapper().readTree(s.admin("/sign?cname=secret").body()).get("token").asText();
            Response none = s.front("/sub?cname=secret&seq=1");
            assertEquals(401, none.status());
            assertTrue(none.body().contains("\"type\":\"401\"") && none.body().contains("Token error"));
            Response wrong = s.front("/sub?cname=secret&seq=1&token=00000000000000000000000000000000");
            assertEquals(401, wrong.status());
            s.admin("/push?cname=secret&content=ok");
            Response right = s.front("/sub?cname=secret&seq=1&token=" + token);
            assertEquals(200, right.status());
            assertTrue(right.body().contains("\"content\":\"ok\""), right.body());
        }
    }
}
