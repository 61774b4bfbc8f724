package io.jcomet.servlet;

import io.jcomet.os.OpenFileLimit;
import java.io.IOException;
import java.lang.management.ManagementFactory;
import java.lang.management.MemoryUsage;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * Process figures for /info: heap, resident set size and open files from /proc (Linux; -1
 * elsewhere), and process CPU time, so benchmarks read the server's own cost per connection.
 * Stateless; any thread.
 */
final class ProcessInfo {
    private ProcessInfo() {}

    static long heapUsed() {
        return ManagementFactory.getMemoryMXBean().getHeapMemoryUsage().getUsed();
    }

    static long heapMax() {
        MemoryUsage u = ManagementFactory.getMemoryMXBean().getHeapMemoryUsage();
        return u.getMax();
    }

    /** VmRSS from /proc/self/status in bytes, or -1. */
    static long rssBytes() {
        try {
            for (String line : Files.readAllLines(Path.of("/proc/self/status"))) {
                if (line.startsWith("VmRSS:")) {
                    String[] f = line.substring(6).trim().split("\\s+");
                    return Long.parseLong(f[0]) * 1024;
                }
            }
        } catch (IOException | RuntimeException e) {
            // not Linux, or /proc not readable
        }
        return -1;
    }

    /** Process CPU time in nanoseconds (all threads), or -1. */
    static long cpuNanos() {
        java.lang.management.OperatingSystemMXBean os = ManagementFactory.getOperatingSystemMXBean();
        if (os instanceof com.sun.management.OperatingSystemMXBean) {
            return ((com.sun.management.OperatingSystemMXBean) os).getProcessCpuTime();
        }
        return -1;
    }

    /** Open file descriptors, or -1. */
    static long openFds() {
        try (var s = Files.list(Path.of("/proc/self/fd"))) {
            return s.count();
        } catch (IOException | RuntimeException e) {
            return -1;
        }
    }

    /** Soft limit on open files, or -1. */
    static long maxFds() {
        return OpenFileLimit.ofThisProcess().soft();
    }
}
