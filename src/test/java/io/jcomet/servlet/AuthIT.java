package io.jcomet.servlet;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.ObjectMapper;
import io.jcomet.support.Engines;
import io.jcomet.support.TestServer.Response;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** auth=token: /sign, then subscribers need the token. */
class AuthIT {
    @ParameterizedTest(name = "{0}")
    @ValueSource(strings = {Engines.MEMORY, Engines.REDIS})
    void subscribersNeedTheTokenThatSignReturned(String engine) throws Exception {
        // on Redis the channel is signed and published through one node, subscribed on the other
        try (Engines s = Engines.start(engine, "auth", "token", "polling_timeout", "1")) {
            // icomet's refusals are protocol messages: HTTP 200, the type in the body
            Response unsigned = s.sub.front("/sub?cname=secret&seq=1");
            assertEquals(200, unsigned.status());
            assertTrue(unsigned.body().contains("\"type\":\"401\""), "an unsigned channel is a token error, as in icomet: " + unsigned.body());
            String token = new ObjectMapper().readTree(s.pub.admin("/sign?cname=secret").body()).get("token").asText();
            Response none = s.sub.front("/sub?cname=secret&seq=1");
            assertEquals(200, none.status());
            assertTrue(none.body().contains("\"type\":\"401\"") && none.body().contains("Token error"));
            Response wrong = s.sub.front("/sub?cname=secret&seq=1&token=00000000000000000000000000000000");
            assertEquals(200, wrong.status());
            assertTrue(wrong.body().contains("\"type\":\"401\""), wrong.body());
            s.pub.admin("/push?cname=secret&content=ok");
            Response right = s.sub.front("/sub?cname=secret&seq=1&token=" + token);
            assertEquals(200, right.status());
            assertTrue(right.body().contains("\"content\":\"ok\""), right.body());
        }
    }
}
