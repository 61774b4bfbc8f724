package io.jcomet.docs;

import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;

import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.TestFactory;

/**
 * The documented path, executed: every shell block of every markdown file in the repository
 * (README.md, docs/, webapp/js/README.md, ...) is run as a reader would type it, against the server
 * the doc told the reader to start, and the output the doc shows is compared with what came out.
 * A doc edit that breaks a command, or a change of behaviour the doc does not follow, fails the
 * build here, naming file, line, command, expected and actual output.
 *
 * <p>How (see {@link DocBlocks} for what counts as a command and as shown output, and
 * {@link OutputMatch} for the placeholders):
 * <ul>
 *   <li>One test per markdown file; its blocks run in order, like a reader going down the page,
 *       so a later block sees what an earlier one published. Each file starts from fresh servers.</li>
 *   <li>A command that starts a server ({@code mvn jetty:run}, {@code bin/jetty-dist},
 *       {@code bin/tomcat-dist}, the embedded launcher's {@code mvn -q compile exec:java}) starts it
 *       on free ports ({@link DocServer}), and any line the doc shows for it must appear in what the
 *       server printed; the following commands
 *       of the file run against it. Commands before any server command run against
 *       {@code mvn jetty:run}'s equivalent, the README's development server (started only when a command
 *       names a port). {@code mvn verify} is
 *       the build this check runs in.</li>
 *   <li>Ports in commands and shown outputs are rewritten to the ones the server got: a
 *       {@code :PORT} whose four positions are digits or character classes ({@code :8000},
 *       {@code :8199}, a grep pattern {@code ':81[0-9][0-9]'}) becomes the ports it stands for.</li>
 *   <li>Each command runs in {@code bash -c} in the repository root. One that has not finished
 *       after {@link #HOLD_MILLIS} is left running, as a reader leaves a held long-poll or a stream
 *       in a terminal, and the next command runs; at the end of the block each is given up to
 *       {@link #DRAIN_MILLIS} to finish or to print the lines the doc shows (a {@code curl -N} stream
 *       with no output shown is not waited for), then stopped. Whether
 *       a held request is answered before or after the push does not change its answer: the
 *       channel buffers messages by seq.</li>
 *   <li>A command fails when it exits with a status the block does not allow (0, or the
 *       {@code exit} directive's), when its output does not match the shown output, or when it
 *       prints an icomet error answer ({@code "type":"error"}, {@code "type":"4xx"}) or gets an HTTP
 *       status of 400 or more (curl is given a CURL_HOME whose .curlrc reports each status on the
 *       error output and hides the progress meter) that the doc does not show.</li>
 *   <li>A block that cannot run here (root, sysctl, the real million, minutes-long load tests) is
 *       marked in the markdown with {@code <!-- docs-check: skip (reason) -->}; the skips are
 *       printed with their reasons.</li>
 * </ul>
 * Needs bash, curl and ss (iproute2) besides the JDK; .ci/run installs them.
 *
 * <p>Threads: the JUnit thread runs everything; commands are child processes whose output goes to
 * files under target/docs-check.
 */
class DocsCommandsIT {

    static final long HOLD_MILLIS = 2_000;
    static final long DRAIN_MILLIS = 15_000;
    private static final Path OUT = DocServer.BASEDIR.resolve("target/docs-check");
    private static final Pattern PORT = Pattern.compile(":((?:\\d|\\[[0-9-]+\\]){4})(?![\\d\\[])");
    private static final Pattern ERROR_ANSWER = Pattern.compile("\"type\"\\s*:\\s*\"(error|4\\d\\d)\"");
    /**
     * curl's configuration for the commands (CURL_HOME): no progress meter in the error output, and
     * each transfer's HTTP status written to the error output, where the check reads it; the
     * output the doc shows (stdout) is untouched.
     */
    private static final String CURLRC = "silent\nshow-error\nwrite-out = \"%{stderr}" + "docs-check: HTTP %{http_code}\\n\"\n";
    private static final Pattern STREAM = Pattern.compile("\\bcurl\\b.*\\s(-N|--no-buffer)\\b");
    private static final Pattern HTTP_STATUS = Pattern.compile("docs-check: HTTP (\\d{3})");

