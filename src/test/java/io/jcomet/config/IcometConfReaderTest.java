package io.jcomet.config;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.io.Reader;
import java.io.StringReader;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class IcometConfReaderTest {

    /** The sample from the task brief, verbatim (tab-indented). */
    static final String SAMPLE = String.join("\n",
            "# icomet config",
            "version: 0.1",
            "server:",
            "\t# allow/deny lists are ip prefixes",
            "\tadmin:",
            "\t\tlisten: 127.0.0.1:8000",
            "\t\tallow: 127.0.0.1",
            "\t\tdeny: all",
            "\tfront:",
            "\t\tlisten: 0.0.0.0:8100",
            "\t\tauth: none",
            "\t\tmax_channels: 1000000",
            "\t\tmax_subscribers_per_channel: 16",
            "\t\tchannel_buffer_size: 10",
            "\t\tchannel_timeout: 30",
            "\t\tpolling_timeout: 30",
            "logger:",
            "\tlevel: debug",
            "\toutput: stdout",
            "");

    static IcometConfReader.Result parse(String text) {
        return IcometConfReader.parse(new StringReader(text));
    }

    static ConfigException malformed(String text) {
        return assertThrows(ConfigException.class, () -> parse(text));
    }

    @Test
    void sampleIsMappedToJcometKeys() {
        Map<String, String> expected = new LinkedHashMap<>();
        expected.put("admin_host", "127.0.0.1");
        expected.put("admin_port", "8000");
        expected.put("admin_allow", "127.0.0.1");
        expected.put("admin_deny", "all");
        expected.put("front_host", "0.0.0.0");
        expected.put("front_port", "8100");
        expected.put("auth", "none");
        expected.put("max_channels", "1000000");
        expected.put("max_subscribers_per_channel", "16");
        expected.put("channel_buffer_size", "10");
        expected.put("channel_timeout", "30");
        expected.put("polling_timeout", "30");

        Map<String, String> values = IcometConfReader.read(new StringReader(SAMPLE));

        assertEquals(expected, values);
        assertEquals(List.copyOf(expected.keySet()), List.copyOf(values.keySet()), "file order kept");
    }

    @Test
    void unmappedKeysAreReportedWithLineNumbers() {
        List<IcometConfReader.Ignored> ignored = parse(SAMPLE).ignored();

        assertEquals(List.of(
                new IcometConfReader.Ignored("version", "0.1", 2, "no jcomet equivalent"),
                new IcometConfReader.Ignored("logger.level", "debug", 18, "no jcomet equivalent"),
                new IcometConfReader.Ignored("logger.output", "stdout", 19, "no jcomet equivalent")),
                ignored, "section headers (server:, admin:, front:, logger:) are not reported");
        assertEquals("logger.level=debug (line 18): no jcomet equivalent", ignored.get(1).toString());
    }

    @Test
    void severalAllowAndDenyLinesAreCollectedInOrder() {
        Map<String, String> v = IcometConfReader.read(new StringReader(String.join("\n",
                "server:",
                "\tadmin:",
                "\t\tallow: 127.0.0.1",
                "\t\tdeny: 10.0.0.5",
                "\t\t# a comment between the lines",
                "\t\tallow: 192.168",
                "",
                "\t\tallow: 10.",
                "\t\tdeny: all")));

        assertEquals("127.0.0.1,192.168,10.", v.get("admin_allow"));
        assertEquals("10.0.0.5,all", v.get("admin_deny"));
    }

    @Test
    void commentsAndBlankLinesAnywhereAreSkipped() {
        IcometConfReader.Result r = parse(String.join("\n",
                "",
                "   ",
                "# top comment",
                "server:",
                "\t\t\t# a comment deeper than anything is still a comment",
                "\t",
                "\tfront:",
                "# a comment at column 0 does not close the section",
                "\t\tpolling_timeout: 7",
                "\t\t\t",
                "\t\tchannel_timeout: 9   ",
                ""));

        assertEquals(Map.of("polling_timeout", "7", "channel_timeout", "9"), r.values());
        assertEquals(List.of(), r.ignored());
    }

    @Test
    void fourSpacesAreOneLevelLikeATab() {
        String spaced = SAMPLE.replace("\t", "    ");
        assertEquals(IcometConfReader.read(new StringReader(SAMPLE)),
                IcometConfReader.read(new StringReader(spaced)));
    }

    @Test
    void realIcometDefaultConfWithEqualsSeparatorAndFrontExtras() {
        // icomet's shipped icomet.conf uses "key = value" at the top and has keys jcomet does not use
        IcometConfReader.Result r = parse(String.join("\r\n",
                "# icomet config file",
                "# MUST indent by TAB!",
                "",
                "# relative to path of this file, must exist",
                "work_dir = ./var",
                "pidfile = ./var/icomet.pid",
                "",
                "server:",
                "\t# uncomment the following line to enable Basic Auth",
                "\t#auth: user:pass",
                "\tadmin:",
                "\t\tlisten: 127.0.0.1:8000",
                "\t\t# allow all ip",
                "\t\t#allow: all",
                "\t\tallow: 127.0.0.1",
                "\tfront:",
                "\t\tlisten: 127.0.0.1:8100",
                "\t\tmax_channels: 1000000",
                "\t\tmax_subscribers_per_channel: 1000",
                "\t\tchannel_buffer_size: 200",
                "\t\tchannel_timeout: 60",
                "\t\tpolling_timeout: 30",
                "\t\tsub_timeout: 3",
                "\t\t# none | token",
                "\t\tauth: token",
                "\t\tallow: all",
                "",
                "logger:",
                "\tlevel: debug",
                "\toutput: stdout",
                ""));

        assertEquals("127.0.0.1", r.values().get("admin_allow"));
        assertEquals("8100", r.values().get("front_port"));
        assertEquals("token", r.values().get("auth"));
        assertEquals("1000", r.values().get("max_subscribers_per_channel"));
        assertEquals("200", r.values().get("channel_buffer_size"));
        assertEquals(List.of("work_dir", "pidfile", "server.front.sub_timeout", "server.front.allow",
                        "logger.level", "logger.output"),
                r.ignored().stream().map(IcometConfReader.Ignored::key).toList());
        assertEquals("./var/icomet.pid", r.ignored().get(1).value());
        assertEquals(23, r.ignored().get(2).line(), "CRLF line endings still count lines right");
    }

    @Test
    void listenAddressesAreSplit() {
        Map<String, String> v = IcometConfReader.read(new StringReader(String.join("\n",
                "server:",
                "\tadmin:",
                "\t\tlisten: [::1]:8000",
                "\tfront:",
                "\t\tlisten: :8100")));

        assertEquals("::1", v.get("admin_host"));
        assertEquals("8000", v.get("admin_port"));
        assertNull(v.get("front_host"), "no host given: JcometConfig's default applies");
        assertEquals("8100", v.get("front_port"));
    }

    @Test
    void badListenAddressNamesKeyValueAndLine() {
        for (String bad : List.of("127.0.0.1", "127.0.0.1:", "127.0.0.1:http", "127.0.0.1:70000",
                "[::1]8000", "[::1")) {
            ConfigException e = assertThrows(ConfigException.class, () -> parse(
                    "server:\n\tfront:\n\t\tlisten: " + bad + "\n"), bad);
            assertEquals("server.front.listen", e.key());
            assertEquals(bad, e.value());
            assertTrue(e.getMessage().startsWith("invalid configuration: server.front.listen=" + bad + ": "),
                    e.getMessage());
            assertTrue(e.getMessage().contains("line 3"), e.getMessage());
        }
    }

    @Test
    void repeatedSingleValuedKeyKeepsTheFirstLikeIcometAndReportsTheRest() {
        IcometConfReader.Result r = parse(String.join("\n",
                "server:",
                "\tfront:",
                "\t\tpolling_timeout: 30",
                "\t\tlisten: 0.0.0.0:8100",
                "\t\tpolling_timeout: 5",
                "\t\tlisten: 0.0.0.0:8101"));

        assertEquals("30", r.values().get("polling_timeout"));
        assertEquals("8100", r.values().get("front_port"));
        assertEquals(List.of(
                new IcometConfReader.Ignored("server.front.polling_timeout", "5", 5,
                        "repeated; the first one (line 3) is used"),
                new IcometConfReader.Ignored("server.front.listen", "0.0.0.0:8101", 6,
                        "repeated; the first one (line 4) is used")), r.ignored());
    }

    @Test
    void sectionsCanBeReopenedAndDedentedSeveralLevels() {
        Map<String, String> v = IcometConfReader.read(new StringReader(String.join("\n",
                "server:",
                "\tfront:",
                "\t\tpolling_timeout: 30",
                "logger:",
                "\tlevel: info",
                "server:",
                "\tadmin:",
                "\t\tallow: 127.0.0.1",
                "\tfront:",
                "\t\tchannel_timeout: 12")));

        assertEquals(Map.of("polling_timeout", "30", "admin_allow", "127.0.0.1", "channel_timeout", "12"), v);
    }

    @Test
    void keysOutsideTheirSectionAreNotMapped() {
        IcometConfReader.Result r = parse(String.join("\n",
                "polling_timeout: 30",
                "front:",
                "\tpolling_timeout: 40",
                "server:",
                "\tpolling_timeout: 50",
                "\tadmin:",
                "\t\tpolling_timeout: 60"));

        assertEquals(Map.of(), r.values());
        assertEquals(List.of("polling_timeout", "front.polling_timeout", "server.polling_timeout",
                        "server.admin.polling_timeout"),
                r.ignored().stream().map(IcometConfReader.Ignored::key).toList());
    }

    @Test
    void valuesAreTrimmedAndMayContainSeparators() {
        IcometConfReader.Result r = parse("server:\n\tauth: user:pass=x  \n\tfront:\n\t\tauth:   token\t\n");

        assertEquals(Map.of("auth", "token"), r.values());
        assertEquals("user:pass=x", r.ignored().get(0).value());
    }

    @Test
    void emptyValueIsPassedOnForJcometConfigToReject() {
        Map<String, String> v = IcometConfReader.read(new StringReader(
                "server:\n\tfront:\n\t\tpolling_timeout:\n\tadmin:\n\t\tallow:\n"));

        assertEquals(Map.of("polling_timeout", ""), v, "an empty allow line adds no prefix");
    }

    @Test
    void byteOrderMarkIsSkipped() {
        assertEquals(Map.of("polling_timeout", "3"), IcometConfReader.read(new StringReader(
                "\uFEFFserver:\n\tfront:\n\t\tpolling_timeout: 3\n")));
    }

    @Test
    void lineWithoutSeparatorIsMalformedWithLineNumberAndText() {
        ConfigException e = malformed("# c\nserver:\n\tfront:\n\t\tpolling_timeout 30\n");

        assertEquals("invalid configuration: icomet.conf line 4: expected 'key: value' or 'section:': "
                + "\"\\t\\tpolling_timeout 30\"", e.getMessage());
        assertNull(e.key());
    }

    @Test
    void indentationJumpOfTwoLevelsIsMalformed() {
        ConfigException e = malformed("server:\n\t\t\tpolling_timeout: 30\n");

        assertTrue(e.getMessage().contains("icomet.conf line 2"), e.getMessage());
        assertTrue(e.getMessage().contains("3 levels deeper"), e.getMessage());
        assertTrue(e.getMessage().contains("polling_timeout: 30"), e.getMessage());

        ConfigException twoLevels = malformed("server:\n\tfront:\n\t\t\tpolling_timeout: 30\n");
        assertTrue(twoLevels.getMessage().contains("line 3: indented 2 levels deeper"), twoLevels.getMessage());
    }

    @Test
    void firstSettingIndentedIsMalformed() {
        ConfigException e = malformed("# comment\n\n\tpolling_timeout: 30\n");
        assertTrue(e.getMessage().contains("line 3: indented, but there is no section above it"), e.getMessage());
    }

    @Test
    void oddSpaceIndentationIsMalformed() {
        ConfigException e = malformed("server:\n  front:\n");
        assertTrue(e.getMessage().contains("line 2: indented by 2 spaces"), e.getMessage());

        ConfigException mixed = malformed("server:\n  \tfront:\n");
        assertTrue(mixed.getMessage().contains("line 2"), mixed.getMessage());
    }

    @Test
    void missingKeyIsMalformed() {
        ConfigException e = malformed("server:\n\t: 30\n");
        assertTrue(e.getMessage().contains("line 2: missing key"), e.getMessage());
    }

    @Test
    void readFailureIsAConfigException() {
        Reader failing = new Reader() {
            @Override
            public int read(char[] buf, int off, int len) throws IOException {
                throw new IOException("disk on fire");
            }

            @Override
            public void close() {
            }
        };
        ConfigException e = assertThrows(ConfigException.class, () -> IcometConfReader.read(failing));
        assertTrue(e.getMessage().contains("disk on fire"), e.getMessage());
    }

    @Test
    void parsePathNamesTheFileInErrors(@TempDir Path dir) throws IOException {
        Path f = dir.resolve("icomet.conf");
        Files.writeString(f, SAMPLE);
        assertEquals("30", IcometConfReader.parse(f).values().get("polling_timeout"));

        Files.writeString(f, "server:\n\tbroken line\n");
        ConfigException e = assertThrows(ConfigException.class, () -> IcometConfReader.parse(f));
        assertTrue(e.getMessage().contains("icomet.conf " + f + " line 2"), e.getMessage());

        Path missing = dir.resolve("nope.conf");
        ConfigException m = assertThrows(ConfigException.class, () -> IcometConfReader.parse(missing));
        assertTrue(m.getMessage().contains(missing.toString()), m.getMessage());
    }
}
