package io.jcomet.browser;

import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;

import java.io.File;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.fail;

/**
 * Checks the client's TypeScript declarations (webapp/js/jcomet.d.ts and jcomet.d.mts) with the
 * TypeScript compiler pinned in src/test/ts/package-lock.json: a CommonJS and an ES module usage file
 * are compiled with {@code strict}, then run with node against the real jcomet.js/jcomet.mjs, so a
 * declaration that does not match the runtime fails the build either way.
 *
 * <p>Needs node and npm ({@code JCOMET_NODE}, {@code JCOMET_NPM} override them); {@code npm ci} runs in
 * src/test/ts when the compiler is not installed yet (.ci/run does it up front). Without them the
 * test is skipped with a message, except under {@code CI=true}, where it fails.
 *
 * <p>Threads: only the JUnit thread; every process writes into target/tsc/tsc.log.
 */
class TypeCheckTest {
    static final Path DIR = Path.of("src", "test", "ts");
    static final Path LOG = Path.of("target", "tsc", "tsc.log");

    @Test
    void declarationsMatchCommonJsAndEsModuleUsage() throws Exception {
        String node = System.getenv().getOrDefault("JCOMET_NODE", "node");
        String npm = System.getenv().getOrDefault("JCOMET_NPM", "npm");
        if (!runs(node, "--version")) {
            unavailable("node not found (tried '" + node + "')");
        }
        Files.createDirectories(LOG.getParent());
        Files.deleteIfExists(LOG);
        Path tsc = DIR.resolve(Path.of("node_modules", "typescript", "bin", "tsc"));
        if (!Files.isRegularFile(tsc)) {
            if (!runs(npm, "--version")) {
                unavailable("npm not found (tried '" + npm + "') and src/test/ts/node_modules is empty");
            }
            if (run(DIR.toFile(), 300, npm, "ci", "--no-audit", "--no-fund") != 0) {
                unavailable("`npm ci` in src/test/ts failed (offline?); see " + LOG);
            }
        }
        String[][] steps = {
            {node, tsc.toString(), "-p", DIR.resolve("tsconfig.cjs.json").toString()},
            {node, tsc.toString(), "-p", DIR.resolve("tsconfig.esm.json").toString()},
            {node, Path.of("target", "tsc", "cjs", "out", "usage.js").toString()},
            {node, Path.of("target", "tsc", "esm", "out", "usage.mjs").toString()},
        };
        for (String[] step : steps) {
            if (run(new File("."), 180, step) != 0) {
                fail("`" + String.join(" ", step) + "` failed:\n" + Files.readString(LOG, StandardCharsets.UTF_8));
            }
        }
        System.out.println(Files.readString(LOG, StandardCharsets.UTF_8));
    }

    private static void unavailable(String why) {
        String msg = why + ": the TypeScript declarations in webapp/js were NOT type-checked."
                + " Install Node.js and npm (apt-get install nodejs npm) or set JCOMET_NODE/JCOMET_NPM.";
        if ("true".equalsIgnoreCase(System.getenv("CI"))) {
            fail(msg + " CI=true: failing.");
        }
        System.err.println("[WARN] " + msg);
        Assumptions.abort(msg);
    }

    private static int run(File dir, int seconds, String... cmd) throws IOException, InterruptedException {
        Files.writeString(LOG, "$ " + String.join(" ", cmd) + "\n", StandardCharsets.UTF_8,
                java.nio.file.StandardOpenOption.CREATE, java.nio.file.StandardOpenOption.APPEND);
        Process p = new ProcessBuilder(new ArrayList<>(List.of(cmd))).directory(dir).redirectErrorStream(true)
                .redirectOutput(ProcessBuilder.Redirect.appendTo(LOG.toFile())).start();
        if (!p.waitFor(seconds, TimeUnit.SECONDS)) {
            p.destroyForcibly();
            fail("`" + String.join(" ", cmd) + "` did not finish in " + seconds + " s; see " + LOG);
        }
        return p.exitValue();
    }

    private static boolean runs(String... cmd) {
        try {
            Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
            p.getInputStream().readAllBytes();
            return p.waitFor(30, TimeUnit.SECONDS) && p.exitValue() == 0;
        } catch (IOException e) {
            return false;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return false;
        }
    }
}
