package io.jcomet.config;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.Reader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Reads an existing icomet.conf so an icomet installation can switch to jcomet without rewriting
 * its configuration, and maps the settings jcomet understands to jcomet keys.
 *
 * <p>The format is icomet's (ssdb's) hierarchical text file:
 * <ul>
 *   <li>{@code # ...} comment lines (at any indentation) and blank lines are skipped;</li>
 *   <li>one level of nesting is one leading tab; four leading spaces also count as one level
 *       (tabs are canonical, any other number of spaces is an error);</li>
 *   <li>{@code key: value} (or icomet's alternative {@code key = value}) sets a value, the
 *       separator is the first {@code :} or {@code =}, so {@code listen: 127.0.0.1:8000} works;</li>
 *   <li>{@code key:} with nothing after it opens a section for the more indented lines below it.</li>
 * </ul>
 * A line without a separator, with an empty key, or indented more than one level deeper than the
 * line before it is malformed: a {@link ConfigException} names the line number and its text.
 *
 * <p>Mapping (icomet key → jcomet key):
 * <pre>
 * server.front.auth                        → auth
 * server.front.max_channels                → max_channels
 * server.front.max_subscribers_per_channel → max_subscribers_per_channel
 * server.front.channel_buffer_size         → channel_buffer_size
 * server.front.channel_timeout             → channel_timeout
 * server.front.polling_timeout             → polling_timeout
 * server.front.listen  host:port           → front_host, front_port (the first front port)
 * server.admin.listen  host:port           → admin_host, admin_port
 * server.admin.allow   (every such line)   → admin_allow, the prefixes joined with ","
 * server.admin.deny    (every such line)   → admin_deny,  the prefixes joined with ","
 * </pre>
 * Values are passed on as raw trimmed strings (type checks belong to {@code JcometConfig}); only
 * {@code listen} is checked here because it has to be split. Everything else ({@code version},
 * {@code logger.*}, {@code server.front.sub_timeout}, {@code work_dir}, ...) and a repeated
 * single-valued key (like icomet, the first occurrence wins) is not mapped but listed in
 * {@link Result#ignored()} so the caller can log it.
 *
 * <p>Threads: stateless; every call works on its own local state, so any thread may call it. It is
 * used once at startup by {@link ConfigSources}.
 */
public final class IcometConfReader {

    private static final Set<String> SAME_NAME_FRONT_KEYS = Set.of(
            "auth", "max_channels", "max_subscribers_per_channel", "channel_buffer_size",
            "channel_timeout", "polling_timeout");

    private IcometConfReader() {
    }

    /** An icomet.conf setting that jcomet did not take over, and why. */
    public record Ignored(String key, String value, int line, String reason) {
        /** E.g. {@code logger.level=debug (line 17): no jcomet equivalent}. */
        @Override
        public String toString() {
            return key + "=" + value + " (line " + line + "): " + reason;
        }
    }

    /**
     * @param values  jcomet key → raw value, in the order the settings first appear in the file
     * @param ignored the settings that were not mapped, in file order
     */
    public record Result(Map<String, String> values, List<Ignored> ignored) {
        public Result {
            values = Collections.unmodifiableMap(new LinkedHashMap<>(values));
            ignored = List.copyOf(ignored);
        }
    }

    /** The mapped jcomet settings only; see {@link #parse(Reader)} for the ignored ones. */
    public static Map<String, String> read(Reader in) {
        return parse(in).values();
    }

    /** Parses icomet.conf text; error messages call the source "icomet.conf". */
    public static Result parse(Reader in) {
        return parse(in, "icomet.conf");
    }

    /** Reads and parses a file (UTF-8); error messages name the file. */
    public static Result parse(Path file) {
        try (Reader in = Files.newBufferedReader(file, StandardCharsets.UTF_8)) {
            return parse(in, "icomet.conf " + file);
        } catch (IOException e) {
            throw new ConfigException(null, null, "cannot read icomet.conf " + file + ": " + e, e);
        }
    }

    /**
     * Parses icomet.conf text.
     *
     * @param source how to call the input in error messages, e.g. {@code icomet.conf /etc/icomet.conf}
     * @throws ConfigException on a malformed line or listen address, or when the reader fails
     */
    public static Result parse(Reader in, String source) {
        List<Entry> entries = entries(in, source);
        Map<String, String> values = new LinkedHashMap<>();
        Map<String, Integer> firstLine = new LinkedHashMap<>();
        List<Ignored> ignored = new ArrayList<>();
        for (Entry e : entries) {
            if (e.hasChildren && e.value.isEmpty()) {
                continue; // a section header
            }
            String k = e.path;
            if (k.equals("server.admin.allow") || k.equals("server.admin.deny")) {
                if (!e.value.isEmpty()) {
                    values.merge(k.equals("server.admin.allow") ? "admin_allow" : "admin_deny",
                            e.value, (a, b) -> a + "," + b);
                }
                continue;
            }
            String[] targets = targets(k);
            if (targets == null) {
                ignored.add(new Ignored(k, e.value, e.line, "no jcomet equivalent"));
                continue;
            }
            Integer first = firstLine.putIfAbsent(k, e.line);
            if (first != null) {
                ignored.add(new Ignored(k, e.value, e.line,
                        "repeated; the first one (line " + first + ") is used"));
                continue;
            }
            if (targets.length == 1) {
                values.put(targets[0], e.value);
            } else {
                String[] hostPort = splitListen(k, e, source);
                if (!hostPort[0].isEmpty()) {
                    values.put(targets[0], hostPort[0]);
                }
                values.put(targets[1], hostPort[1]);
            }
        }
        return new Result(values, ignored);
    }

    /** jcomet key(s) for an icomet key, or null when jcomet has no equivalent. */
    private static String[] targets(String icometKey) {
        switch (icometKey) {
            case "server.front.listen":
                return new String[] {"front_host", "front_port"};
            case "server.admin.listen":
                return new String[] {"admin_host", "admin_port"};
            default:
                if (icometKey.startsWith("server.front.")) {
                    String name = icometKey.substring("server.front.".length());
                    if (SAME_NAME_FRONT_KEYS.contains(name)) {
                        return new String[] {name};
                    }
                }
                return null;
        }
    }

    /** {@code host:port}, {@code [v6]:port} or {@code :port} → {host (maybe empty), port}. */
    private static String[] splitListen(String key, Entry e, String source) {
        String v = e.value;
        String host;
        String port;
        if (v.startsWith("[")) {
            int close = v.indexOf(']');
            if (close < 0 || close + 1 >= v.length() || v.charAt(close + 1) != ':') {
                throw badListen(key, e, source);
            }
            host = v.substring(1, close);
            port = v.substring(close + 2);
        } else {
            int colon = v.lastIndexOf(':');
            if (colon < 0) {
                throw badListen(key, e, source);
            }
            host = v.substring(0, colon).trim();
            port = v.substring(colon + 1).trim();
        }
        if (port.isEmpty() || port.length() > 5 || !port.chars().allMatch(c -> c >= '0' && c <= '9')
                || Integer.parseInt(port) > 65535) {
            throw badListen(key, e, source);
        }
        return new String[] {host, port};
    }

    private static ConfigException badListen(String key, Entry e, String source) {
        return new ConfigException(key, e.value,
                source + " line " + e.line + ": expected host:port with a port 0-65535");
    }

    /** One {@code key: value} or {@code section:} line, with its dotted path. */
    private static final class Entry {
        final String path;
        final String value;
        final int line;
        boolean hasChildren;

        Entry(String path, String value, int line) {
            this.path = path;
            this.value = value;
            this.line = line;
        }
    }

    private static List<Entry> entries(Reader reader, String source) {
        List<Entry> entries = new ArrayList<>();
        List<Entry> stack = new ArrayList<>(); // the previous line and its ancestors, by level
        BufferedReader in = reader instanceof BufferedReader b ? b : new BufferedReader(reader);
        int lineNo = 0;
        try {
            String line;
            while ((line = in.readLine()) != null) {
                lineNo++;
                if (lineNo == 1 && line.startsWith("\uFEFF")) {
                    line = line.substring(1);
                }
                if (line.isBlank()) {
                    continue;
                }
                int pos = 0;
                int level = 0;
                int spaces = 0;
                while (pos < line.length() && (line.charAt(pos) == '\t' || line.charAt(pos) == ' ')) {
                    if (line.charAt(pos) == '\t') {
                        if (spaces % 4 != 0) {
                            break; // reported below
                        }
                        level++;
                    } else {
                        spaces++;
                        if (spaces % 4 == 0) {
                            level++;
                        }
                    }
                    pos++;
                }
                String rest = line.substring(pos).strip();
                if (rest.startsWith("#")) {
                    continue;
                }
                if (spaces % 4 != 0) {
                    throw malformed(source, lineNo, line,
                            "indented by " + spaces + " spaces; indent with tabs (or 4 spaces per level)");
                }
                if (level > stack.size()) {
                    throw malformed(source, lineNo, line, stack.isEmpty()
                            ? "indented, but there is no section above it"
                            : "indented " + (level - stack.size() + 1)
                                    + " levels deeper than the line above; one level at a time");
                }
                int sep = indexOfSeparator(rest);
                if (sep < 0) {
                    throw malformed(source, lineNo, line, "expected 'key: value' or 'section:'");
                }
                String key = rest.substring(0, sep).strip();
                if (key.isEmpty()) {
                    throw malformed(source, lineNo, line, "missing key before '" + rest.charAt(sep) + "'");
                }
                String value = rest.substring(sep + 1).strip();
                while (stack.size() > level) {
                    stack.remove(stack.size() - 1);
                }
                String path = key;
                if (!stack.isEmpty()) {
                    Entry parent = stack.get(stack.size() - 1);
                    parent.hasChildren = true;
                    path = parent.path + "." + key;
                }
                Entry e = new Entry(path, value, lineNo);
                stack.add(e);
                entries.add(e);
            }
        } catch (IOException e) {
            throw new ConfigException(null, null, "cannot read " + source + ": " + e, e);
        }
        return entries;
    }

    private static int indexOfSeparator(String s) {
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            if (c == ':' || c == '=') {
                return i;
            }
        }
        return -1;
    }

    private static ConfigException malformed(String source, int lineNo, String text, String problem) {
        return new ConfigException("invalid configuration: " + source + " line " + lineNo + ": "
                + problem + ": \"" + text.replace("\t", "\\t") + "\"");
    }
}
