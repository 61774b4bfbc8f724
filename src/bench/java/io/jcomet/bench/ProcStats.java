package io.jcomet.bench;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;

/**
 * A server process's figures read from Linux /proc, for servers whose admin /info does not report
 * them (icomet, nginx/Nchan): RSS (VmRSS), CPU time (utime + stime), open and maximum file
 * descriptors. Stateless; any thread.
 */
final class ProcStats {

    /** Kernel clock ticks per second for /proc/PID/stat (USER_HZ; 100 on every mainstream Linux). */
    static final long CLK_TCK = 100;

    private ProcStats() {
    }

    /** Replaces rss_bytes, process_cpu_ns, open_fds and max_fds in {@code info} by /proc/PID values. */
    static void overlay(long pid, Map<String, Object> info) {
        long rss = rssBytes(pid);
        if (rss >= 0) {
            info.put("rss_bytes", rss);
        }
        long cpu = cpuNanos(pid);
        if (cpu >= 0) {
            info.put("process_cpu_ns", cpu);
        }
        long open = openFds(pid);
        if (open >= 0) {
            info.put("open_fds", open);
        }
        long max = maxFds(pid);
        if (max >= 0) {
            info.put("max_fds", max);
        }
        info.put("figures_from", "/proc/" + pid);
    }

    static long rssBytes(long pid) {
        for (String l : lines("/proc/" + pid + "/status")) {
            if (l.startsWith("VmRSS:")) {
                return Long.parseLong(l.replaceAll("[^0-9]", "")) * 1024;
            }
        }
        return -1;
    }

    static long cpuNanos(long pid) {
        List<String> l = lines("/proc/" + pid + "/stat");
        if (l.isEmpty()) {
            return -1;
        }
        String s = l.get(0);
        // fields after the command name "(...)": state is field 3, utime 14, stime 15
        String[] f = s.substring(s.lastIndexOf(')') + 2).split(" ");
        try {
            long ticks = Long.parseLong(f[11]) + Long.parseLong(f[12]);
            return ticks * (1_000_000_000L / CLK_TCK);
        } catch (RuntimeException e) {
            return -1;
        }
    }

    static long openFds(long pid) {
        try (Stream<Path> s = Files.list(Path.of("/proc/" + pid + "/fd"))) {
            return s.count();
        } catch (IOException | RuntimeException e) {
            return -1;
        }
    }

    static long maxFds(long pid) {
        return io.jcomet.os.OpenFileLimit.ofProcess(pid).soft();
    }

    private static List<String> lines(String file) {
        try {
            return Files.readAllLines(Path.of(file));
        } catch (IOException | RuntimeException e) {
            return List.of();
        }
    }
}
