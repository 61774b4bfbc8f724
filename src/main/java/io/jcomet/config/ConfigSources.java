package io.jcomet.config;

import jakarta.servlet.ServletContext;

import java.io.IOException;
import java.io.Reader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.InvalidPathException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Properties;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.function.Function;
import java.util.regex.Pattern;

/**
 * Collects jcomet's raw settings (key → string value) from every configuration source and merges
 * them; {@code JcometConfig} then checks keys and types and supplies the built-in defaults.
 *
 * <p>Precedence, lowest to highest (a later source overrides an earlier one, key by key):
 * <ol>
 *   <li>servlet context init parameters named {@code jcomet.<key>} (web.xml: the WAR's packaged
 *       defaults);</li>
 *   <li>an icomet.conf file (see {@link IcometConfReader}), if a path is given by system property
 *       {@code jcomet.icomet_conf}, else env {@code JCOMET_ICOMET_CONF}, else init parameter
 *       {@code jcomet.icomet_conf};</li>
 *   <li>a jcomet.properties file, if a path is given by system property {@code jcomet.config}, else
 *       env {@code JCOMET_CONFIG}, else init parameter {@code jcomet.config}; keys may be written
 *       bare ({@code polling_timeout=30}) or prefixed ({@code jcomet.polling_timeout=30});</li>
 *   <li>environment variables {@code JCOMET_<KEY>} ({@code JCOMET_POLLING_TIMEOUT=30});</li>
 *   <li>system properties {@code jcomet.<key>} ({@code -Djcomet.polling_timeout=30}), highest.</li>
 * </ol>
 *
 * <p>Keys are lower-case snake_case ({@code max_channels}): a leading {@code jcomet.} is stripped
 * and the key lower-cased (so {@code JCOMET_MAX_CHANNELS} becomes {@code max_channels}); a key that
 * is then not {@code [a-z][a-z0-9_]*} is a {@link ConfigException} naming where it was written.
 * Values are trimmed and otherwise passed on unchanged (an empty value stays empty). The file
 * location keys {@code config} and {@code icomet_conf} are consumed here and never appear in the
 * result; setting them inside jcomet.properties is an error (they would come too late). A named
 * file that is missing or unreadable is a {@link ConfigException} naming the property and the path.
 * The system properties {@code jcomet.war} (the WAR the Jetty base deploys) and {@code jcomet.webapp}
 * (the embedded launcher's web app directory) are not settings and are skipped; everything else in
 * the namespace is jcomet's, so tools and tests keep their own hints out of it.
 * Relative paths are resolved against the process working directory.
 *
 * <p>Threads: stateless; {@code load} runs once on the thread that starts jcomet (the container's
 * deployment thread in {@code contextInitialized}, or the embedded launcher's main thread). It reads
 * a snapshot of the given environment and properties, and its result is immutable.
 */
public final class ConfigSources {

    /** Prefix of init parameters, system properties and prefixed keys in jcomet.properties. */
    public static final String PREFIX = "jcomet.";
    /** Prefix of environment variables. */
    public static final String ENV_PREFIX = "JCOMET_";
    /** Key whose value is the path of a jcomet.properties file. */
    public static final String CONFIG_KEY = "config";
    /** Key whose value is the path of an icomet.conf file to migrate from. */
    public static final String ICOMET_CONF_KEY = "icomet_conf";
    /**
     * System property {@code jcomet.war}: the WAR that jetty-base's context XML deploys. The
     * container reads it, not jcomet, so it is skipped here instead of refused as unknown.
     */
    public static final String WAR_KEY = "war";
    /**
     * System property {@code jcomet.webapp}: the web app directory the embedded launcher serves;
     * the launcher's, not a setting, so skipped like {@link #WAR_KEY}.
     */
    public static final String WEBAPP_KEY = "webapp";

    public static final String ORIGIN_INIT_PARAM = "web.xml init-param";
    public static final String ORIGIN_ICOMET_CONF = "icomet.conf";
    public static final String ORIGIN_PROPERTIES = "jcomet.properties";
    public static final String ORIGIN_ENV = "environment variable";
    public static final String ORIGIN_SYSTEM_PROPERTY = "system property";

    private static final Pattern KEY = Pattern.compile("[a-z][a-z0-9_]*");

    private ConfigSources() {
    }

    /**
     * The merged settings.
     *
     * @param values  key → trimmed raw value, ordered by the source that set the winning value
     *                (lowest first), then by key (icomet.conf keys in file order)
     * @param origins key → where the winning value came from, e.g. {@code web.xml init-param
     *                jcomet.auth}, {@code icomet.conf /etc/icomet.conf line 12}, {@code
     *                jcomet.properties /etc/jcomet.properties}, {@code environment variable
     *                JCOMET_AUTH}, {@code system property jcomet.auth}; each starts with one of
     *                the {@code ORIGIN_*} constants
     * @param notes   things worth logging at startup that are not errors, e.g. {@code ignored
     *                icomet.conf key logger.level=debug (line 17): no jcomet equivalent}, and which
     *                files were read
     */
    public record Loaded(Map<String, String> values, Map<String, String> origins, List<String> notes) {
        public Loaded {
            values = Collections.unmodifiableMap(new LinkedHashMap<>(values));
            origins = Collections.unmodifiableMap(new LinkedHashMap<>(origins));
            notes = List.copyOf(notes);
        }

