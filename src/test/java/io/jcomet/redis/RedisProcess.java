package io.jcomet.redis;

import java.io.File;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * A real {@code redis-server} the test starts on a free loopback port (never a system service),
 * without persistence unless asked, so a restart loses the data as a failover without persistence
 * would. Stop and start again on the same port to simulate an outage.
 */
public final class RedisProcess implements AutoCloseable {
    public final int port;
    private final Path dir;
    private final List<String> extra;
    /** Sentinel mode: {@code extra} is the sentinel's configuration, written to a file. */
    private final boolean sentinel;
    private Process process;

    private RedisProcess(int port, Path dir, List<String> extra) {
        this(port, dir, extra, false);
    }

    private RedisProcess(int port, Path dir, List<String> extra, boolean sentinel) {
        this.port = port;
        this.dir = dir;
        this.extra = extra;
        this.sentinel = sentinel;
    }

    public static boolean available() {
        return new File("/usr/bin/redis-server").canExecute() || onPath("redis-server");
    }

    /**
     * Skips the calling test when redis-server is not installed, with a message saying so; under
     * {@code CI=true} fails it instead, so a CI machine without Redis cannot pass by skipping.
     */
    public static void assumeAvailable() {
        if (available()) {
            return;
        }
        String why = "redis-server not installed (.ci/run installs it)";
        if ("true".equalsIgnoreCase(System.getenv("CI"))) {
            throw new AssertionError(why + "; CI=true: the Redis tests must run, not skip");
        }
        org.junit.jupiter.api.Assumptions.abort(why);
    }

    private static boolean onPath(String exe) {
        String path = System.getenv("PATH");
        if (path == null) {
            return false;
        }
        for (String d : path.split(File.pathSeparator)) {
            if (new File(d, exe).canExecute()) {
                return true;
            }
        }
        return false;
    }

    public static RedisProcess launch(String... extraArgs) throws Exception {
        RedisProcess r = new RedisProcess(freePort(), Files.createTempDirectory("jcomet-redis"), List.of(extraArgs));
        r.start();
        return r;
    }

    /** A replica of {@code master} (no persistence), caught up with it when this returns. */
    public static RedisProcess launchReplica(RedisProcess master) throws Exception {
        RedisProcess r = launch("--replicaof", "127.0.0.1", Integer.toString(master.port));
        r.awaitInfo("INFO replication", "master_link_status:up", 10_000);
        return r;
    }

    /**
     * A Sentinel watching {@code master} under the name {@code mymaster}, quorum 1 (it alone decides),
     * the master deemed down after {@code downAfterMillis} without an answer.
     */
    public static RedisProcess launchSentinel(RedisProcess master, int downAfterMillis) throws Exception {
        RedisProcess r = new RedisProcess(freePort(), Files.createTempDirectory("jcomet-sentinel"), List.of(
                "sentinel monitor mymaster 127.0.0.1 " + master.port + " 1",
                "sentinel down-after-milliseconds mymaster " + downAfterMillis,
                "sentinel failover-timeout mymaster 10000",
                "sentinel parallel-syncs mymaster 1"), true);
        r.start();
        return r;
    }

