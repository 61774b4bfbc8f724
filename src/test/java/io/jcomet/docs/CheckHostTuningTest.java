package io.jcomet.docs;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import org.junit.jupiter.api.Test;

/**
 * bin/check-host-tuning asks for what docs/TUNING.md says, scaled to --connections: for a million,
 * the summary's values satisfy every target and the file limits are the same figures; for 10,000,
 * the accept-queue and port targets shrink (a host with the kernel defaults is not told to raise
 * them).
 */
class CheckHostTuningTest {

    private static final Path BASEDIR = Path.of(System.getProperty("basedir", ".")).toAbsolutePath();

    @Test
    void targetsForAMillionAreTuningMdsSummary() throws Exception {
        String out = run("--connections", "1000000", "--client");
        String tuning = Files.readString(BASEDIR.resolve("docs/TUNING.md"), StandardCharsets.UTF_8);
        assertEquals(summary(tuning, "fs.file-max"), needed(out, "fs.file-max"));
        assertEquals(summary(tuning, "fs.nr_open"), needed(out, "fs.nr_open"));
        assertEquals(1_110_000, needed(out, "nofile soft"), "LimitNOFILE=1110000 in TUNING.md");
        assertTrue(needed(out, "net.core.somaxconn") <= summary(tuning, "net.core.somaxconn"), out);
        assertTrue(needed(out, "net.ipv4.tcp_max_syn_backlog") <= summary(tuning, "net.ipv4.tcp_max_syn_backlog"), out);
        assertEquals(1_048_576, needed(out, "net.ipv4.tcp_mem"), "tcp_mem max in TUNING.md's summary (pages)");
        assertTrue(tuning.contains("net.ipv4.tcp_mem = 524288 786432 1048576"));
        assertEquals(summary(tuning, "net.netfilter.nf_conntrack_max"), needed(out, "net.netfilter.nf_conntrack_max"));
        assertEquals(10_000, needed(out, "ip_local_port_range"), "100 front ports: 10,000 source ports per client IP");
        assertEquals(12_000_000, needed(out, "MemTotal"), "~12 KB per connection (TUNING.md: 7.8 KB JVM + 3.8 KB kernel)");
    }

    @Test
    void targetsScaleDownWithConnections() throws Exception {
        String out = run("--connections", "10000", "--client");
        assertEquals(4096, needed(out, "net.core.somaxconn"), "jetty-base's accept queue, not a million's");
        assertEquals(4096, needed(out, "net.ipv4.tcp_max_syn_backlog"));
        assertEquals(100, needed(out, "ip_local_port_range"), "10,000 over 100 front ports");
        assertEquals(21_000, needed(out, "fs.nr_open"));
    }

    private static long summary(String tuning, String key) {
        Matcher m = Pattern.compile("(?m)^" + Pattern.quote(key) + " = (\\d+)$").matcher(tuning);
        assertTrue(m.find(), key + " in TUNING.md's summary");
        return Long.parseLong(m.group(1));
    }

    /** The "needed" column of the row whose name starts with {@code name}. */
    private static long needed(String out, String name) {
        Matcher m = Pattern.compile("(?m)^" + Pattern.quote(name) + ".*?>= (\\d+)").matcher(out);
        assertTrue(m.find(), "row " + name + " in:\n" + out);
        return Long.parseLong(m.group(1));
    }

    private static String run(String... args) throws Exception {
        String[] cmd = new String[args.length + 1];
        cmd[0] = BASEDIR.resolve("bin/check-host-tuning").toString();
        System.arraycopy(args, 0, cmd, 1, args.length);
        Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertTrue(p.waitFor(30, TimeUnit.SECONDS));
        assertTrue(p.exitValue() == 0 || p.exitValue() == 1, "exit " + p.exitValue() + ":\n" + out);
        return out;
    }
}
