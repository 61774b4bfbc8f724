package io.jcomet.fidelity;

import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.zip.GZIPInputStream;
import org.junit.jupiter.api.Assumptions;

import static org.junit.jupiter.api.Assertions.fail;

/**
 * icomet's own files (its 0.2.5 source tarball, BSD licensed), read at test time and never copied
 * into this repository. The tarball is looked for in {@code <repo>/../shared/anchors/} (CI clones
 * the repository next to a {@code shared/} copy) or where {@code ICOMET_TARBALL} points.
 * Without it the tests that need it are skipped with a message saying so; under {@code CI=true}
 * they fail instead.
 *
 * <p>Threads: JUnit's; extraction is synchronized and happens once per JVM.
 */
public final class Anchors {
    private static final String TARBALL = "icomet-0.2.5-src.tar.gz";
    private static Path extracted;

    private Anchors() {
    }

    /** The tarball, or null. */
    public static Path tarball() {
        String env = System.getenv("ICOMET_TARBALL");
        Path p = env != null && !env.isBlank() ? Path.of(env)
                : Path.of("").toAbsolutePath().getParent().resolve("shared").resolve("anchors").resolve(TARBALL);
        return Files.isRegularFile(p) ? p : null;
    }

    /** Skips (or under CI=true fails) the calling test when the tarball is absent. */
    public static Path requireTarball() {
        Path t = tarball();
        if (t != null) {
            return t;
        }
        String msg = "icomet's source tarball " + TARBALL + " not found in ../shared/anchors (or ICOMET_TARBALL):"
                + " the tests against icomet's own conf files and demo pages were NOT RUN";
        if ("true".equalsIgnoreCase(System.getenv("CI"))) {
            fail(msg + "; CI=true, so this is a failure");
        }
        System.err.println("[WARN] " + msg);
        Assumptions.abort(msg);
        return null;
    }

    /** The tarball unpacked under target/icomet-src (its top directory stripped), once per JVM. */
    public static synchronized Path sourceTree() throws IOException {
        Path t = requireTarball();
        if (extracted == null) {
            Path dest = Path.of("target", "icomet-src").toAbsolutePath();
            untar(t, dest);
            extracted = dest;
        }
        return extracted;
    }

    /** A minimal ustar/GNU tar reader: regular files and directories, the first path element dropped. */
    private static void untar(Path tgz, Path dest) throws IOException {
        Files.createDirectories(dest);
        try (InputStream in = new GZIPInputStream(Files.newInputStream(tgz), 1 << 16)) {
            byte[] header = new byte[512];
            String longName = null;
            while (in.readNBytes(header, 0, 512) == 512) {
                if (header[0] == 0) {
                    break;
                }
                String name = longName != null ? longName : field(header, 0, 100);
                longName = null;
                String prefix = field(header, 345, 155);
                if (!prefix.isEmpty() && header[257] == 'u') {
                    name = prefix + "/" + name;
                }
                long size = Long.parseLong(field(header, 124, 12).trim().isEmpty() ? "0" : field(header, 124, 12).trim(), 8);
                char type = (char) header[156];
                byte[] data = in.readNBytes((int) size);
                in.readNBytes((int) ((512 - size % 512) % 512));
                if (type == 'L') {
                    longName = new String(data, java.nio.charset.StandardCharsets.UTF_8).replace("\0", "");
                    continue;
                }
                int slash = name.indexOf('/');
                String rel = slash < 0 ? "" : name.substring(slash + 1);
                if (rel.isEmpty() || rel.contains("..")) {
                    continue;
                }
                Path out = dest.resolve(rel).normalize();
                if (!out.startsWith(dest)) {
                    continue;
                }
                if (type == '5') {
                    Files.createDirectories(out);
                } else if (type == '0' || type == 0) {
                    Files.createDirectories(out.getParent());
                    Files.write(out, data);
                }
            }
        }
    }

    private static String field(byte[] h, int off, int len) {
        int end = off;
        while (end < off + len && h[end] != 0) {
            end++;
        }
        return new String(h, off, end - off, java.nio.charset.StandardCharsets.US_ASCII);
    }
}
