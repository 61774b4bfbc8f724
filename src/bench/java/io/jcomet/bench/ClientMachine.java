package io.jcomet.bench;

import java.io.IOException;
import java.lang.management.ManagementFactory;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;

/** What the result records about the client machine and process. Stateless; any thread. */
final class ClientMachine {

    private ClientMachine() {
    }

    static Map<String, Object> describe() {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("cores", Runtime.getRuntime().availableProcessors());
        m.put("ram_bytes", memTotal());
        m.put("os", System.getProperty("os.name") + " " + System.getProperty("os.version"));
        m.put("client_jdk", System.getProperty("java.vm.name") + " " + System.getProperty("java.runtime.version"));
        m.put("client_max_fds", Bench.clientMaxFds());
        m.put("ephemeral_ports", ephemeralPorts());
        return m;
    }

    /** CPU time of this client process (all threads), to show the client was not the bottleneck. */
    static long cpuNanos() {
        java.lang.management.OperatingSystemMXBean os = ManagementFactory.getOperatingSystemMXBean();
        if (os instanceof com.sun.management.OperatingSystemMXBean sun) {
            return sun.getProcessCpuTime();
        }
        return -1;
    }

    private static long memTotal() {
        try {
            for (String l : Files.readAllLines(Path.of("/proc/meminfo"))) {
                if (l.startsWith("MemTotal:")) {
                    return Long.parseLong(l.replaceAll("[^0-9]", "")) * 1024;
                }
            }
        } catch (IOException | RuntimeException ignored) {
            // not Linux
        }
        return -1;
    }

    /** Local ports one source address can use, -1 when unknown. */
    static long ephemeralPorts() {
        try {
            // readAllLines, not readString: some kernels report a bogus size for /proc/sys files
            String[] p = Files.readAllLines(Path.of("/proc/sys/net/ipv4/ip_local_port_range")).get(0).trim()
                    .split("\\s+");
            return Long.parseLong(p[1]) - Long.parseLong(p[0]) + 1;
        } catch (IOException | RuntimeException e) {
            return -1;
        }
    }
}
