package io.jcomet.deploy;

import java.io.IOException;
import java.net.ConnectException;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;

/**
 * A container (jetty-home via bin/jetty-dist, Tomcat via bin/tomcat-dist) run as a separate process
 * tree by an integration test, and everything needed to stop ALL of it: with jetty-base's
 * {@code --exec}, start.jar forks the real server JVM as a child that holds the sockets, so stopping
 * means SIGTERM to the descendants first (the server shuts down cleanly), then the launcher, then
 * SIGKILL for anything left after a deadline. A JVM shutdown hook does the same if the test JVM
 * exits without calling {@link #stop} (Ctrl+C on {@code mvn verify}, a crash).
 *
 * <p>Output (stdout + stderr) goes to a log file under target/, read back for diagnostics.
 *
 * <p>Threads: created, polled and stopped by the test thread; the shutdown hook thread only calls
 * {@link #kill}, which is idempotent.
 */
public final class ServerProcess implements AutoCloseable {

    /** Log lines after which waiting is pointless: the web app did not start. */
    private static final List<String> FATAL = List.of(
            "startup failed due to previous errors",   // Tomcat: the context failed, the server runs on
            "Failed startup of context",                // Jetty
            "jcomet: unknown configuration key",
            "invalid configuration:");

    private final String name;
    private final Process process;
    private final Path log;
    private final Thread hook;
    /** Descendants seen while running; the server child may outlive its launcher's handle. */
    private final List<ProcessHandle> seen = new ArrayList<>();

    private ServerProcess(String name, Process process, Path log) {
        this.name = name;
        this.process = process;
        this.log = log;
        this.hook = new Thread(this::kill, "stop-" + name);
        Runtime.getRuntime().addShutdownHook(hook);
    }

    public static ServerProcess start(String name, List<String> command, Map<String, String> env, Path log)
            throws IOException {
        Files.createDirectories(log.getParent());
        ProcessBuilder pb = new ProcessBuilder(command)
                .directory(Path.of(System.getProperty("basedir", ".")).toFile())
                .redirectErrorStream(true)
                .redirectOutput(log.toFile())
                .redirectInput(ProcessBuilder.Redirect.from(new java.io.File("/dev/null")));
        pb.environment().putAll(env);
        return new ServerProcess(name, pb.start(), log);
    }

    public ProcessHandle handle() {
        return process.toHandle();
    }

    /** All live descendants now (also remembered for {@link #kill}). */
    List<ProcessHandle> descendants() {
        List<ProcessHandle> now = process.descendants().filter(ProcessHandle::isAlive).toList();
        synchronized (seen) {
            for (ProcessHandle h : now) {
                if (!seen.contains(h)) {
                    seen.add(h);
                }
            }
        }
        return now;
    }

    public boolean isAlive() {
        return process.isAlive();
    }

    public Path log() {
        return log;
    }

    /** The last {@code lines} lines of the log, for assertion messages. */
    public String tail(int lines) {
        try {
            List<String> all = Files.readAllLines(log, StandardCharsets.UTF_8);
            return String.join("\n", all.subList(Math.max(0, all.size() - lines), all.size()));
        } catch (IOException e) {
            return "(no log: " + e + ")";
        }
    }

    public String logText() {
        try {
            return Files.readString(log, StandardCharsets.UTF_8);
        } catch (IOException e) {
            return "";
        }
    }

    /**
     * Polls {@code condition} until it holds or the deadline passes; fails fast when the process has
     * died. Returns normally only when the condition held.
     */
    public void await(String what, Duration timeout, BooleanSupplier condition) throws InterruptedException {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (true) {
            descendants();
            if (condition.getAsBoolean()) {
                return;
            }
            String fatal = FATAL.stream().filter(logText()::contains).findFirst().orElse(null);
            if (fatal != null) {
                throw new AssertionError(name + " logged \"" + fatal + "\" before " + what + "; log " + log
                        + ":\n" + tail(40));
            }
            if (!process.isAlive()) {
                throw new AssertionError(name + " exited (" + process.exitValue() + ") before " + what
                        + "; log " + log + ":\n" + tail(40));
            }
            if (System.nanoTime() > deadline) {
                throw new AssertionError(name + ": no " + what + " within " + timeout + "; log " + log
                        + ":\n" + tail(40));
            }
            Thread.sleep(100);
        }
    }

    /** Result of a graceful stop. */
    public record Stopped(boolean graceful, Optional<Integer> launcherExit, List<Long> serverPids) {
    }

    /**
     * SIGTERM to the descendants (the server JVM under start.jar --exec), wait for them, then the
     * launcher; SIGKILL whatever is left when {@code timeout} runs out. {@code graceful} is true when
     * nothing had to be killed.
     */
    public Stopped stop(Duration timeout) throws InterruptedException {
        long deadline = System.nanoTime() + timeout.toNanos();
        List<ProcessHandle> kids = descendants();
        List<Long> pids = kids.stream().map(ProcessHandle::pid).toList();
        kids.forEach(ProcessHandle::destroy);
        for (ProcessHandle k : kids) {
            waitFor(k, deadline);
        }
        if (process.isAlive()) {
            // the launcher normally exits by itself once its child is gone; a plain Tomcat has no child
            if (!process.waitFor(kids.isEmpty() ? 0 : 2000, TimeUnit.MILLISECONDS)) {
                process.destroy();
            }
        }
        // Process.waitFor, not the handle: the handle reports the OS process gone a moment before
        // Process.isAlive() does (the exit status is reaped by another thread), which made a clean
        // stop look like one that needed SIGKILL
        process.waitFor(Math.max(0, deadline - System.nanoTime()), TimeUnit.NANOSECONDS);
        boolean graceful = !process.isAlive() && kids.stream().noneMatch(ProcessHandle::isAlive);
        kill();
        try {
            Runtime.getRuntime().removeShutdownHook(hook);
        } catch (IllegalStateException shuttingDown) {
            // already running hooks: kill() above has done the work
        }
        return new Stopped(graceful, process.isAlive() ? Optional.empty() : Optional.of(process.exitValue()), pids);
    }

    private static void waitFor(ProcessHandle h, long deadline) throws InterruptedException {
        while (h.isAlive() && System.nanoTime() < deadline) {
            Thread.sleep(50);
        }
    }

    /** SIGKILL the whole tree, remembered descendants included. Idempotent. */
    public void kill() {
        List<ProcessHandle> all = new ArrayList<>();
        try {
            process.descendants().forEach(all::add);
        } catch (RuntimeException ignored) {
            // process gone
        }
        synchronized (seen) {
            all.addAll(seen);
        }
        all.forEach(ProcessHandle::destroyForcibly);
        process.destroyForcibly();
    }

    @Override
    public void close() throws InterruptedException {
        if (process.isAlive() || descendants().size() > 0) {
            stop(Duration.ofSeconds(15));
        }
    }

    /** True when nothing accepts TCP connections on 127.0.0.1:port any more. */
    static boolean refused(int port) {
        try (Socket s = new Socket()) {
            s.connect(new InetSocketAddress("127.0.0.1", port), 500);
            return false;
        } catch (ConnectException e) {
            return true;
        } catch (IOException e) {
            return false;
        }
    }
}
