package io.jcomet.config;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import jakarta.servlet.ServletContext;

import java.io.IOException;
import java.lang.reflect.Proxy;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Collections;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ConfigSourcesTest {

    @TempDir
    Path dir;

    /** Fake sources, filled per test. */
    final Map<String, String> init = new LinkedHashMap<>();
    final Map<String, String> env = new HashMap<>();
    final Properties sys = new Properties();

    ConfigSources.Loaded load() {
        return ConfigSources.load(init::get, init.keySet(), env, sys);
    }

    ConfigException loadFails() {
        return assertThrows(ConfigException.class, this::load);
    }

    Path write(String name, String text) throws IOException {
        return Files.writeString(dir.resolve(name), text, StandardCharsets.UTF_8);
    }

    Path icometConf(String pollingTimeout) throws IOException {
        return write("icomet.conf", "front:\n\tpolling_timeout: " + pollingTimeout + "\n");
    }

    @Test
    void eachSourceOverridesTheOnesBelowIt() throws IOException {
        init.put("jcomet.polling_timeout", "1");
        Path icomet = icometConf("2");
        Path props = write("jcomet.properties", "polling_timeout=3\n");
        init.put("jcomet.icomet_conf", icomet.toString());
        init.put("jcomet.config", props.toString());
        env.put("JCOMET_POLLING_TIMEOUT", "4");
        sys.setProperty("jcomet.polling_timeout", "5");

        ConfigSources.Loaded all = load();
        assertEquals("5", all.get("polling_timeout"));
        assertEquals("system property jcomet.polling_timeout", all.origin("polling_timeout"));

        sys.remove("jcomet.polling_timeout");
        ConfigSources.Loaded noSys = load();
        assertEquals("4", noSys.get("polling_timeout"));
        assertEquals("environment variable JCOMET_POLLING_TIMEOUT", noSys.origin("polling_timeout"));

        env.remove("JCOMET_POLLING_TIMEOUT");
        ConfigSources.Loaded noEnv = load();
        assertEquals("3", noEnv.get("polling_timeout"));
        assertEquals("jcomet.properties " + props, noEnv.origin("polling_timeout"));

        init.remove("jcomet.config");
        ConfigSources.Loaded noProps = load();
        assertEquals("2", noProps.get("polling_timeout"));
        assertEquals("icomet.conf " + icomet, noProps.origin("polling_timeout"));

        init.remove("jcomet.icomet_conf");
        ConfigSources.Loaded onlyInit = load();
        assertEquals("1", onlyInit.get("polling_timeout"));
        assertEquals("web.xml init-param jcomet.polling_timeout", onlyInit.origin("polling_timeout"));

        init.clear();
        assertEquals(Map.of(), load().values());
    }

    @Test
    void keysFromDifferentSourcesAreAllMergedInPrecedenceOrder() throws IOException {
        init.put("jcomet.max_channels", "10");
        init.put("unrelated.param", "x");
        sys.setProperty("jcomet.icomet_conf", write("icomet.conf",
                "front:\n\tmax_channels: 20\n\tauth: token\n").toString());
        env.put("JCOMET_CONFIG", write("j.properties", "channel_timeout=40\n").toString());
        env.put("JCOMET_CHANNEL_BUFFER_SIZE", "50");
        env.put("PATH", "/usr/bin");
        sys.setProperty("jcomet.max_subscribers_per_channel", "60");
        sys.setProperty("java.version", "17");

        ConfigSources.Loaded l = load();

        assertEquals(List.of("max_channels", "auth", "admin_allow", "admin_deny", "channel_timeout", "channel_buffer_size",
                "max_subscribers_per_channel"), List.copyOf(l.values().keySet()),
                "ordered by the source that set the value, lowest first (icomet.conf in file order); no file keys, nothing unprefixed");
        assertEquals("20", l.get("max_channels"));
        assertEquals("token", l.get("auth"));
        assertEquals("40", l.get("channel_timeout"));
        assertEquals("50", l.get("channel_buffer_size"));
        assertEquals("60", l.get("max_subscribers_per_channel"));
        assertEquals(l.values().keySet(), l.origins().keySet());
    }

    @Test
    void propertiesFileAcceptsBareAndPrefixedKeys() throws IOException {
        Path props = write("jcomet.properties", String.join("\n",
                "# comment",
                "polling_timeout = 30",
                "jcomet.max_channels=1000   ",
                "JCOMET.AUTH: token",
                "admin_allow=127.0.0.1,192.168",
                "front_host=caf\u00e9.example",
                ""));
        sys.setProperty("jcomet.config", props.toString());

        ConfigSources.Loaded l = load();

        assertEquals(Map.of("polling_timeout", "30", "max_channels", "1000", "auth", "token",
                "admin_allow", "127.0.0.1,192.168", "front_host", "caf\u00e9.example"), l.values(),
                "keys lower-cased and unprefixed, values trimmed, file read as UTF-8");
        assertTrue(l.notes().contains("read jcomet.properties " + props
                + " (named by system property jcomet.config)"), l.notes().toString());
    }

    @Test
    void sameKeyBareAndPrefixedInOneFileIsRejected() throws IOException {
        sys.setProperty("jcomet.config", write("jcomet.properties",
                "polling_timeout=30\njcomet.polling_timeout=31\n").toString());

        ConfigException e = loadFails();

        assertEquals("polling_timeout", e.key());
        assertTrue(e.getMessage().contains("set twice"), e.getMessage());
        assertTrue(e.getMessage().contains("as jcomet.polling_timeout=31 and as polling_timeout=30")
                || e.getMessage().contains("as polling_timeout=30 and as jcomet.polling_timeout=31"), "both values: " + e.getMessage());
    }

    @Test
    void aBadKeyOrATwiceSetKeyNamesValueAndSource() {
        env.put("JCOMET_POLLING-TIMEOUT", "5");
        ConfigException bad = loadFails();
        assertTrue(bad.getMessage().contains("environment variable JCOMET_POLLING-TIMEOUT (value 5)"), bad.getMessage());

        env.clear();
        env.put("JCOMET_auth", "token");
        env.put("JCOMET_AUTH", "none");
        ConfigException twice = loadFails();
        assertTrue(twice.getMessage().contains("JCOMET_auth=token") && twice.getMessage().contains("JCOMET_AUTH=none"),
                twice.getMessage());
    }

    @Test
    void fileLocationCannotBeSetInsideThePropertiesFile() throws IOException {
        sys.setProperty("jcomet.config", write("jcomet.properties", "icomet_conf=/etc/icomet.conf\n").toString());

        ConfigException e = loadFails();

        assertEquals("icomet_conf", e.key());
        assertTrue(e.getMessage().contains("system property jcomet.icomet_conf"), e.getMessage());
    }

    @Test
    void missingPropertiesFileNamesThePropertyAndPath() {
        Path missing = dir.resolve("nope/jcomet.properties");
        env.put("JCOMET_CONFIG", missing.toString());

        ConfigException e = loadFails();

        assertEquals("jcomet.config", e.key());
        assertEquals(missing.toString(), e.value());
        assertTrue(e.getMessage().startsWith("invalid configuration: jcomet.config=" + missing + ": file not found"),
                e.getMessage());
        assertTrue(e.getMessage().contains("environment variable JCOMET_CONFIG"), e.getMessage());
    }

    @Test
    void missingIcometConfNamesThePropertyAndPath() {
        Path missing = dir.resolve("icomet.conf");
        init.put("jcomet.icomet_conf", missing.toString());

        ConfigException e = loadFails();

        assertEquals("jcomet.icomet_conf", e.key());
        assertTrue(e.getMessage().contains(missing.toString()), e.getMessage());
        assertTrue(e.getMessage().contains("web.xml init-param jcomet.icomet_conf"), e.getMessage());
    }

    @Test
    void directoryInsteadOfFileIsRejected() {
        sys.setProperty("jcomet.config", dir.toString());

        ConfigException e = loadFails();

        assertTrue(e.getMessage().contains("not a regular file: " + dir), e.getMessage());
    }

    @Test
    void filePathIsTakenFromTheHighestSourceNamingIt() throws IOException {
        Path fromInit = write("init.properties", "auth=init\n");
        Path fromEnv = write("env.properties", "auth=env\n");
        Path fromSys = write("sys.properties", "auth=sys\n");
        init.put("jcomet.config", fromInit.toString());
        env.put("JCOMET_CONFIG", fromEnv.toString());
        sys.setProperty("jcomet.config", fromSys.toString());

        assertEquals("sys", load().get("auth"));
        sys.remove("jcomet.config");
        assertEquals("env", load().get("auth"));
        env.put("JCOMET_CONFIG", "  ");
        assertEquals("init", load().get("auth"), "a blank path counts as not set");
    }

    @Test
    void icometConfPathFromEnvAndItsIgnoredKeysAreNoted() throws IOException {
        Path icomet = write("icomet.conf", "# icomet\nversion: 0.1\nadmin:\n\tlisten: 127.0.0.1:8000\n\tallow: 127.0.0.1\n"
                + "front:\n\tlisten: 0.0.0.0:8100\nlogger:\n\tlevel: debug\n\toutput: stdout\n");
        env.put("JCOMET_ICOMET_CONF", icomet.toString());

        ConfigSources.Loaded l = load();

        assertEquals("8000", l.get("admin_port"));
        assertEquals("127.0.0.1", l.get("admin_allow"));
        assertEquals("0.0.0.0", l.get("front_host"));
        assertFalse(l.values().containsKey("icomet_conf"));
        assertEquals(List.of(
                "read icomet.conf " + icomet + " (named by environment variable JCOMET_ICOMET_CONF)",
                "ignored icomet.conf key version=0.1 (" + icomet + " line 2): no jcomet equivalent",
                "ignored icomet.conf key logger.level=debug (" + icomet + " line 9): no jcomet equivalent",
                "ignored icomet.conf key logger.output=stdout (" + icomet + " line 10): no jcomet equivalent"),
                l.notes());
    }

    @Test
    void malformedIcometConfNamesFileAndLine() throws IOException {
        Path icomet = write("icomet.conf", "front:\n\tlisten\n");
        sys.setProperty("jcomet.icomet_conf", icomet.toString());

        ConfigException e = loadFails();

        assertTrue(e.getMessage().contains("icomet.conf " + icomet + " line 2"), e.getMessage());
    }

    @Test
    void envAndSystemPropertyKeysAreNormalisedAndValuesTrimmed() {
        env.put("JCOMET_MAX_SUBSCRIBERS_PER_CHANNEL", " 16 ");
        env.put("jcomet_lower", "not ours: env names are case-sensitive");
        env.put("XJCOMET_OTHER", "not ours");
        sys.setProperty("jcomet.Channel_Timeout", "\t7\n");
        sys.setProperty("jcomet.empty", "");
        init.put("JCOMET.AUTH", " token ");

        ConfigSources.Loaded l = load();

        assertEquals(Map.of("max_subscribers_per_channel", "16", "channel_timeout", "7", "empty", "",
                "auth", "token"), l.values());
        assertEquals("system property jcomet.Channel_Timeout", l.origin("channel_timeout"));
    }

    @Test
    void theJettyBaseWarPropertyIsNotASetting() {
        // jetty-base's context XML deploys -Djcomet.war; it must not stop jcomet as an unknown key
        sys.setProperty("jcomet.war", "/opt/jcomet/jcomet.war");
        sys.setProperty("jcomet.polling_timeout", "20");
        assertEquals(Map.of("polling_timeout", "20"), load().values());

        // only that system property: anywhere else "war" is a key like any other (and unknown later)
        env.put("JCOMET_WAR", "/x.war");
        assertEquals("/x.war", load().values().get("war"));
    }

    @Test
    void theLaunchersWebappPropertyIsNotASetting() {
        // EmbeddedJcomet serves -Djcomet.webapp; with it set, jcomet refused to start ("bad key")
        sys.setProperty("jcomet.webapp", "/srv/webapp");
        assertEquals(Map.of(), load().values());
    }

    @Test
    void keyThatIsNotSnakeCaseIsRejectedNamingItsSource() {
        sys.setProperty("jcomet.admin.port", "8000");
        ConfigException e = loadFails();
        assertTrue(e.getMessage().contains("system property jcomet.admin.port"), e.getMessage());

        sys.clear();
        env.put("JCOMET_", "x");
        ConfigException empty = loadFails();
        assertTrue(empty.getMessage().contains("environment variable JCOMET_"), empty.getMessage());
    }

    @Test
    void sameKeyTwiceInOneSourceIsRejected() {
        sys.setProperty("jcomet.auth", "none");
        sys.setProperty("jcomet.AUTH", "token");

        ConfigException e = loadFails();

        assertEquals("auth", e.key());
        assertTrue(e.getMessage().contains("jcomet.AUTH") && e.getMessage().contains("jcomet.auth"),
                e.getMessage());
    }

    @Test
    void fileLocationKeysAreNotInTheResult() throws IOException {
        sys.setProperty("jcomet.config", write("a.properties", "auth=token\n").toString());
        env.put("JCOMET_ICOMET_CONF", icometConf("9").toString());
        init.put("jcomet.config", "/never/read/because/overridden");

        ConfigSources.Loaded l = load();

        // an icomet.conf always decides the admin filter (none listed: icomet admits everyone)
        assertEquals(Map.of("auth", "token", "polling_timeout", "9", "admin_allow", "", "admin_deny", ""), l.values());
    }

    @Test
    void invalidNamesKeyValueAndOrigin() {
        env.put("JCOMET_POLLING_TIMEOUT", "abc");

        ConfigException e = load().invalid("polling_timeout", "not an integer");

        assertEquals("invalid configuration: polling_timeout=abc: not an integer "
                + "(from environment variable JCOMET_POLLING_TIMEOUT)", e.getMessage());
        assertEquals("polling_timeout", e.key());
        assertEquals("abc", e.value());
        assertEquals("invalid configuration: front_port: not an integer",
                load().invalid("front_port", "not an integer").getMessage(), "unset key: no value, no origin");
    }

    @Test
    void configErrorsFromSourcesNameKeyValueAndSourceOnce() {
        env.put("JCOMET_CHROMEDRIVER", "/usr/bin/chromedriver");
        ConfigException unknown = assertThrows(ConfigException.class, () -> JcometConfig.from(load()));
        assertTrue(unknown.getMessage().startsWith("unknown configuration key(s): chromedriver=/usr/bin/chromedriver "
                + "(from environment variable JCOMET_CHROMEDRIVER); known keys: ["), unknown.getMessage());

        env.clear();
        sys.setProperty("jcomet.polling_timeout", "abc");
        ConfigException invalid = assertThrows(ConfigException.class, () -> JcometConfig.from(load()));
        assertEquals("invalid configuration: polling_timeout=abc: not an integer "
                + "(from system property jcomet.polling_timeout)", invalid.getMessage(), "said once, with its source");
        assertEquals("abc", invalid.value());
    }

    @Test
    void configExceptionMessages() {
        ConfigException e = new ConfigException("polling_timeout", "abc", "not an integer");
        assertEquals("invalid configuration: polling_timeout=abc: not an integer", e.getMessage());
        assertEquals("polling_timeout", e.key());
        assertEquals("abc", e.value());

        assertEquals("invalid configuration: admin_port: required",
                new ConfigException("admin_port", null, "required").getMessage());

        ConfigException plain = new ConfigException("something broke");
        assertEquals("something broke", plain.getMessage());
        assertNull(plain.key());
        assertNull(plain.value());
        assertTrue(RuntimeException.class.isInstance(plain));
    }

    @Test
    void loadFromServletContextReadsItsInitParameters() {
        Map<String, String> params = Map.of("jcomet.config_sources_test_only_key", " 42 ", "other", "x");
        ServletContext ctx = (ServletContext) Proxy.newProxyInstance(getClass().getClassLoader(),
                new Class<?>[] {ServletContext.class}, (proxy, method, args) -> switch (method.getName()) {
                    case "getInitParameter" -> params.get((String) args[0]);
                    case "getInitParameterNames" -> Collections.enumeration(params.keySet());
                    default -> throw new UnsupportedOperationException(method.getName());
                });

        ConfigSources.Loaded l = ConfigSources.load(ctx);

        assertEquals("42", l.get("config_sources_test_only_key"));
        assertEquals("web.xml init-param jcomet.config_sources_test_only_key",
                l.origin("config_sources_test_only_key"));
        assertFalse(l.values().containsKey("other"));
    }

    @Test
    void resultIsImmutable() {
        env.put("JCOMET_AUTH", "token");
        ConfigSources.Loaded l = load();
        assertThrows(UnsupportedOperationException.class, () -> l.values().put("auth", "none"));
        assertThrows(UnsupportedOperationException.class, () -> l.origins().clear());
        assertThrows(UnsupportedOperationException.class, () -> l.notes().add("x"));
    }
}
