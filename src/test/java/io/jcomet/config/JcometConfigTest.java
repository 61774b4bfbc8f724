package io.jcomet.config;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class JcometConfigTest {
    @Test
    void defaultsAreIcometsWithJcometsLimits() {
        JcometConfig c = JcometConfig.defaults();
        assertEquals(JcometConfig.Auth.NONE, c.auth());
        assertEquals(1_000_000, c.maxChannels());
        assertEquals(16, c.maxSubscribersPerChannel());
        assertEquals(10, c.channelBufferSize());
        assertEquals(30, c.channelTimeoutSeconds());
        assertEquals(30, c.pollingTimeoutSeconds());
        assertEquals(8000, c.adminPort());
        assertEquals(List.of("127.0.0.1"), c.adminAllow().entries());
        assertEquals(List.of("all"), c.adminDeny().entries());
        assertEquals(65536, c.maxMessageSize());
        assertEquals(64, c.maxCnameLength());
        assertEquals("*", c.corsAllowOrigin());
    }

    @Test
    void valuesOverrideDefaultsWithOrWithoutPrefix() {
        JcometConfig c = JcometConfig.from(Map.of("auth", "TOKEN", "jcomet.polling_timeout", "5",
                "max_channels", "1_000", "admin_allow", "127.0.0.1, 192.168.0.0/16"));
        assertEquals(JcometConfig.Auth.TOKEN, c.auth());
        assertEquals(5, c.pollingTimeoutSeconds());
        assertEquals(1000, c.maxChannels());
        assertEquals(List.of("127.0.0.1", "192.168.0.0/16"), c.adminAllow().entries());
    }

    @Test
    void invalidValuesNameTheKeyAndTheValue() {
        ConfigException e = assertThrows(ConfigException.class, () -> JcometConfig.from(Map.of("polling_timeout", "abc")));
        assertEquals("polling_timeout", e.key());
        assertTrue(e.getMessage().contains("polling_timeout=abc"), e.getMessage());
        e = assertThrows(ConfigException.class, () -> JcometConfig.from(Map.of("max_channels", "0")));
        assertTrue(e.getMessage().contains("max_channels=0") && e.getMessage().contains("between"), e.getMessage());
        e = assertThrows(ConfigException.class, () -> JcometConfig.from(Map.of("auth", "basic")));
        assertTrue(e.getMessage().contains("auth=basic"), e.getMessage());
        e = assertThrows(ConfigException.class, () -> JcometConfig.from(Map.of("admin_allow", "localhost")));
        assertTrue(e.getMessage().contains("admin_allow=localhost"), e.getMessage());
        e = assertThrows(ConfigException.class, () -> JcometConfig.from(Map.of("trusted_proxies", "192.168")));
        assertTrue(e.getMessage().contains("192.168.0.0/16"), "a string prefix is refused with the CIDR it may have meant: " + e.getMessage());
        e = assertThrows(ConfigException.class, () -> JcometConfig.from(Map.of("front_stats", "maybe")));
        assertTrue(e.getMessage().contains("front_stats=maybe"), e.getMessage());
    }

    @Test
    void webSocketLimitsAndOriginsAreValidated() {
        JcometConfig c = JcometConfig.from(Map.of("ws_allowed_origins", "https://A.example, http://localhost:3000",
                "ws_max_channels", "4", "ws_ping_interval", "0"));
        assertEquals(List.of("https://a.example", "http://localhost:3000"), c.wsAllowedOrigins());
        assertEquals(4, c.wsMaxChannels());
        assertEquals(0, c.wsPingIntervalSeconds());
        assertEquals(List.of("*"), JcometConfig.defaults().wsAllowedOrigins());
        ConfigException e = assertThrows(ConfigException.class,
                () -> JcometConfig.from(Map.of("ws_allowed_origins", "https://a.example/path")));
        assertTrue(e.getMessage().contains("ws_allowed_origins=https://a.example/path"), e.getMessage());
        assertThrows(ConfigException.class, () -> JcometConfig.from(Map.of("ws_max_frame_bytes", "10")));
        assertThrows(ConfigException.class, () -> JcometConfig.from(Map.of("ws_max_frames_per_second", "0")));
    }

    @Test
    void unknownKeysAreRefusedSoTyposDoNotPassSilently() {
        ConfigException e = assertThrows(ConfigException.class, () -> JcometConfig.from(Map.of("polling_timout", "5")));
        assertTrue(e.getMessage().contains("polling_timout=5"), "key and value: " + e.getMessage());
    }
}
