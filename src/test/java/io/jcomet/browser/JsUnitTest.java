package io.jcomet.browser;

import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

/**
 * Runs the JavaScript client's unit tests ({@code node --test src/test/js}) as part of
 * {@code mvn test}, so that one command runs everything. Node 18.15+ is needed (built-in test runner
 * with reporters; Debian 12's nodejs is 18.20, checked);
 * {@code NODE_BIN} overrides the executable. Without Node the test is skipped with a message,
 * except under {@code CI=true}, where a missing Node fails the build.
 *
 * <p>Threads: only the JUnit thread; node writes straight into target/node-test.log (spec
 * reporter) and target/node-test-results.xml (JUnit XML), so it never blocks on a pipe.
 */
class JsUnitTest {

    @Test
    void nodeTestSuitePasses() throws Exception {
        String node = System.getenv().getOrDefault("NODE_BIN", "node");
        String version = nodeVersion(node);
        if (version == null) {
            String msg = "node not found (tried '" + node + "'): JavaScript unit tests in src/test/js NOT RUN."
                    + " Install Node.js 18.15+ (apt-get install nodejs) or set NODE_BIN.";
            if ("true".equalsIgnoreCase(System.getenv("CI"))) fail(msg + " CI=true: failing.");
            System.err.println("[WARN] " + msg);
            Assumptions.abort(msg);
        }
        int major = Integer.parseInt(version.replaceFirst("^v(\\d+).*$", "$1"));
        if (major < 18) {
            String msg = "node " + version + " is too old for `node --test` with reporters (need 18.15+)";
            if ("true".equalsIgnoreCase(System.getenv("CI"))) fail(msg);
            Assumptions.abort(msg);
        }

        Path log = Path.of("target", "node-test.log");
        Files.createDirectories(log.getParent());
        ProcessBuilder pb = new ProcessBuilder(List.of(node, "--test",
                "--test-reporter=spec", "--test-reporter-destination=stdout",
                "--test-reporter=junit", "--test-reporter-destination=target/node-test-results.xml",
                "src/test/js"))
                .redirectErrorStream(true)
                .redirectOutput(log.toFile());
        Process p = pb.start();
        if (!p.waitFor(600, TimeUnit.SECONDS)) { // the 100,000-client fleet simulation takes a while on a busy machine
            p.destroyForcibly();
            fail("node --test did not finish in 600 s; output so far in " + log);
        }
        String out = Files.readString(log, StandardCharsets.UTF_8);
        System.out.println(out);
        assertEquals(0, p.exitValue(), "node --test src/test/js failed (see " + log + "):\n" + out);
        assertTrue(out.contains("pass"), "no test results from node:\n" + out);
    }

    private static String nodeVersion(String node) {
        try {
            Process p = new ProcessBuilder(node, "--version").redirectErrorStream(true).start();
            String v = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8).trim();
            if (!p.waitFor(20, TimeUnit.SECONDS) || p.exitValue() != 0 || !v.startsWith("v")) return null;
            return v;
        } catch (IOException e) {
            return null;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return null;
        }
    }
}