    @TestFactory
    Stream<DynamicTest> everyShellBlockInTheDocsRunsAsWritten() throws IOException {
        List<Path> docs;
        try (Stream<Path> walk = Files.walk(DocServer.BASEDIR)) {
            docs = walk.filter(p -> p.toString().endsWith(".md"))
                    .filter(p -> {
                        String rel = DocServer.BASEDIR.relativize(p).toString();
                        return !rel.startsWith("target/") && !rel.startsWith(".") && !rel.contains("node_modules/");
                    })
                    .sorted().toList();
        }
        assertTrue(docs.stream().anyMatch(p -> p.endsWith("README.md")), "README.md found under " + DocServer.BASEDIR);
        return docs.stream().map(p -> {
            String rel = DocServer.BASEDIR.relativize(p).toString();
            return DynamicTest.dynamicTest(rel, () -> runFile(p, rel));
        });
    }

    private void runFile(Path doc, String rel) throws Exception {
        List<DocBlocks.Block> blocks = DocBlocks.parse(doc, rel);
        Path logDir = OUT.resolve(rel.replace('/', '_'));
        Files.createDirectories(logDir);
        List<String> failures = new ArrayList<>();
        int ran = 0;
        DocServer server = null;
        try {
            blocks:
            for (DocBlocks.Block block : blocks) {
                failures.addAll(block.problems());
                if (block.skipped()) {
                    System.out.printf("docs-check %s:%d: skipped (%s)%n", block.file(), block.line(), block.skipReason());
                    continue;
                }
                List<Path> fixtures = new ArrayList<>();
                for (Map.Entry<String, String> f : block.files().entrySet()) {
                    Path file = DocServer.BASEDIR.resolve(f.getKey());
                    if (!Files.exists(file)) {
                        Files.writeString(file, f.getValue(), StandardCharsets.UTF_8);
                        fixtures.add(file);
                    }
                }
                for (String w : block.writes()) {
                    Path file = DocServer.BASEDIR.resolve(w);
                    if (!Files.exists(file)) {
                        fixtures.add(file); // the reader's file: removed after the run, the checkout stays clean
                    }
                }
                List<Running> running = new ArrayList<>();
                try {
                    for (DocBlocks.Command c : block.commands()) {
                        String kind = DocServer.kind(c.text());
                        if (kind != null) {
                            if (server != null) {
                                DocServer previous = server;
                                server = null;
                                close(previous, rel);
                            }
                            server = startOrReport(c.text(), c, logDir, failures);
                            if (server == null) {
                                break blocks; // the rest of the page runs against it
                            }
                            System.out.printf("docs-check %s: `%s` -> %s%n", c.where(), c.text(), server.describe());
                            String missing = serverOutputMissing(server, c);
                            if (missing != null) {
                                failures.add(c.where() + ": the server did not print what the doc shows\n"
                                        + "  command:  " + c.text() + "\n  server:   " + server.describe() + "\n"
                                        + "  expected: " + missing + "\n  got:      "
                                        + String.join("\n            ", server.output().strip().lines().limit(15).toList())
                                        + "\n            (first 15 lines; all of it: the server's log)");
                            }
                            ran++;
                            continue;
                        }
                        if (c.text().strip().equals("mvn verify")) {
                            System.out.printf("docs-check %s: `mvn verify` is the build running this check%n", c.where());
                            ran++;
                            continue;
                        }
                        if (server == null && PORT.matcher(c.text()).find()) {
                            server = startOrReport("mvn jetty:run", c, logDir, failures);
                            if (server == null) {
                                break blocks;
                            }
                            System.out.printf("docs-check %s: no server named before this command: %s%n", c.where(),
                                    server.describe());
                        }
                        Map<Integer, Integer> ports = server == null ? Map.of() : server.ports;
                        running.add(Running.start(c, rewrite(c.text(), ports),
                                c.expected().stream().map(e -> rewrite(e, ports)).toList(),
                                logDir.resolve(ran + ".out"), logDir.resolve(ran + ".err")));
                        ran++;
                        Running r = running.get(running.size() - 1);
                        r.process.waitFor(HOLD_MILLIS, TimeUnit.MILLISECONDS);
                    }
                    long deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(DRAIN_MILLIS);
                    for (Running r : running) {
                        while (r.process.isAlive() && !r.enoughSeen() && System.nanoTime() < deadline) {
                            Thread.sleep(50);
                        }
                    }
                    for (Running r : running) {
                        String problem = r.finish(block.okExits());
                        if (problem != null) {
                            failures.add(r.report(problem, server == null ? "?" : server.describe()));
                        }
                    }
                } finally {
                    running.forEach(Running::kill);
                    for (Path f : fixtures) {
                        Files.deleteIfExists(f);
                    }
                }
            }
        } finally {
            if (server != null) {
                close(server, rel);
            }
        }
        System.out.printf("docs-check %s: %d command(s) run, %d failure(s)%n", rel, ran, failures.size());
        if (!failures.isEmpty()) {
            throw new AssertionError(failures.size() + " documented command(s) in " + rel + " do not behave as written:\n\n"
                    + String.join("\n\n", failures));
        }
    }

