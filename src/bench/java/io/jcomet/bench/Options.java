package io.jcomet.bench;

import java.net.Inet4Address;
import java.net.InetAddress;
import java.net.URI;
import java.net.UnknownHostException;
import java.security.SecureRandom;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Command line of the load client: {@code <scenario> --key value ...} (or {@code --key=value}).
 * Immutable after {@link #parse(String[])}; read by every thread.
 *
 * <p>Only loopback (127.0.0.0/8) targets and source addresses are accepted: this client is a
 * benchmark for one host, not a tool to aim at other machines.
 */
final class Options {

    static final Set<String> SCENARIOS = Set.of("hold", "fanout", "publish", "churn", "soak");

    static final String HELP = String.join("\n",
            "usage: bin/bench <hold|fanout|publish|churn|soak> [--key value ...]",
            "",
            "An NIO load client for icomet-compatible comet servers (jcomet, icomet). Loopback only.",
            "",
            "scenarios:",
            "  hold     open N long-polls (/sub seq=1 on fresh channels), sample the server's RSS and",
            "           heap (admin /info, /info?gc=1) every --step connections, report bytes per",
            "           connection (least-squares slope), then idle --idle s and report server CPU %.",
            "  fanout   N subscribers on one channel (or K), publish --messages at --msg-rate through",
            "           admin /push; latency p50/p99/p999/max, deliveries/s, server CPU us/delivery,",
            "           and per-subscriber verification: every seq once, in order, none missing.",
            "  publish  admin /push throughput with --publishers keep-alive clients for --duration s,",
            "           with --connections subscribers (default 0) on the pushed channels.",
            "  churn    N subscribers held; all close at once and reconnect with seq=last+1 while",
            "           --messages are published; time until all are held again, and no loss.",
            "  soak     for --duration s [600]: N verified long-polls churned every 20 s, publishing at",
            "           --msg-rate [200], 100 leavers/s (subscribe, then FIN or RST), 20 slow stream",
            "           readers; fds, heap, RSS and counters each second; passes when no message was",
            "           lost silently and fds and heap after GC are back at baseline once clients leave;",
            "           with --attackers, also while hostile clients attack and a newcomer always joins.",
            "",
            "options (defaults in brackets):",
            "  --host H            front host [127.0.0.1]",
            "  --ports A-B         front ports, used round-robin; also a list: 8100,8102-8105 [8100-8199]",
            "  --admin URL         admin base URL [http://127.0.0.1:8000]",
            "  --attackers A-B     soak: source addresses of hostile clients (a WebSocket subscription flood,",
            "                      slowloris heads, ghost page reloads on a shared room), e.g.",
            "                      127.0.0.2-127.0.0.4; the server must not exempt them [off]",
            "  --sources A-B       local source addresses, e.g. 127.0.0.1-127.0.0.8, bound round-robin",
            "                      (each gives its own ~28k ephemeral ports) [kernel's choice]",
            "  --connections N     subscribers [1000; publish: 0]; capped by the client's and the",
            "                      server's open-file limits minus a margin of 500",
            "  --rate R            new connections per second, 0 = unlimited [2000]",
            "  --reconnect-rate R  churn: reconnections per second, 0 = all at once [0]",
            "  --channels C        one | per-connection | K (a number)",
            "                      [hold, churn: per-connection; fanout, publish: one]",
            "  --messages M        fanout: messages to publish [100]; churn: during the reconnect [N]",
            "  --warmup W          fanout: messages published and delivered first, left out of the latency",
            "                      and CPU figures (JIT warm-up) but verified like the others [0]",
            "  --msg-rate R        pushes per second, 0 = as fast as possible",
            "                      [fanout: 100; publish, churn: 0]",
            "  --publishers P      keep-alive publisher connections [16; fanout: 1]",
            "  --batch N           publish: N messages per request, as one admin /batch (jcomet) [1: /push]",
            "  --duration D        publish: seconds of pushing [10]",
            "  --step S            hold: sample every S connections [N/10]",
            "  --idle S            hold: idle seconds for the CPU measurement [10]",
            "  --drain S           fanout/churn: max seconds to wait for deliveries after the last push [15]",
            "  --threads T         selector threads [1]",
            "  --prefix P          channel name prefix, [A-Za-z0-9]{1,24}; give each client process its",
            "                      own when several run against one server [random]",
            "  --content-size B    pad message content to about B bytes [0]",
            "  --transport T       poll (long-poll /sub, re-polled after every answer) | stream",
            "                      (/stream: one request, messages as JSON lines) | sse (/sse)",
            "                      | ws (/ws WebSocket: one text frame per message) [poll]",
            "  --tls MODE          off | resume | full: subscribers speak TLS HTTP/1.1 to --ports (an https",
            "                      front, e.g. 8443; any certificate accepted): resume = each subscriber",
            "                      resumes its own earlier session when it reconnects, full = every",
            "                      connection a full handshake; handshakes and resumptions are counted [off]",
            "  --out FILE          JSON result [target/bench/<scenario>.json]",
            "  --svg FILE          SVG chart [target/bench/<scenario>.svg]",
            "  --timeout S         hard deadline for the whole run; the client exits by itself [300]",
            "  --server-pid PID    read the server's RSS, CPU and open files from /proc/PID instead of",
            "                      /info (for servers whose /info lacks them, e.g. icomet) [off]",
            "  --help              this text",
            "");

    private static final Set<String> KEYS = Set.of("host", "ports", "admin", "sources", "connections", "rate",
            "reconnect-rate", "channels", "messages", "msg-rate", "publishers", "duration", "step", "idle", "drain",
            "threads", "prefix", "content-size", "out", "svg", "timeout", "server-pid", "warmup", "transport", "attackers", "batch", "tls");

    final String scenario;
    final String host;
    final InetAddress hostAddress;
    final int[] ports;
    final String adminHost;
    final int adminPort;
    final List<InetAddress> sources;
    /** soak: source addresses of the hostile clients ({@link SoakAttacks}); empty: none. */
    final List<InetAddress> attackers;
    final int connections;
    final double rate;
    final double reconnectRate;
    /** 0 = one channel per connection, otherwise the number of channels. */
    final int channels;
    final int messages;
    final int warmup;
    final double msgRate;
    final int publishers;
    /** Messages per admin request: 1 is one /push each, more is one /batch request. */
    final int batch;
    final double duration;
    final int step;
    final double idle;
    final double drain;
    final int threads;
    final String prefix;
    final int contentSize;
    /** Subscribers use /stream or /sse (one endless chunked response) instead of long-polling /sub. */
    final boolean stream;
    /** The stream is /sse: messages are the {@code data:} lines of events. */
    final boolean sse;
    /** Subscribers are WebSockets on /ws: one text frame per message (not an HTTP stream). */
    final boolean ws;
    /** off, resume or full: see {@link TlsClient}. */
    final String tls;
    final String out;
    final String svg;
    final double timeout;
    /** Server process id for /proc figures (RSS, CPU, fds) when its /info lacks them; 0 = none. */
    final long serverPid;
    final Map<String, String> given;

    static final class UsageException extends Exception {
        UsageException(String msg) {
            super(msg);
        }
    }

    private Options(String scenario, Map<String, String> kv) throws UsageException {
        this.scenario = scenario;
        this.given = kv;
        host = kv.getOrDefault("host", "127.0.0.1");
        hostAddress = loopback(host, "--host");
        ports = range(kv.getOrDefault("ports", "8100-8199"));
        URI admin;
        try {
            admin = URI.create(kv.getOrDefault("admin", "http://127.0.0.1:8000"));
        } catch (IllegalArgumentException e) {
            throw new UsageException("--admin: not a URL: " + kv.get("admin"));
        }
        if (!"http".equals(admin.getScheme()) || admin.getHost() == null) {
            throw new UsageException("--admin: expected http://HOST:PORT, got " + admin);
        }
        adminHost = admin.getHost();
        loopback(adminHost, "--admin");
        adminPort = admin.getPort() < 0 ? 80 : admin.getPort();
        sources = kv.containsKey("sources") ? addressRange(kv.get("sources")) : List.of();
        attackers = kv.containsKey("attackers") ? addressRange(kv.get("attackers"), "--attackers") : List.of();
        boolean publish = "publish".equals(scenario);
        connections = intOpt(kv, "connections", publish ? 0 : 1000, 0, 10_000_000);
        rate = dblOpt(kv, "rate", 2000, 0, 1e7);
        reconnectRate = dblOpt(kv, "reconnect-rate", 0, 0, 1e7);
        String ch = kv.getOrDefault("channels",
                "hold".equals(scenario) || "churn".equals(scenario) || "soak".equals(scenario) ? "per-connection" : "one");
        if ("one".equals(ch)) {
            channels = 1;
        } else if ("per-connection".equals(ch)) {
            channels = 0;
        } else {
            channels = intOpt(kv, "channels", 1, 1, 10_000_000);
        }
        messages = intOpt(kv, "messages", "churn".equals(scenario) ? Math.max(1, connections) : 100, 0, 100_000_000);
        warmup = intOpt(kv, "warmup", 0, 0, 100_000_000);
        msgRate = dblOpt(kv, "msg-rate", "fanout".equals(scenario) ? 100 : 0, 0, 1e7);
        // fanout: one publisher keeps the message rate even; several would catch up in bursts after a
        // stall, and a burst longer than the channel buffer turns slow re-polls into gaps
        publishers = intOpt(kv, "publishers", "fanout".equals(scenario) ? 1 : 16, 1, 1000);
        batch = intOpt(kv, "batch", 1, 1, 10_000);
        if (batch > 1 && (!publish || msgRate > 0)) {
            throw new UsageException("--batch: only for the publish scenario at full speed (no --msg-rate)");
        }
        duration = dblOpt(kv, "duration", "soak".equals(scenario) ? 600 : 10, 0.1, 86400);
        step = intOpt(kv, "step", Math.max(1, connections / 10), 1, 10_000_000);
        idle = dblOpt(kv, "idle", 10, 0, 86400);
        drain = dblOpt(kv, "drain", 15, 0, 86400);
        threads = intOpt(kv, "threads", 1, 1, 64);
        String p = kv.get("prefix");
        if (p == null) {
            p = randomPrefix();
        } else if (!p.matches("[A-Za-z0-9]{1,24}")) {
            throw new UsageException("--prefix: 1 to 24 letters or digits, got '" + p + "'");
        }
        prefix = p;
        contentSize = intOpt(kv, "content-size", 0, 0, 1 << 20);
        String transport = kv.getOrDefault("transport", "poll");
        if (!transport.equals("poll") && !transport.equals("stream") && !transport.equals("sse") && !transport.equals("ws")) {
            throw new UsageException("--transport: poll, stream, sse or ws, got '" + transport + "'");
        }
        ws = transport.equals("ws");
        tls = kv.getOrDefault("tls", "off");
        if (!tls.equals("off") && !tls.equals("resume") && !tls.equals("full")) {
            throw new UsageException("--tls: off, resume or full, got '" + tls + "'");
        }
        sse = transport.equals("sse");
        stream = sse || transport.equals("stream");
        out = kv.getOrDefault("out", "target/bench/" + scenario + ".json");
        svg = kv.getOrDefault("svg", "target/bench/" + scenario + ".svg");
        timeout = dblOpt(kv, "timeout", "soak".equals(scenario) ? duration + 240 : 300, 1, 86400);
        serverPid = intOpt(kv, "server-pid", 0, 0, Integer.MAX_VALUE);
        if (serverPid > 0 && !java.nio.file.Files.isDirectory(java.nio.file.Path.of("/proc/" + serverPid))) {
            throw new UsageException("--server-pid: no process " + serverPid);
        }
    }

    /** Parses the command line; returns null when --help was asked. */
    static Options parse(String[] args) throws UsageException {
        if (args.length == 0) {
            throw new UsageException("missing scenario");
        }
        List<String> list = new ArrayList<>();
        for (String a : args) {
            // exec:java passes -Dexec.args as one string; split it on blanks too
            for (String part : a.trim().split("\\s+")) {
                if (!part.isEmpty()) {
                    list.add(part);
                }
            }
        }
        if (list.contains("--help") || list.contains("-h") || list.contains("help")) {
            return null;
        }
        String scenario = list.get(0);
        if (!SCENARIOS.contains(scenario)) {
            throw new UsageException("unknown scenario '" + scenario + "' (hold, fanout, publish, churn, soak)");
        }
        Map<String, String> kv = new LinkedHashMap<>();
        for (int i = 1; i < list.size(); i++) {
            String a = list.get(i);
            if (!a.startsWith("--")) {
                throw new UsageException("unexpected argument '" + a + "'");
            }
            String key;
            String value;
            int eq = a.indexOf('=');
            if (eq > 0) {
                key = a.substring(2, eq);
                value = a.substring(eq + 1);
            } else {
                key = a.substring(2);
                if (i + 1 >= list.size()) {
                    throw new UsageException("--" + key + " needs a value");
                }
                value = list.get(++i);
            }
            if (!KEYS.contains(key)) {
                throw new UsageException("unknown option --" + key);
            }
            kv.put(key, value);
        }
        return new Options(scenario, kv);
    }

    /** Channel name of subscriber {@code i}. */
    String channelOf(int i) {
        int k = channels == 0 ? i : i % channels;
        return prefix + "x" + k;
    }

    /** Channel index (0..channelCount-1) of subscriber {@code i}. */
    int channelIndex(int i) {
        return channels == 0 ? i : i % channels;
    }

    /** Number of distinct channels for {@code n} subscribers (at least one, for publishing). */
    int channelCount(int n) {
        return channels == 0 ? Math.max(1, n) : channels;
    }

    String channelName(int k) {
        return prefix + "x" + k;
    }

    Map<String, Object> toMap() {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("scenario", scenario);
        m.put("host", host);
        m.put("ports", portsText());
        m.put("admin", "http://" + adminHost + ":" + adminPort);
        List<String> src = new ArrayList<>();
        for (InetAddress a : sources) {
            src.add(a.getHostAddress());
        }
        m.put("sources", src);
        m.put("connections_requested", connections);
        m.put("rate", rate);
        m.put("reconnect_rate", reconnectRate);
        m.put("tls", tls);
        m.put("channels", channels == 0 ? "per-connection" : channels == 1 ? "one" : String.valueOf(channels));
        m.put("messages", messages);
        m.put("warmup", warmup);
        m.put("msg_rate", msgRate);
        m.put("publishers", publishers);
        m.put("duration_s", duration);
        m.put("step", step);
        m.put("idle_s", idle);
        m.put("drain_s", drain);
        m.put("threads", threads);
        m.put("prefix", prefix);
        m.put("content_size", contentSize);
        m.put("timeout_s", timeout);
        m.put("server_pid", serverPid);
        return m;
    }

    String portsText() {
        boolean consecutive = true;
        for (int i = 1; i < ports.length; i++) {
            consecutive &= ports[i] == ports[i - 1] + 1;
        }
        if (consecutive) {
            return ports.length == 1 ? String.valueOf(ports[0]) : ports[0] + "-" + ports[ports.length - 1];
        }
        StringBuilder b = new StringBuilder();
        for (int p : ports) {
            b.append(b.length() == 0 ? "" : ",").append(p);
        }
        return b.toString();
    }

    // ---------------------------------------------------------------- helpers

    static InetAddress loopback(String host, String what) throws UsageException {
        InetAddress a;
        try {
            a = InetAddress.getByName(host);
        } catch (UnknownHostException e) {
            throw new UsageException(what + ": unknown host " + host);
        }
        if (!(a instanceof Inet4Address) || (a.getAddress()[0] & 0xff) != 127) {
            throw new UsageException(what + ": only 127.0.0.0/8 targets are accepted, got " + host
                    + " (" + a.getHostAddress() + ")");
        }
        return a;
    }

    /** Ports as {@code A-B}, or a comma-separated list of ports and ranges ({@code 8100,8105-8107}). */
    static int[] range(String s) throws UsageException {
        if (s.contains(",")) {
            List<Integer> all = new ArrayList<>();
            for (String part : s.split(",")) {
                if (!part.isBlank()) {
                    for (int p : range(part.trim())) {
                        all.add(p);
                    }
                }
            }
            if (all.isEmpty()) {
                throw new UsageException("--ports: no port in " + s);
            }
            return all.stream().mapToInt(Integer::intValue).toArray();
        }
        try {
            int dash = s.indexOf('-');
            int a = Integer.parseInt(dash < 0 ? s.trim() : s.substring(0, dash).trim());
            int b = dash < 0 ? a : Integer.parseInt(s.substring(dash + 1).trim());
            if (a < 1 || b > 65535 || b < a) {
                throw new UsageException("--ports: bad range " + s);
            }
            int[] r = new int[b - a + 1];
            for (int i = 0; i < r.length; i++) {
                r[i] = a + i;
            }
            return r;
        } catch (NumberFormatException e) {
            throw new UsageException("--ports: expected A-B, got " + s);
        }
    }

    static List<InetAddress> addressRange(String s) throws UsageException {
        return addressRange(s, "--sources");
    }

    static List<InetAddress> addressRange(String s, String option) throws UsageException {
        int dash = s.indexOf('-');
        InetAddress a = loopback(dash < 0 ? s : s.substring(0, dash), option);
        InetAddress b = dash < 0 ? a : loopback(s.substring(dash + 1), option);
        long x = toLong(a);
        long y = toLong(b);
        if (y < x || y - x > 65535) {
            throw new UsageException(option + ": bad range " + s);
        }
        List<InetAddress> out = new ArrayList<>();
        for (long v = x; v <= y; v++) {
            byte[] ip = {(byte) (v >>> 24), (byte) (v >>> 16), (byte) (v >>> 8), (byte) v};
            try {
                out.add(InetAddress.getByAddress(ip));
            } catch (UnknownHostException e) {
                throw new UsageException(option + ": " + e.getMessage());
            }
        }
        return out;
    }

    private static long toLong(InetAddress a) {
        byte[] b = a.getAddress();
        return ((b[0] & 0xffL) << 24) | ((b[1] & 0xffL) << 16) | ((b[2] & 0xffL) << 8) | (b[3] & 0xffL);
    }

    private static int intOpt(Map<String, String> kv, String key, int dflt, int min, int max) throws UsageException {
        String v = kv.get(key);
        if (v == null) {
            return dflt;
        }
        try {
            int x = Integer.parseInt(v.replace("_", "").replace(",", ""));
            if (x < min || x > max) {
                throw new UsageException("--" + key + ": " + v + " out of range " + min + ".." + max);
            }
            return x;
        } catch (NumberFormatException e) {
            throw new UsageException("--" + key + ": not an integer: " + v);
        }
    }

    private static double dblOpt(Map<String, String> kv, String key, double dflt, double min, double max)
            throws UsageException {
        String v = kv.get(key);
        if (v == null) {
            return dflt;
        }
        try {
            double x = Double.parseDouble(v);
            if (!(x >= min && x <= max)) {
                throw new UsageException("--" + key + ": " + v + " out of range " + min + ".." + max);
            }
            return x;
        } catch (NumberFormatException e) {
            throw new UsageException("--" + key + ": not a number: " + v);
        }
    }

    private static String randomPrefix() {
        String alphabet = "abcdefghijklmnopqrstuvwxyz0123456789";
        SecureRandom r = new SecureRandom();
        StringBuilder b = new StringBuilder("b");
        for (int i = 0; i < 6; i++) {
            b.append(alphabet.charAt(r.nextInt(alphabet.length())));
        }
        return b.toString();
    }
}