        /** The raw value, or null when no source set the key. */
        public String get(String key) {
            return values.get(key);
        }

        /** Where the key's value came from, or null when no source set it. */
        public String origin(String key) {
            return origins.get(key);
        }

        /**
         * An exception for a bad value, naming the key, the value and where it was set, e.g.
         * {@code invalid configuration: polling_timeout=abc: not an integer (from system property
         * jcomet.polling_timeout)}.
         */
        public ConfigException invalid(String key, String problem) {
            String origin = origins.get(key);
            return new ConfigException(key, values.get(key),
                    origin == null ? problem : problem + " (from " + origin + ")");
        }
    }

    /** Loads from a servlet context's init parameters, {@link System#getenv()} and {@link System#getProperties()}. */
    public static Loaded load(ServletContext ctx) {
        return load(ctx::getInitParameter, Collections.list(ctx.getInitParameterNames()),
                System.getenv(), System.getProperties());
    }

    /**
     * Loads and merges every source; see the class comment for precedence and key rules.
     *
     * @param initParams       init parameter name → value (null when absent)
     * @param initParamNames   all init parameter names; only {@code jcomet.*} ones are used
     * @param env              environment; only {@code JCOMET_*} variables are used
     * @param systemProperties only {@code jcomet.*} properties are used
     * @throws ConfigException for a malformed key, a missing/unreadable/malformed file
     */
    public static Loaded load(Function<String, String> initParams, Iterable<String> initParamNames,
                              Map<String, String> env, Properties systemProperties) {
        // Snapshot each source as (normalised key → value, origin) before merging.
        Map<String, String[]> fromInit = new TreeMap<>();
        for (String name : initParamNames) {
            if (name != null && name.toLowerCase(Locale.ROOT).startsWith(PREFIX)) {
                String value = initParams.apply(name);
                if (value != null) {
                    put(fromInit, key(name.substring(PREFIX.length()), value, ORIGIN_INIT_PARAM + " " + name),
                            value, ORIGIN_INIT_PARAM + " " + name);
                }
            }
        }
        Map<String, String[]> fromEnv = new TreeMap<>();
        for (Map.Entry<String, String> e : env.entrySet()) {
            String name = e.getKey();
            if (name != null && e.getValue() != null && name.startsWith(ENV_PREFIX)) {
                put(fromEnv, key(name.substring(ENV_PREFIX.length()), e.getValue(), ORIGIN_ENV + " " + name),
                        e.getValue(), ORIGIN_ENV + " " + name);
            }
        }
        Map<String, String[]> fromSys = new TreeMap<>();
        for (String name : systemProperties.stringPropertyNames()) {
            String value = systemProperties.getProperty(name);
            if (value != null && name.toLowerCase(Locale.ROOT).startsWith(PREFIX)
                    && !name.substring(PREFIX.length()).equals(WAR_KEY)
                    && !name.substring(PREFIX.length()).equals(WEBAPP_KEY)) {
                put(fromSys, key(name.substring(PREFIX.length()), value, ORIGIN_SYSTEM_PROPERTY + " " + name),
                        value, ORIGIN_SYSTEM_PROPERTY + " " + name);
            }
        }

        Map<String, String> values = new LinkedHashMap<>();
        Map<String, String> origins = new LinkedHashMap<>();
        List<String> notes = new ArrayList<>();

        String[] icometPath = locate(ICOMET_CONF_KEY, fromSys, fromEnv, fromInit);
        String[] propsPath = locate(CONFIG_KEY, fromSys, fromEnv, fromInit);

        merge(fromInit, values, origins);
        if (icometPath != null) {
            Path file = file(icometPath);
            IcometConfReader.Result r;
            try (Reader in = Files.newBufferedReader(file, StandardCharsets.UTF_8)) {
                r = IcometConfReader.parse(in, ORIGIN_ICOMET_CONF + " " + file);
            } catch (IOException e) {
                throw unreadable(icometPath, e);
            }
            notes.add("read " + ORIGIN_ICOMET_CONF + " " + file + " (named by " + icometPath[2] + ")");
            for (Map.Entry<String, String> e : r.values().entrySet()) {
                values.remove(e.getKey()); // keep insertion order = precedence order
                values.put(e.getKey(), e.getValue().strip());
                origins.put(e.getKey(), ORIGIN_ICOMET_CONF + " " + file);
            }
            for (IcometConfReader.Ignored ig : r.ignored()) {
                notes.add("ignored icomet.conf key " + ig.key() + "=" + ig.value() + " (" + file + " line "
                        + ig.line() + "): " + ig.reason());
            }
        }
        if (propsPath != null) {
            Path file = file(propsPath);
            Properties p = new Properties();
            try (Reader in = Files.newBufferedReader(file, StandardCharsets.UTF_8)) {
                p.load(in);
            } catch (IOException | IllegalArgumentException e) {
                throw unreadable(propsPath, e);
            }
            notes.add("read " + ORIGIN_PROPERTIES + " " + file + " (named by " + propsPath[2] + ")");
            String origin = ORIGIN_PROPERTIES + " " + file;
            Map<String, String[]> fromFile = new TreeMap<>();
            Map<String, String> writtenAs = new TreeMap<>();
            for (String name : new TreeSet<>(p.stringPropertyNames())) {
                String raw = name.strip();
                String bare = raw.toLowerCase(Locale.ROOT).startsWith(PREFIX) ? raw.substring(PREFIX.length()) : raw;
                String k = key(bare, p.getProperty(name), origin + " key " + name);
                if (k.equals(CONFIG_KEY) || k.equals(ICOMET_CONF_KEY)) {
                    throw new ConfigException(k, p.getProperty(name).strip(), "cannot be set inside "
                            + origin + "; set it as system property " + PREFIX + k + ", environment variable "
                            + ENV_PREFIX + k.toUpperCase(Locale.ROOT) + " or init-param " + PREFIX + k);
                }
                String before = writtenAs.putIfAbsent(k, name);
                if (before != null) {
                    throw new ConfigException(k, null, "set twice in " + origin + ", as " + before + "="
                            + p.getProperty(before).strip() + " and as " + name + "=" + p.getProperty(name).strip()
                            + "; keep one");
                }
                fromFile.put(k, new String[] {p.getProperty(name), origin});
            }
            merge(fromFile, values, origins);
        }
        merge(fromEnv, values, origins);
        merge(fromSys, values, origins);
        return new Loaded(values, origins, notes);
    }

