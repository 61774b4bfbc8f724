package io.jcomet.launcher;

import io.jcomet.config.ConfigException;
import io.jcomet.config.ConfigSources;
import io.jcomet.config.JcometConfig;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;

/**
 * Command-line launcher: {@code Main [--host H] [--front-host H] [--admin-port N] [--front-port N]
 * [--front-count N] [--tls | --tls-port N] [--tls-keystore P12 --tls-password P [--tls-alias A]]
 * [key=value ...]} where key=value are jcomet settings. Port 0 picks a free
 * port. Prints where it listens, warns when the open-file limit is too low for the configured
 * capacity, and runs until killed (Jetty's shutdown hook stops the web app cleanly).
 */
public final class Main {
    private Main() {}

    /** Jetty's log level unless the caller chose one: WARN, so the start shows jcomet's lines, not ~110 of Jetty's. */
    static final String JETTY_LEVEL = "org.eclipse.jetty.LEVEL";

    public static void main(String[] args) throws Exception {
        quietJetty(System.getProperties());
        EmbeddedJcomet.Builder b;
        try {
            b = builder(args, System.getenv(), System.getProperties());
        } catch (ConfigException | IllegalArgumentException e) {
            System.err.println("jcomet: " + e.getMessage());
            System.exit(2);
            return;
        }
        if (b == null) {
            return; // --help
        }
        EmbeddedJcomet s = b.start();
        Runtime.getRuntime().addShutdownHook(new Thread(s::stop, "jcomet-shutdown"));
        List<Integer> fronts = s.frontPorts();
        System.out.println("jcomet admin=http://" + s.host() + ":" + s.adminPort()
                + " front=http://" + s.host() + ":" + fronts.get(0)
                + (fronts.size() > 1 ? " .. :" + fronts.get(fronts.size() - 1) + " (" + fronts.size() + " ports)" : "")
                + (s.tlsPort() >= 0 ? " https=https://" + s.host() + ":" + s.tlsPort() + " (h2, http/1.1)" : ""));
        Thread.currentThread().join();
    }

    /**
     * Sets Jetty's log level to WARN unless {@code -Dorg.eclipse.jetty.LEVEL} names one (INFO brings
     * back Jetty's start-up lines, one per connector; DEBUG for more). jcomet's own lines (java.util.logging,
     * INFO) are not affected. Must run before Jetty's first logger: Jetty reads the level once.
     */
    static void quietJetty(Properties sys) {
        if (sys.getProperty(JETTY_LEVEL) == null) {
            sys.setProperty(JETTY_LEVEL, "WARN");
        }
    }

    /**
     * The launcher's options: the connectors come from the same sources as every other setting
     * (jcomet.properties, {@code JCOMET_*}, {@code -Djcomet.*}), with the command line on top.
     * Null for --help.
     *
     * @throws ConfigException for an invalid setting, including an admin_port among the front ports
     * @throws IllegalArgumentException for an unknown argument
     */
    static EmbeddedJcomet.Builder builder(String[] args, Map<String, String> env, Properties sys) {
        EmbeddedJcomet.Builder b = EmbeddedJcomet.builder();
        Map<String, String> raw = new LinkedHashMap<>(ConfigSources.load(n -> null, List.of(), env, sys).values());
        java.nio.file.Path tlsKeyStore = null;
        String tlsPassword = null;
        String tlsAlias = null;
        for (int i = 0; i < args.length; i++) {
            String a = args[i];
            switch (a) {
                case "--host": raw.put("admin_host", args[++i]); break;
                case "--front-host": raw.put("front_host", args[++i]); break;
                case "--admin-port": raw.put("admin_port", args[++i]); break;
                case "--front-port": raw.put("front_port", args[++i]); break;
                case "--front-count": raw.put("front_count", args[++i]); break;
                case "--webapp": b.webappDir(args[++i]); break;
                case "--idle-timeout": b.idleTimeout(Long.parseLong(args[++i])); break;
                case "--tls": b.tlsPort(JettyTuning.TLS_PORT); break;
                case "--tls-port": b.tlsPort(Integer.parseInt(args[++i])); break;
                case "--tls-keystore": tlsKeyStore = java.nio.file.Path.of(args[++i]); break;
                case "--tls-password": tlsPassword = args[++i]; break;
                case "--tls-alias": tlsAlias = args[++i]; break;
                case "-h": case "--help":
                    System.out.println("usage: Main [--host H] [--front-host H] [--admin-port N] [--front-port N] [--front-count N] [--webapp DIR] [--idle-timeout MS]"
                            + " [--tls | --tls-port N] [--tls-keystore P12 --tls-password P [--tls-alias A]] [key=value ...]");
                    System.out.println("--tls: https front (h2 + http/1.1) on " + JettyTuning.TLS_PORT
                            + "; without --tls-keystore it serves a generated self-signed development certificate ("
                            + DevCertificate.DEFAULT + ")");
                    System.out.println("settings: " + JcometConfig.KEYS.keySet());
                    return null;
                default:
                    int eq = a.indexOf('=');
                    if (eq <= 0) {
                        throw new IllegalArgumentException("unknown argument: " + a + " (try --help)");
                    }
                    raw.put(a.substring(0, eq), a.substring(eq + 1));
            }
        }
        if (tlsKeyStore != null) {
            if (tlsPassword == null) {
                throw new IllegalArgumentException("--tls-keystore needs --tls-password");
            }
            b.tlsKeyStore(tlsKeyStore, tlsPassword, tlsAlias);
        }
        JcometConfig config = JcometConfig.from(raw); // refuses, among others, an admin_port that is a front port
        raw.forEach(b::set);
        b.host(config.adminHost()).frontHost(config.frontHost()).adminPort(config.adminPort())
                .frontPorts(config.frontPort(), config.frontCount());
        warnOnFileLimit(config.maxChannels());
        return b;
    }

    /** Warns when the open-file limit is below what the effective max_channels needs (docs/TUNING.md). */
    static void warnOnFileLimit(int maxChannels) {
        String warning = OpenFiles.warning(io.jcomet.os.OpenFileLimit.ofThisProcess().soft(), maxChannels);
        if (warning != null) {
            System.err.println(warning);
        }
    }
}