    /**
     * Stops a server; a stop that fails (the embedded server's graceful stop times out while a
     * {@code /psub} stream whose client is gone is still open) is logged, not thrown: it is not the
     * docs' fault, and it must not hide the failures collected for the page.
     */
    private static void close(DocServer server, String rel) {
        try {
            server.close();
        } catch (Exception e) {
            System.out.printf("docs-check %s: stopping %s: %s%n", rel, server.name, e);
        }
    }

    /** The first line the doc shows for a server command that the server's output lacks, or null. */
    private static String serverOutputMissing(DocServer server, DocBlocks.Command c) throws InterruptedException {
        for (String shown : c.expected()) {
            String want = rewrite(shown, server.ports);
            long deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(DRAIN_MILLIS);
            while (server.output().lines().noneMatch(l -> OutputMatch.mismatch(want, l) == null)) {
                if (System.nanoTime() > deadline) {
                    return want;
                }
                Thread.sleep(50);
            }
        }
        return null;
    }

    /** Starts the server a command names; on failure adds the reason (with the doc's line) and returns null. */
    private static DocServer startOrReport(String serverCommand, DocBlocks.Command at, Path logDir, List<String> failures) {
        try {
            return DocServer.start(serverCommand, logDir);
        } catch (Exception | AssertionError e) {
            failures.add(at.where() + ": the server for `" + at.text() + "` (" + serverCommand + ") did not start, so the rest"
                    + " of the page was not run:\n  " + e.toString().replace("\n", "\n  "));
            return null;
        }
    }

    /**
     * The command with every {@code :PORT} the doc shows replaced by the port(s) the server got;
     * a pattern that stands for several ports becomes a grep alternation {@code :\(p1\|p2\)}.
     * Ports the server has no counterpart for stay as written (and fail visibly).
     */
    static String rewrite(String text, Map<Integer, Integer> ports) {
        Matcher m = PORT.matcher(text);
        StringBuilder out = new StringBuilder();
        while (m.find()) {
            Pattern stands = Pattern.compile(m.group(1));
            List<Integer> mapped = ports.entrySet().stream()
                    .filter(e -> stands.matcher(String.valueOf(e.getKey())).matches())
                    .map(Map.Entry::getValue).toList();
            String replacement;
            if (mapped.isEmpty()) {
                replacement = m.group();
            } else if (mapped.size() == 1) {
                replacement = ":" + mapped.get(0);
            } else {
                StringBuilder alt = new StringBuilder(":\\(");
                for (int i = 0; i < mapped.size(); i++) {
                    alt.append(i == 0 ? "" : "\\|").append(mapped.get(i));
                }
                replacement = alt.append("\\)").toString();
            }
            m.appendReplacement(out, Matcher.quoteReplacement(replacement));
        }
        m.appendTail(out);
        return out.toString();
    }

    /** One command's process and what it printed. */
    static final class Running {
        final DocBlocks.Command command;
        final String ran;
        final List<String> expected;
        final Process process;
        final Path out;
        final Path err;

        private Running(DocBlocks.Command command, String ran, List<String> expected, Process process, Path out, Path err) {
            this.command = command;
            this.ran = ran;
            this.expected = expected;
            this.process = process;
            this.out = out;
            this.err = err;
        }