    /** Normalises a key written after its prefix; {@code where} names it for the error message. */
    private static String key(String written, String value, String where) {
        String k = written.strip().toLowerCase(Locale.ROOT);
        if (!KEY.matcher(k).matches()) {
            throw new ConfigException(null, null, "bad key in " + where + " (value " + value
                    + "): keys are lower-case snake_case like polling_timeout");
        }
        return k;
    }

    private static void put(Map<String, String[]> source, String key, String value, String origin) {
        String[] before = source.put(key, new String[] {value, origin});
        if (before != null) {
            // e.g. JCOMET_auth and JCOMET_AUTH, or jcomet.Auth and jcomet.auth
            throw new ConfigException(key, null, "set twice, as " + before[1] + "=" + before[0].strip() + " and as "
                    + origin + "=" + value.strip() + "; keep one");
        }
    }

    /** Copies a source over the merged map; file location keys are consumed, not copied. */
    private static void merge(Map<String, String[]> source, Map<String, String> values, Map<String, String> origins) {
        for (Map.Entry<String, String[]> e : source.entrySet()) {
            String k = e.getKey();
            if (k.equals(CONFIG_KEY) || k.equals(ICOMET_CONF_KEY)) {
                continue;
            }
            values.remove(k); // keep insertion order = precedence order
            values.put(k, e.getValue()[0].strip());
            origins.put(k, e.getValue()[1]);
        }
    }

    /**
     * The path for a file key from the highest source that sets it: {key, path, origin}, or null
     * when no source names one (an empty value counts as not set).
     */
    @SafeVarargs
    private static String[] locate(String key, Map<String, String[]>... highestFirst) {
        for (Map<String, String[]> source : highestFirst) {
            String[] v = source.get(key);
            if (v != null && !v[0].isBlank()) {
                return new String[] {key, v[0].strip(), v[1]};
            }
        }
        return null;
    }

    private static Path file(String[] located) {
        Path file;
        try {
            file = Path.of(located[1]);
        } catch (InvalidPathException e) {
            throw new ConfigException(PREFIX + located[0], located[1], "not a valid path (set by " + located[2] + ")", e);
        }
        if (!Files.exists(file)) {
            throw new ConfigException(PREFIX + located[0], located[1], "file not found: "
                    + file.toAbsolutePath() + " (set by " + located[2] + ")");
        }
        if (!Files.isRegularFile(file)) {
            throw new ConfigException(PREFIX + located[0], located[1], "not a regular file: "
                    + file.toAbsolutePath() + " (set by " + located[2] + ")");
        }
        if (!Files.isReadable(file)) {
            throw new ConfigException(PREFIX + located[0], located[1], "file not readable: "
                    + file.toAbsolutePath() + " (set by " + located[2] + ")");
        }
        return file;
    }

    private static ConfigException unreadable(String[] located, Exception e) {
        return new ConfigException(PREFIX + located[0], located[1], "cannot read the file (set by "
                + located[2] + "): " + e, e);
    }
}
