package io.jcomet.config;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.net.InetAddress;
import org.junit.jupiter.api.Test;

/** The one address rule of trusted_proxies, client_limits_exempt, admin_allow and admin_deny. */
class AddressMatcherTest {

    @Test
    void aFullAddressMatchesOnlyItself() {
        AddressMatcher m = AddressMatcher.parse("127.0.0.1");
        assertTrue(m.matches("127.0.0.1"));
        assertFalse(m.matches("127.0.0.15"), "no string prefix: 127.0.0.1 is not 127.0.0.15");
        assertFalse(m.matches("127.0.0.123"));
        assertFalse(m.matches("127.0.0.10"));
        assertTrue(m.matches("::1"), "IPv6 loopback is 127.0.0.1");
        assertTrue(m.matches("::ffff:127.0.0.1"), "IPv4-mapped");
        assertTrue(m.matches("[::1]"));
        assertFalse(m.matches("localhost"), "names are never resolved");
        assertFalse(m.matches(""));
        assertFalse(m.matches((String) null));
    }

    @Test
    void rangesAreCidrForIpv4AndIpv6() throws Exception {
        AddressMatcher m = AddressMatcher.parse("10.0.0.0/8, 192.168.1.0/24 fd00::/8");
        assertTrue(m.matches("10.255.3.4"));
        assertFalse(m.matches("11.0.0.1"));
        assertTrue(m.matches("192.168.1.200"));
        assertFalse(m.matches("192.168.2.1"));
        assertTrue(m.matches("fd12:3456::1"));
        assertFalse(m.matches("fe80::1"));
        assertTrue(m.matches(InetAddress.getByName("10.1.2.3")));
        assertTrue(AddressMatcher.parse("2001:db8::7").matches("2001:0db8:0:0:0:0:0:7"), "IPv6 written either way");
        assertFalse(AddressMatcher.parse("2001:db8::7").matches("2001:db8::70"));
        assertTrue(AddressMatcher.parse("10.1.2.3/8").matches("10.9.9.9"), "host bits of the network are ignored");
        assertTrue(AddressMatcher.parse("0.0.0.0/0").matches("203.0.113.9"));
        assertFalse(AddressMatcher.parse("0.0.0.0/0").matches("2001:db8::1"), "an IPv4 range holds no IPv6 address");
    }

    @Test
    void allMatchesEveryoneAndEmptyNoOne() {
        assertTrue(AddressMatcher.parse("all").matches("203.0.113.9"));
        assertTrue(AddressMatcher.parse("*").matchesAll());
        assertFalse(AddressMatcher.parse("all").matchesListed("203.0.113.9"), "all is not a listed address");
        assertTrue(AddressMatcher.parse("").isEmpty());
        assertFalse(AddressMatcher.parse("").matches("127.0.0.1"));
    }

    @Test
    void prefixesNamesAndBadRangesAreRefused() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> AddressMatcher.parse("192.168"));
        assertTrue(e.getMessage().contains("192.168.0.0/16"), e.getMessage());
        assertThrows(IllegalArgumentException.class, () -> AddressMatcher.parse("10."));
        assertThrows(IllegalArgumentException.class, () -> AddressMatcher.parse("localhost"));
        assertThrows(IllegalArgumentException.class, () -> AddressMatcher.parse("10.0.0.0/33"));
        assertThrows(IllegalArgumentException.class, () -> AddressMatcher.parse("10.0.0.0/x"));
        assertThrows(IllegalArgumentException.class, () -> AddressMatcher.parse("256.0.0.1"));
        assertThrows(IllegalArgumentException.class, () -> AddressMatcher.parse("fd00::/129"));
    }
}
