package io.jcomet.bench;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.Map;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;

/** /proc figures of a server process (used with --server-pid), read here for this JVM itself. */
class ProcStatsTest {

    @Test
    void readsRssCpuAndFileLimitsOfAProcess() {
        Assumptions.assumeTrue(Files.isDirectory(Path.of("/proc/self")), "Linux /proc needed");
        long pid = ProcessHandle.current().pid();
        long rss = ProcStats.rssBytes(pid);
        assertTrue(rss > 10 << 20 && rss < 64L << 30, "a JVM's RSS: " + rss);
        // burn a little CPU so that at least one clock tick is accounted
        long end = System.nanoTime() + 50_000_000;
        long x = 0;
        while (System.nanoTime() < end) {
            x += System.nanoTime() % 7;
        }
        assertTrue(x >= 0);
        assertTrue(ProcStats.cpuNanos(pid) > 0);
        assertEquals(Bench.clientMaxFds(), ProcStats.maxFds(pid));
        assertTrue(ProcStats.openFds(pid) > 3);

        Map<String, Object> info = new HashMap<>(Map.of("rss_bytes", -1L, "version", "x"));
        ProcStats.overlay(pid, info);
        assertTrue((Long) info.get("rss_bytes") > 0);
        assertEquals("x", info.get("version"));
        assertEquals("/proc/" + pid, info.get("figures_from"));
    }
}
