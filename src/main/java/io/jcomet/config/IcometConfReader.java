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
 * Reads an icomet.conf exactly as icomet 0.2.5 reads it (its {@code util/config.cpp} and
 * {@code icomet-server.cpp}), so an icomet installation switches to jcomet with its file unchanged.
 *
 * <p>The format, rule for rule as icomet's loader:
 * <ul>
 *   <li>blank lines are skipped; a line whose first character after its leading tabs is {@code #}
 *       is a comment;</li>
 *   <li>nesting is by leading tabs, one tab a level, at most one level deeper than the line
 *       before; a space where a key should start is an error (icomet refuses the file too);</li>
 *   <li>{@code key: value} or {@code key = value}: the key ends at the first {@code :} or
 *       {@code =}, key and value are trimmed, so {@code listen: 127.0.0.1:8000} works;</li>
 *   <li>a key given twice: the last one counts (icomet looks names up from the end).</li>
 * </ul>
 *
 * <p>What icomet reads, and what jcomet makes of it:
 * <pre>
 * front.listen  host:port            → front_host, front_port (the first front port)
 * front.auth, front.max_channels, front.max_subscribers_per_channel, front.channel_buffer_size,
 * front.channel_timeout, front.polling_timeout → the jcomet keys of the same names
 *     (a channel_timeout of 0 or less is half the polling_timeout, as in icomet)
 * admin.listen  host:port            → admin_host, admin_port
 * admin.allow / admin.deny (every line of the section) → admin_allow / admin_deny; a file
 *     without any (like icomet's test_icomet.conf) admits every caller, as icomet does. icomet
 *     reads an entry with three dots as an exact address and any other as a string prefix of the
 *     address: each prefix becomes the CIDR ranges it covers ({@code 192.168} → 192.168.0.0/16,
 *     {@code 10.} → 10.0.0.0/8, {@code 192.16} → 192.16.0.0/16 and 192.160.0.0/16 to
 *     192.169.0.0/16), since jcomet's own keys take only exact addresses and CIDR ranges
 * pidfile, logger.level, logger.output, logger.rotate.size → no jcomet use: listed in
 *     {@link Result#ignored()} so the start-up log names each once
 * </pre>
 * Any other key is listed as ignored too. Values are passed on as trimmed strings (type checks
 * belong to {@link JcometConfig}); only {@code listen} is checked here because it has to be split.
 *
 * <p>Threads: stateless; any thread may call it. Used once at start by {@link ConfigSources}.
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
     * @param values  jcomet key → raw value
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
     * @throws ConfigException on a line icomet would refuse, a bad listen address, or a read error
     */
    public static Result parse(Reader in, String source) {
        Node root = load(in, source);
        Map<String, String> values = new LinkedHashMap<>();
        List<Ignored> ignored = new ArrayList<>();

        // the admin IP filter: icomet reads every allow/deny line of the (last) admin section
        Node admin = root.child("admin");
        List<String> allow = new ArrayList<>();
        List<String> deny = new ArrayList<>();
        if (admin != null) {
            for (Node c : admin.children) {
                if (c.key.equals("allow") && !c.value.isEmpty()) {
                    allow.addAll(icometPrefixAsCidr(c.value));
                } else if (c.key.equals("deny") && !c.value.isEmpty()) {
                    deny.addAll(icometPrefixAsCidr(c.value));
                }
            }
        }
        Node polling = null;
        Node channelTimeout = null;
        for (Node n : root.all()) {
            if (!n.children.isEmpty() || n.parent == null) {
                continue; // a section: its keys are listed one by one
            }
            String path = n.path();
            if (path.equals("admin.allow") || path.equals("admin.deny")) {
                continue;
            }
            Node used = root.get(path);
            if (used != n) {
                ignored.add(new Ignored(path, n.value, n.line, "repeated; the last one (line " + used.line + ") is used, as by icomet"));
                continue;
            }
            if (path.equals("front.listen") || path.equals("admin.listen")) {
                String[] hostPort = splitListen(path, n, source);
                String side = path.startsWith("front") ? "front" : "admin";
                if (!hostPort[0].isEmpty()) {
                    values.put(side + "_host", hostPort[0]);
                }
                values.put(side + "_port", hostPort[1]);
            } else if (path.startsWith("front.") && SAME_NAME_FRONT_KEYS.contains(path.substring(6))) {
                String key = path.substring(6);
                if (key.equals("channel_timeout")) {
                    channelTimeout = n;
                } else {
                    if (key.equals("polling_timeout")) {
                        polling = n;
                    }
                    values.put(key, n.value);
                }
            } else {
                ignored.add(new Ignored(path, n.value, n.line, "no jcomet equivalent"));
            }
        }
        if (channelTimeout != null) {
            String v = channelTimeout.value;
            if (atoi(v) <= 0 && polling != null && atoi(polling.value) > 0) {
                v = Integer.toString(Math.max(1, atoi(polling.value) / 2)); // icomet: 0.5 * polling_timeout
            }
            values.put("channel_timeout", v);
        }
        values.put("admin_allow", String.join(",", allow));
        values.put("admin_deny", String.join(",", deny));
        return new Result(values, ignored);
    }

    /**
     * One entry of icomet's admin IP filter in jcomet's address syntax: {@code all}, an exact
     * address (three dots) and anything that is not an IPv4 prefix pass unchanged (JcometConfig
     * judges them); a prefix becomes every CIDR range whose addresses start with it as a string.
     */
    static List<String> icometPrefixAsCidr(String entry) {
        String e = entry.trim();
        long dots = e.chars().filter(ch -> ch == '.').count();
        if (e.equals("all") || e.equals("*") || dots == 3 || !e.matches("[0-9]+(\\.[0-9]+)*\\.?")) {
            return List.of(e);
        }
        String[] parts = e.split("\\.", -1);
        int whole = parts.length - 1; // octets written in full; the last part is a prefix of the next one
        StringBuilder head = new StringBuilder();
        for (int i = 0; i < whole; i++) {
            int octet = Integer.parseInt(parts[i]);
            if (octet > 255) {
                return List.of(e); // not an address prefix at all: JcometConfig names it
            }
            head.append(octet).append('.');
        }
        String partial = parts[whole];
        List<String> out = new ArrayList<>();
        for (int octet = 0; octet <= 255; octet++) {
            if (partial.isEmpty() ? octet == 0 : Integer.toString(octet).startsWith(partial)) {
                StringBuilder b = new StringBuilder(head);
                int bits = (whole + (partial.isEmpty() ? 0 : 1)) * 8;
                b.append(partial.isEmpty() ? 0 : octet);
                for (int i = whole + 1; i < 4; i++) {
                    b.append(".0");
                }
                out.add(b.append('/').append(bits).toString());
            }
        }
        return out.isEmpty() ? List.of(e) : out;
    }

    /** C's atoi: leading digits (with a sign), else 0. */
    private static int atoi(String s) {
        int i = 0;
        int sign = 1;
        if (i < s.length() && (s.charAt(i) == '-' || s.charAt(i) == '+')) {
            sign = s.charAt(i++) == '-' ? -1 : 1;
        }
        long v = 0;
        while (i < s.length() && Character.isDigit(s.charAt(i)) && v < Integer.MAX_VALUE) {
            v = v * 10 + (s.charAt(i++) - '0');
        }
        return (int) Math.min(Integer.MAX_VALUE, v) * sign;
    }

    /** {@code host:port}, {@code [v6]:port} or {@code :port} → {host (maybe empty), port}. */
    private static String[] splitListen(String key, Node e, String source) {
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

    private static ConfigException badListen(String key, Node e, String source) {
        return new ConfigException(key, e.value,
                source + " line " + e.line + ": expected host:port with a port 0-65535");
    }

    /** One {@code key: value} line (or section) of the tree icomet builds. */
    private static final class Node {
        final Node parent;
        final String key;
        final String value;
        final int line;
        final List<Node> children = new ArrayList<>();

        Node(Node parent, String key, String value, int line) {
            this.parent = parent;
            this.key = key;
            this.value = value;
            this.line = line;
        }

        /** icomet's find_child: the LAST child of that name. */
        Node child(String name) {
            for (int i = children.size() - 1; i >= 0; i--) {
                if (children.get(i).key.equals(name)) {
                    return children.get(i);
                }
            }
            return null;
        }

        /** icomet's get("a.b"): find_child at each level. */
        Node get(String path) {
            Node n = this;
            for (String part : path.split("\\.")) {
                n = n.child(part);
                if (n == null) {
                    return null;
                }
            }
            return n;
        }

        String path() {
            return parent == null || parent.parent == null ? key : parent.path() + "." + key;
        }

        /** Every node below this one, in file order. */
        List<Node> all() {
            List<Node> out = new ArrayList<>();
            for (Node c : children) {
                out.add(c);
                out.addAll(c.all());
            }
            return out;
        }
    }

    /** icomet's Config::load. */
    private static Node load(Reader reader, String source) {
        Node root = new Node(null, "root", "", 0);
        Node cfg = root;
        int lastIndent = 0;
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
                int indent = 0;
                while (indent < line.length() && line.charAt(indent) == '\t') {
                    indent++;
                }
                String rest = line.substring(indent);
                if (rest.startsWith("#")) {
                    continue;
                }
                if (indent <= lastIndent) {
                    for (int i = indent; i <= lastIndent; i++) {
                        if (cfg != root) {
                            cfg = cfg.parent;
                        }
                    }
                } else if (indent > lastIndent + 1) {
                    throw malformed(source, lineNo, line, "indented more than one tab deeper than the line above");
                }
                if (Character.isWhitespace(rest.charAt(0))) {
                    throw malformed(source, lineNo, line, "unexpected whitespace; icomet.conf is indented with tabs only");
                }
                int sep = indexOfSeparator(rest);
                if (sep < 0) {
                    throw malformed(source, lineNo, line, "expected 'key: value' or 'key = value'");
                }
                String key = rest.substring(0, sep).strip();
                String value = rest.substring(sep + 1).strip();
                Node n = new Node(cfg, key, value, lineNo);
                cfg.children.add(n);
                cfg = n;
                lastIndent = indent;
            }
        } catch (IOException e) {
            throw new ConfigException(null, null, "cannot read " + source + ": " + e, e);
        }
        return root;
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