        static Running start(DocBlocks.Command c, String ran, List<String> expected, Path out, Path err) throws IOException {
            ProcessBuilder pb = new ProcessBuilder("bash", "-c", ran)
                    .directory(DocServer.BASEDIR.toFile())
                    .redirectOutput(out.toFile()).redirectError(err.toFile())
                    .redirectInput(ProcessBuilder.Redirect.from(new java.io.File("/dev/null")));
            pb.environment().put("JAVA_HOME", System.getProperty("java.home"));
            Path curlHome = OUT.resolve("curl-home");
            Files.createDirectories(curlHome);
            Files.writeString(curlHome.resolve(".curlrc"), CURLRC, StandardCharsets.UTF_8);
            pb.environment().put("CURL_HOME", curlHome.toString());
            return new Running(c, ran, expected, pb.start(), out, err);
        }

        List<String> lines() {
            try {
                List<String> l = new ArrayList<>(List.of(Files.readString(out, StandardCharsets.UTF_8).split("\n", -1)));
                while (!l.isEmpty() && l.get(l.size() - 1).isBlank()) {
                    l.remove(l.size() - 1);
                }
                return l;
            } catch (IOException e) {
                return List.of();
            }
        }

        /**
         * True when waiting longer for this still-running command is pointless: it printed every line
         * the doc shows, or it is a stream the doc leaves open ({@code curl -N}, no output shown). A
         * command with nothing shown that is not a stream is waited for, so its exit status and
         * HTTP status are checked even when the machine is slow.
         */
        boolean enoughSeen() {
            if (expected.isEmpty()) {
                return STREAM.matcher(ran).find();
            }
            return lines().size() >= expected.size();
        }

        /** Stops it if still running; null when it behaved as the doc says, else the problem. */
        String finish(List<Integer> okExits) throws InterruptedException {
            boolean held = process.isAlive();
            kill();
            List<String> got = lines();
            if (!held && !okExits.contains(process.exitValue())) {
                return "exit status " + process.exitValue() + " (allowed: " + okExits + ")";
            }
            if (expected.isEmpty()) {
                for (String line : got) {
                    if (ERROR_ANSWER.matcher(line).find()) {
                        return "an error answer the doc does not show";
                    }
                }
                Matcher status = HTTP_STATUS.matcher(stderr());
                while (status.find()) {
                    if (Integer.parseInt(status.group(1)) >= 400) {
                        return "HTTP " + status.group(1) + ", and the doc shows no output for it";
                    }
                }
                return null;
            }
            if (got.size() < expected.size() || (!held && got.size() > expected.size())) {
                return got.size() + " line(s) of output, the doc shows " + expected.size()
                        + (held ? " (still running after " + DRAIN_MILLIS / 1000 + " s, stopped)" : "");
            }
            for (int i = 0; i < expected.size(); i++) {
                String d = OutputMatch.mismatch(expected.get(i), got.get(i));
                if (d != null) {
                    return "output line " + (i + 1) + ": " + d;
                }
            }
            return null;
        }

        void kill() {
            process.descendants().forEach(ProcessHandle::destroy);
            process.destroy();
            try {
                if (!process.waitFor(5, TimeUnit.SECONDS)) {
                    process.descendants().forEach(ProcessHandle::destroyForcibly);
                    process.destroyForcibly();
                }
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }

        String stderr() {
            try {
                return Files.readString(err, StandardCharsets.UTF_8);
            } catch (IOException e) {
                return "";
            }
        }

        String report(String problem, String server) {
            String stderr = stderr().strip();
            if (stderr.length() > 600) {
                stderr = "..." + stderr.substring(stderr.length() - 600);
            }
            return command.where() + ": " + problem + "\n"
                    + "  command:  " + command.text() + "\n"
                    + (ran.equals(command.text()) ? "" : "  ran:      " + (ran.length() > 300 ? ran.substring(0, 300) + "..." : ran) + "\n")
                    + "  server:   " + server + "\n"
                    + "  expected: " + (expected.isEmpty() ? "(no output shown)" : String.join("\n            ", expected)) + "\n"
                    + "  got:      " + String.join("\n            ", lines()) + "\n"
                    + (stderr.isEmpty() ? "" : "  stderr:   " + stderr.replace("\n", "\n            "));
        }
    }
}
