package io.jcomet.bench;

import java.io.Closeable;
import java.io.IOException;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * What the benchmark reads about the server under test: its admin {@code /info} (subscribers,
 * counters, RSS, heap, CPU time, open files) and, with {@code --server-pid}, RSS, CPU and open
 * files from {@code /proc/PID} instead (for servers whose /info lacks them, e.g. icomet).
 *
 * <p>Threads: one instance per thread (wraps one keep-alive admin connection).
 */
final class ServerProbe implements Closeable {

    private static final String[] VIEW = {"version", "channels", "subscribers", "held_poll", "published",
            "delivered", "dropped_slow", "rejected", "rss_bytes", "heap_used_bytes", "heap_max_bytes",
            "process_cpu_ns", "uptime_ms", "open_fds", "max_fds"};

    private final Admin admin;
    private final long serverPid;

    ServerProbe(Options o) {
        this.admin = new Admin(o.adminHost, o.adminPort);
        this.serverPid = o.serverPid;
    }

    /** /info (with {@code gc}: after a GC, so heap_used is live data), /proc figures laid over it. */
    Map<String, Object> info(boolean gc) throws IOException {
        Map<String, Object> info = admin.info(gc);
        if (serverPid > 0) {
            ProcStats.overlay(serverPid, info);
        }
        return info;
    }

    /**
     * One memory sample: /info (RSS, heap as is), then /info?gc=1 (heap after a GC); {@code t0} is
     * the run's start (System.nanoTime) for the sample's elapsed_s.
     */
    Map<String, Object> memorySample(int connections, int held, long t0) throws IOException {
        Map<String, Object> plain = info(false);
        Map<String, Object> gc = info(true);
        Map<String, Object> s = new LinkedHashMap<>();
        s.put("connections", connections);
        s.put("held", held);
        s.put("elapsed_s", Numbers.round((System.nanoTime() - t0) / 1e9));
        s.put("rss_bytes", num(plain, "rss_bytes"));
        s.put("heap_used_bytes", num(plain, "heap_used_bytes"));
        s.put("rss_after_gc_bytes", num(gc, "rss_bytes"));
        s.put("heap_after_gc_bytes", num(gc, "heap_used_bytes"));
        s.put("server_subscribers", num(gc, "subscribers"));
        s.put("server_open_fds", num(gc, "open_fds"));
        return s;
    }

    /** A field of an /info answer, -1 when the server does not report it. */
    static long num(Map<String, Object> info, String key) {
        return Admin.num(info, key);
    }

    /** Server CPU time between two /info answers (meaningless when {@link #knowsCpu} is false). */
    static long cpuNanos(Map<String, Object> before, Map<String, Object> after) {
        return num(after, "process_cpu_ns") - num(before, "process_cpu_ns");
    }

    static boolean knowsCpu(Map<String, Object> info) {
        return num(info, "process_cpu_ns") >= 0;
    }

    /** The /info fields a result records about the server at start and at the end. */
    static Map<String, Object> view(Map<String, Object> info) {
        Map<String, Object> m = new LinkedHashMap<>();
        for (String key : VIEW) {
            if (info != null && info.containsKey(key)) {
                m.put(key, info.get(key));
            }
        }
        return m;
    }

    static String version(Map<String, Object> info) {
        Object v = info.get("version");
        return v == null ? "server" : "server " + v;
    }

    @Override
    public void close() {
        admin.close();
    }
}
