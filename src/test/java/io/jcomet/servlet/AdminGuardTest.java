package io.jcomet.servlet;

import static org.junit.jupiter.api.Assertions.assertEquals;

import io.jcomet.config.AddressMatcher;
import org.junit.jupiter.api.Test;

/** icomet's ip_filter.h order of rules over exact addresses and CIDR ranges, case by case. */
class AdminGuardTest {

    static AdminGuard guard(String allow, String deny) {
        return new AdminGuard(AddressMatcher.parse(allow), AddressMatcher.parse(deny));
    }

    @Test
    void aFullAddressMatchesExactlyAndARangeIsCidr() {
        AdminGuard g = guard("127.0.0.1,192.168.0.0/16", "all");
        assertEquals(true, g.admits("127.0.0.1"));
        assertEquals(false, g.admits("127.0.0.12"), "the raw-prefix bug: 127.0.0.1 must not admit 127.0.0.12");
        assertEquals(false, g.admits("127.0.0.100"));
        assertEquals(true, g.admits("192.168.1.7"));
        assertEquals(false, g.admits("10.0.0.1"));
        assertEquals(true, g.admits("::1"), "IPv6 loopback is 127.0.0.1");
        assertEquals(true, g.admits("::ffff:127.0.0.1"));
    }

    @Test
    void aSpecificDenyBeatsAllowAll() {
        AdminGuard g = guard("all", "10.0.0.5");
        assertEquals(false, g.admits("10.0.0.5"));
        assertEquals(true, g.admits("10.0.0.50"));
        assertEquals(true, g.admits("8.8.8.8"));
    }

    @Test
    void aSpecificAllowBeatsDenyAllAndUnlistedCallersAreRefused() {
        assertEquals(true, guard("10.1.0.0/16", "all").admits("10.1.2.3"));
        assertEquals(false, guard("10.1.0.0/16", "").admits("10.2.0.1"), "listed filter, caller on neither list: refused");
        assertEquals(false, guard("", "10.0.0.0/8").admits("10.9.9.9"));
        assertEquals(false, guard("", "10.0.0.0/8").admits("11.0.0.1"), "icomet refuses whoever no rule admits");
    }

    @Test
    void noRulesAtAllAdmitEveryone() {
        assertEquals(true, guard("", "").admits("203.0.113.9"));
        assertEquals(true, guard("*", "").admits("203.0.113.9"));
    }
}
