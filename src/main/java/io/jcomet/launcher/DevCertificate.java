package io.jcomet.launcher;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * The self-signed development certificate of the https front of the embedded launcher and
 * {@code mvn jetty:run}: a PKCS12 keystore generated ONCE by the JDK's {@code keytool} (an EC P-256
 * key, names localhost and 127.0.0.1) and reused by every later start, so https costs no start-up
 * time after the first. Browsers do not trust it: for development only (docs/DEPLOY.md).
 *
 * <p>Generation writes a uniquely named file next to the target and moves it into place, so two
 * processes starting at once both end with one complete keystore.
 *
 * <p>Threads: any; stateless.
 */
public final class DevCertificate {
    /** Where the launcher and {@code mvn jetty:run} keep it (relative to the project directory). */
    public static final Path DEFAULT = Path.of("target", "dev-tls", "jcomet-dev.p12");
    /** The keystore's (and key's) password; the certificate is self-signed and for development only. */
    public static final String PASSWORD = "jcomet-dev";

    private DevCertificate() {
    }

    /** The keystore at {@code keystore}, generated first when there is none. */
    public static Path ensure(Path keystore) throws IOException {
        if (Files.isRegularFile(keystore)) {
            return keystore;
        }
        Path dir = keystore.toAbsolutePath().getParent();
        Files.createDirectories(dir);
        Path tmp = dir.resolve("." + keystore.getFileName() + "." + ProcessHandle.current().pid() + "." + System.nanoTime());
        String keytool = Path.of(System.getProperty("java.home"), "bin", "keytool").toString();
        List<String> cmd = List.of(keytool, "-genkeypair", "-alias", JettyTuning.TLS_DEV_ALIAS,
                "-keyalg", "EC", "-groupname", "secp256r1", "-dname", "CN=localhost",
                "-ext", "SAN=dns:localhost,ip:127.0.0.1", "-validity", "825",
                "-storetype", "PKCS12", "-keystore", tmp.toString(), "-storepass", PASSWORD);
        Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
        String out;
        try {
            out = new String(p.getInputStream().readAllBytes());
            if (!p.waitFor(60, TimeUnit.SECONDS) || p.exitValue() != 0) {
                throw new IOException("keytool failed to generate " + keystore + ": " + out);
            }
        } catch (InterruptedException e) {
            p.destroyForcibly();
            Thread.currentThread().interrupt();
            throw new IOException("interrupted while generating " + keystore, e);
        }
        try {
            Files.move(tmp, keystore, StandardCopyOption.ATOMIC_MOVE);
        } catch (IOException e) {
            Files.deleteIfExists(tmp);
            if (!Files.isRegularFile(keystore)) {
                throw e;
            }
        }
        System.err.println("jcomet: generated a self-signed development certificate: " + keystore.toAbsolutePath());
        return keystore;
    }

    /** {@code DevCertificate [keystore]}: generates it when missing ({@code mvn jetty:run} runs this first). */
    public static void main(String[] args) throws IOException {
        ensure(args.length > 0 ? Path.of(args[0]) : DEFAULT);
    }
}
