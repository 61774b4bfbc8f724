package io.jcomet.config;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.jcomet.fidelity.Anchors;
import java.io.StringReader;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** icomet.conf read as icomet reads it: its own files from its source tarball, and each rule of its loader. */
class IcometConfReaderTest {

    static IcometConfReader.Result parse(String text) {
        return IcometConfReader.parse(new StringReader(text));
    }

    static List<String> ignoredKeys(IcometConfReader.Result r) {
        return r.ignored().stream().map(IcometConfReader.Ignored::key).toList();
    }

    @Test
    void icometsOwnIcometConfUnchanged() throws Exception {
        Path conf = Anchors.sourceTree().resolve("icomet.conf");
        IcometConfReader.Result r = IcometConfReader.parse(conf);
        assertEquals(Map.ofEntries(
                Map.entry("admin_allow", "127.0.0.1,192.168.0.0/16"), Map.entry("admin_deny", "all"),
                Map.entry("admin_host", "0.0.0.0"), Map.entry("admin_port", "8000"),
                Map.entry("front_host", "0.0.0.0"), Map.entry("front_port", "8100"),
                Map.entry("auth", "none"), Map.entry("max_channels", "100000"),
                Map.entry("max_subscribers_per_channel", "16"), Map.entry("channel_buffer_size", "10"),
                Map.entry("channel_timeout", "30"), Map.entry("polling_timeout", "30")), r.values());
        assertEquals(List.of("pidfile", "logger.level", "logger.output", "logger.rotate.size"), ignoredKeys(r),
                "the keys jcomet has no use for, each named once");
        // and the result is a valid jcomet configuration
        JcometConfig c = JcometConfig.from(r.values());
        assertEquals(100000, c.maxChannels());
        assertEquals(List.of("127.0.0.1", "192.168.0.0/16"), c.adminAllow().entries());
        assertTrue(c.adminAllow().matches("192.168.4.5") && !c.adminAllow().matches("127.0.0.15"));
    }

    @Test
    void icometsOwnTestConfUnchanged() throws Exception {
        Path conf = Anchors.sourceTree().resolve("test_icomet.conf");
        IcometConfReader.Result r = IcometConfReader.parse(conf);
        assertEquals("10", r.values().get("polling_timeout"));
        assertEquals("", r.values().get("admin_allow"), "no allow lines");
        assertEquals("", r.values().get("admin_deny"), "no deny lines: icomet admits every caller, and so does jcomet");
        JcometConfig c = JcometConfig.from(r.values());
        assertTrue(c.adminAllow().isEmpty() && c.adminDeny().isEmpty());
        assertEquals(List.of("pidfile", "logger.level", "logger.output", "logger.rotate.size"), ignoredKeys(r));
    }

    @Test
    void icometPrefixesBecomeTheCidrRangesTheyCover() {
        assertEquals(List.of("192.168.0.0/16"), IcometConfReader.icometPrefixAsCidr("192.168"));
        assertEquals(List.of("10.0.0.0/8"), IcometConfReader.icometPrefixAsCidr("10."));
        assertEquals(List.of("127.0.0.1"), IcometConfReader.icometPrefixAsCidr("127.0.0.1"), "three dots: an exact address");
        assertEquals(List.of("192.16.0.0/16", "192.160.0.0/16", "192.161.0.0/16", "192.162.0.0/16", "192.163.0.0/16",
                "192.164.0.0/16", "192.165.0.0/16", "192.166.0.0/16", "192.167.0.0/16", "192.168.0.0/16", "192.169.0.0/16"),
                IcometConfReader.icometPrefixAsCidr("192.16"), "a string prefix, as icomet compares it");
        assertEquals(List.of("all"), IcometConfReader.icometPrefixAsCidr("all"));
    }

    @Test
    void authTokenIsApplied() {
        // the security bug this reader once had: auth silently dropped
        IcometConfReader.Result r = parse("front:\n\tauth: token\n");
        assertEquals("token", r.values().get("auth"));
        assertEquals(JcometConfig.Auth.TOKEN, JcometConfig.from(r.values()).auth());
    }

    @Test
    void equalsSeparatorCommentsAndLastOccurrenceWins() {
        IcometConfReader.Result r = parse("# c\npidfile = ./x.pid\nfront:\n\t# a comment\n\tpolling_timeout = 5\n\tpolling_timeout: 7\n#x\n\tauth:token\n");
        assertEquals("7", r.values().get("polling_timeout"), "icomet looks names up from the end");
        assertEquals("token", r.values().get("auth"), "a comment line does not end the section");
        assertEquals(List.of("pidfile", "front.polling_timeout"), ignoredKeys(r));
        assertTrue(r.ignored().get(1).reason().contains("last one (line 6)"), r.ignored().get(1).reason());
    }

    @Test
    void lastAdminSectionDecidesTheFilter() {
        IcometConfReader.Result r = parse("admin:\n\tallow: 10.0.0.1\nadmin:\n\tallow: 127.0.0.1\n\tallow: 192.168\n\tdeny: all\n");
        assertEquals("127.0.0.1,192.168.0.0/16", r.values().get("admin_allow"));
        assertEquals("all", r.values().get("admin_deny"));
    }

    @Test
    void channelTimeoutOfZeroIsHalfThePollingTimeout() {
        assertEquals("15", parse("front:\n\tchannel_timeout: 0\n\tpolling_timeout: 30\n").values().get("channel_timeout"));
        assertEquals("12", parse("front:\n\tchannel_timeout: 12\n\tpolling_timeout: 30\n").values().get("channel_timeout"));
    }

    @Test
    void linesIcometRefusesAreRefusedWithTheirNumber() {
        ConfigException spaces = assertThrows(ConfigException.class, () -> parse("front:\n    auth: none\n"));
        assertTrue(spaces.getMessage().contains("line 2") && spaces.getMessage().contains("tabs"), spaces.getMessage());
        ConfigException deep = assertThrows(ConfigException.class, () -> parse("front:\n\t\tauth: none\n"));
        assertTrue(deep.getMessage().contains("line 2"), deep.getMessage());
        ConfigException noSep = assertThrows(ConfigException.class, () -> parse("front:\n\tauth none\n"));
        assertTrue(noSep.getMessage().contains("line 2"), noSep.getMessage());
        ConfigException listen = assertThrows(ConfigException.class, () -> parse("front:\n\tlisten: 8100\n"));
        assertEquals("front.listen", listen.key());
    }

    @Test
    void unknownKeysAreListedNotApplied() {
        IcometConfReader.Result r = parse("front:\n\tsub_timeout: 5\nserver:\n\tfront:\n\t\tauth: token\n");
        assertEquals(List.of("front.sub_timeout", "server.front.auth"), ignoredKeys(r));
        assertEquals(null, r.values().get("auth"), "a server: section is not icomet's format: nothing from it applies");
    }
}