    /** Waits until an INFO-like bulk reply contains {@code text}. */
    public void awaitInfo(String inline, String text, long millis) throws InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(millis);
        while (!info(inline).contains(text)) {
            if (System.nanoTime() > deadline) {
                throw new IllegalStateException("port " + port + ": " + inline + " never contained " + text + ": " + info(inline));
            }
            Thread.sleep(20);
        }
    }

    /** The output of redis-cli with these arguments against this server (any reply type). */
    public String cli(String... args) throws Exception {
        List<String> cmd = new ArrayList<>(List.of("redis-cli", "-p", Integer.toString(port)));
        cmd.addAll(List.of(args));
        Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        if (!p.waitFor(10, TimeUnit.SECONDS)) {
            p.destroyForcibly();
            throw new IllegalStateException("redis-cli " + args[0] + " hung");
        }
        return out;
    }

    /** SIGSTOP: the server freezes with its connections open (a stalled host), until {@link #thaw}. */
    public synchronized void freeze() throws Exception {
        signal("-STOP");
    }

    /** SIGCONT after {@link #freeze}. */
    public synchronized void thaw() throws Exception {
        signal("-CONT");
    }

    private void signal(String sig) throws Exception {
        Process p = new ProcessBuilder("kill", sig, Long.toString(process.pid())).redirectErrorStream(true).start();
        if (!p.waitFor(10, TimeUnit.SECONDS) || p.exitValue() != 0) {
            throw new IllegalStateException("kill " + sig + " " + process.pid() + " failed");
        }
    }

    /**
     * A Redis Cluster of {@code masters} masters and no replicas, made with redis-cli --cluster create
     * as an operator would; waits until every node reports cluster_state:ok.
     */
    public static List<RedisProcess> launchCluster(int masters) throws Exception {
        return launchCluster(masters, 0);
    }

    /**
     * A Redis Cluster of {@code masters} masters with {@code replicas} replicas each (the first
     * {@code masters} processes are the masters); waits until every node reports cluster_state:ok.
     */
    public static List<RedisProcess> launchCluster(int masters, int replicas) throws Exception {
        List<RedisProcess> nodes = new ArrayList<>();
        List<String> create = new ArrayList<>(List.of("redis-cli", "--cluster", "create"));
        try {
            for (int i = 0; i < masters * (1 + replicas); i++) {
                Path dir = Files.createTempDirectory("jcomet-redis-cluster");
                RedisProcess r = new RedisProcess(freeClusterPort(), dir, List.of("--cluster-enabled", "yes",
                        "--cluster-config-file", dir.resolve("nodes.conf").toString(), "--cluster-node-timeout", "2000"));
                r.start();
                nodes.add(r);
                create.add("127.0.0.1:" + r.port);
            }
            create.addAll(List.of("--cluster-replicas", Integer.toString(replicas), "--cluster-yes"));
            Process p = new ProcessBuilder(create).redirectErrorStream(true).start();
            String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
            if (!p.waitFor(30, TimeUnit.SECONDS) || p.exitValue() != 0) {
                throw new IllegalStateException("redis-cli --cluster create failed: " + out);
            }
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
            for (RedisProcess r : nodes) {
                while (!r.info("CLUSTER INFO").contains("cluster_state:ok")) {
                    if (System.nanoTime() > deadline) {
                        throw new IllegalStateException("cluster not ok on port " + r.port + ": " + r.info("CLUSTER INFO"));
                    }
                    Thread.sleep(50);
                }
            }
            // a replica that has not finished its first sync will not take over (its data is too old)
            for (RedisProcess r : nodes) {
                if (r.info("INFO replication").contains("role:slave")) {
                    r.awaitInfo("INFO replication", "master_link_status:up", 20_000);
                }
            }
            return nodes;
        } catch (Exception e) {
            for (RedisProcess r : nodes) {
                r.stop();
            }
            throw e;
        }
    }

    /** A bulk-string reply of one inline command (INFO, CLUSTER INFO), or "" when none. */
    public String info(String inline) {
        try (Socket s = new Socket()) {
            s.connect(new InetSocketAddress("127.0.0.1", port), 500);
            s.setSoTimeout(2000);
            s.getOutputStream().write((inline + "\r\n").getBytes(StandardCharsets.UTF_8));
            java.io.DataInputStream in = new java.io.DataInputStream(s.getInputStream());
            StringBuilder head = new StringBuilder();
            int c;
            while ((c = in.read()) >= 0 && c != '\n') {
                head.append((char) c);
            }
            if (head.length() < 2 || head.charAt(0) != '$') {
                return "";
            }
            int len = Integer.parseInt(head.substring(1).trim());
            byte[] body = new byte[Math.max(0, len)];
            in.readFully(body);
            return new String(body, StandardCharsets.UTF_8);
        } catch (IOException | NumberFormatException e) {
            return "";
        }
    }

    /** A free port whose cluster bus port (+10000) is free too. */
    private static int freeClusterPort() throws IOException {
        for (int tries = 0; tries < 200; tries++) {
            int p = 20000 + new java.util.Random().nextInt(10000);
            if (p >= 18000 && p < 18200) {
                continue;
            }
            if (bindable(p) && bindable(p + 10000)) {
                return p;
            }
        }
        throw new IOException("no free port pair for a cluster node");
    }

    private static boolean bindable(int port) {
        try (ServerSocket s = new ServerSocket(port, 1, java.net.InetAddress.getLoopbackAddress())) {
            return true;
        } catch (IOException e) {
            return false;
        }
    }

    public String uri() {
        return "redis://127.0.0.1:" + port;
    }

    public synchronized void start() throws Exception {
        List<String> cmd;
        if (sentinel) {
            Path conf = dir.resolve("sentinel.conf");
            List<String> lines = new ArrayList<>(List.of("port " + port, "bind 127.0.0.1", "protected-mode no",
                    "dir " + dir));
            lines.addAll(extra);
            Files.write(conf, lines);
            cmd = List.of("redis-server", conf.toString(), "--sentinel");
        } else {
            cmd = new ArrayList<>(List.of("redis-server", "--port", Integer.toString(port), "--bind", "127.0.0.1",
                    "--save", "", "--appendonly", "no", "--dir", dir.toString(), "--protected-mode", "no"));
            cmd.addAll(extra);
        }
        process = new ProcessBuilder(cmd).redirectErrorStream(true)
                .redirectOutput(dir.resolve("redis.log").toFile()).start();
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        while (!"+PONG".equals(command("PING"))) {
            if (System.nanoTime() > deadline || !process.isAlive()) {
                throw new IllegalStateException("redis-server on port " + port + " did not start: "
                        + Files.readString(dir.resolve("redis.log")));
            }
            Thread.sleep(20);
        }
    }

    /** Kills the server (no save) and waits until it is gone. */
    public synchronized void stop() throws InterruptedException {
        if (process != null && process.isAlive()) {
            process.destroyForcibly();
            process.waitFor(10, TimeUnit.SECONDS);
        }
    }

    /** One inline command, answered with the first reply line, or null when the server does not answer. */
    public String command(String inline) {
        try (Socket s = new Socket()) {
            s.connect(new InetSocketAddress("127.0.0.1", port), 500);
            s.setSoTimeout(2000);
            s.getOutputStream().write((inline + "\r\n").getBytes(StandardCharsets.UTF_8));
            StringBuilder b = new StringBuilder();
            int c;
            while ((c = s.getInputStream().read()) >= 0 && c != '\r') {
                b.append((char) c);
            }
            return b.toString();
        } catch (IOException e) {
            return null;
        }
    }

    static int freePort() throws IOException {
        try (ServerSocket s = new ServerSocket(0, 1, java.net.InetAddress.getLoopbackAddress())) {
            return s.getLocalPort();
        }
    }

    @Override
    public void close() throws InterruptedException {
        stop();
    }
}
