package io.jcomet.core;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;

import io.jcomet.config.JcometConfig;
import java.util.HashSet;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.Test;

/** The one admission decision: client address, per-address caps, counting, memory budget off. */
class AdmissionTest {
    private final Set<String> existing = new HashSet<>();

    private Admission admission(Stats stats, String... kv) {
        Map<String, String> m = new java.util.HashMap<>();
        for (int i = 0; i < kv.length; i += 2) {
            m.put(kv[i], kv[i + 1]);
        }
        return new Admission(JcometConfig.from(m), stats, existing::contains, new MemoryBudget(0));
    }

    @Test
    void forwardedForCountsOnlyFromAnExactlyTrustedProxy() {
        Admission a = admission(new Stats(), "trusted_proxies", "127.0.0.1, 10.0.0.0/8");
        assertEquals("203.0.113.7", a.client("127.0.0.1", "198.51.100.1, 203.0.113.7"), "the last address, from the proxy");
        assertEquals("203.0.113.7", a.client("10.2.3.4", "203.0.113.7"), "a proxy in a trusted range");
        assertEquals("127.0.0.15", a.client("127.0.0.15", "203.0.113.7"), "127.0.0.1 trusts 127.0.0.15 no more");
        assertEquals("127.0.0.123", a.client("127.0.0.123", "203.0.113.7"));
        assertEquals("127.0.0.1", a.client("::1", null), "IPv6 loopback is 127.0.0.1");
        assertEquals("127.0.0.1", a.client("127.0.0.1", "not-an-address"), "a forged header naming nothing is ignored");
    }

    @Test
    void exemptAddressesAreNotLimitedAndOthersGetBuckets() {
        Admission a = admission(new Stats(), "client_limits_exempt", "127.0.0.1");
        assertEquals(Admission.NOT_LIMITED, a.bucket("127.0.0.1"));
        assertNotEquals(Admission.NOT_LIMITED, a.bucket("127.0.0.15"), "exact: 127.0.0.1 does not exempt 127.0.0.15");
    }

    @Test
    void heldSubscriptionsAreCappedPerAddressAndGivenBack() {
        Stats stats = new Stats();
        Admission a = admission(stats, "client_limits_exempt", "", "max_held_per_client", "2", "max_new_channels_per_client", "0");
        int b = a.bucket("203.0.113.7");
        assertNull(a.admitSubscription(b, "c1", true));
        assertNull(a.admitSubscription(b, "c2", true));
        Admission.Refusal r = a.admitSubscription(b, "c3", true);
        assertNotNull(r);
        assertEquals(429, r.httpStatus());
        assertEquals(5, r.retryAfterSeconds());
        assertEquals(1, stats.rejected(Stats.Reject.CLIENT_HELD_LIMIT));
        assertNull(a.admitSubscription(a.bucket("203.0.113.8"), "c3", true), "another address has its own count");
        a.releaseHeld(b);
        assertNull(a.admitSubscription(b, "c3", true), "a place given back is taken again");
    }

    @Test
    void channelCreationIsRatedButJoiningAnExistingChannelIsNot() {
        Stats stats = new Stats();
        Admission a = admission(stats, "client_limits_exempt", "", "max_new_channels_per_client", "3");
        int b = a.bucket("203.0.113.7");
        int refused = 0;
        for (int i = 0; i < 8; i++) {
            Admission.Refusal r = a.admitSubscription(b, "new" + i, true);
            if (r != null) {
                assertEquals(1, r.retryAfterSeconds());
                refused++;
            }
        }
        // eight within one second (5 refused), or over a second boundary (at most 6 pass)
        assertEquals(refused, stats.rejected(Stats.Reject.CLIENT_CHANNEL_RATE));
        existing.add("room");
        for (int i = 0; i < 10; i++) {
            assertNull(a.admitSubscription(b, "room", true), "an existing channel creates nothing");
        }
        assertNull(a.admitSubscription(b, "absent", false), "a request that cannot create is not rated");
        org.junit.jupiter.api.Assertions.assertTrue(refused >= 2 && refused <= 5, "3 a second: refused " + refused);
    }

    @Test
    void webSocketsPerAddressAreCapped() {
        Stats stats = new Stats();
        Admission a = admission(stats, "client_limits_exempt", "", "ws_max_sockets_per_client", "2");
        int b = a.bucket("203.0.113.7");
        assertNull(a.admitSocket(b));
        assertNull(a.admitSocket(b));
        Admission.Refusal r = a.admitSocket(b);
        assertNotNull(r);
        assertEquals(Stats.Reject.CLIENT_SOCKET_LIMIT, r.reject());
        assertEquals(false, r.overloaded());
        a.releaseSocket(b);
        assertNull(a.admitSocket(b));
        assertNull(a.admitSocket(Admission.NOT_LIMITED), "exempt clients are not counted");
    }
}
