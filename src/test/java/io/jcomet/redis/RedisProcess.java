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
    private Process process;

    private RedisProcess(int port, Path dir, List<String> extra) {
        this.port = port;
        this.dir = dir;
        this.extra = extra;
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

    /**
     * A Redis Cluster of {@code masters} masters and no replicas, made with redis-cli --cluster create
     * as an operator would; waits until every node reports cluster_state:ok.
     */
    public static List<RedisProcess> launchCluster(int masters) throws Exception {
        List<RedisProcess> nodes = new ArrayList<>();
        List<String> create = new ArrayList<>(List.of("redis-cli", "--cluster", "create"));
        try {
            for (int i = 0; i < masters; i++) {
                Path dir = Files.createTempDirectory("jcomet-redis-cluster");
                RedisProcess r = new RedisProcess(freeClusterPort(), dir, List.of("--cluster-enabled", "yes",
                        "--cluster-config-file", dir.resolve("nodes.conf").toString(), "--cluster-node-timeout", "2000"));
                r.start();
                nodes.add(r);
                create.add("127.0.0.1:" + r.port);
            }
            create.addAll(List.of("--cluster-replicas", "0", "--cluster-yes"));
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
        List<String> cmd = new ArrayList<>(List.of("redis-server", "--port", Integer.toString(port), "--bind", "127.0.0.1",
                "--save", "", "--appendonly", "no", "--dir", dir.toString(), "--protected-mode", "no"));
        cmd.addAll(extra);
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
