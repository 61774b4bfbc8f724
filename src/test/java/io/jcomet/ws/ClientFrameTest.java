package io.jcomet.ws;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.util.Map;
import org.junit.jupiter.api.Test;

/** The client frame reader takes flat JSON objects and refuses everything else with a reason. */
class ClientFrameTest {

    @Test
    void readsStringsAndIntegersWithEscapes() throws Exception {
        Map<String, String> f = ClientFrame.parse(" {\"op\":\"sub\", \"cname\":\"a\\u0062\\\\c\",\"seq\":-12,\"token\":\"\"} ");
        assertEquals(Map.of("op", "sub", "cname", "ab\\c", "seq", "-12", "token", ""), f);
        assertEquals(Map.of(), ClientFrame.parse("{}"));
    }

    @Test
    void refusesWhatIsNotAFlatObject() {
        for (String bad : new String[] {"", "[]", "{\"op\":true}", "{\"op\":{\"x\":1}}", "{\"op\":\"sub\"", "{\"op\":\"sub\"} x",
                "{\"a\":1,\"a\":2}", "{\"op\":1.5}", "{op:\"sub\"}", "{\"op\":\"\\q\"}", "{\"op\":\"a\nb\"}"}) {
            assertThrows(ClientFrame.BadFrame.class, () -> ClientFrame.parse(bad), bad);
        }
    }
}
