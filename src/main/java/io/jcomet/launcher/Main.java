package io.jcomet.launcher;

import io.jcomet.config.ConfigException;
import io.jcomet.config.ConfigSources;
import io.jcomet.config.JcometConfig;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Command-line launcher: {@code Main [--host H] [--front-host H] [--admin-port N] [--front-port N]
 * [--front-count N] [key=value ...]} where key=value are jcomet settings. Port 0 picks a free
 * port. Prints where it listens, warns when the open-file limit is too low for the configured
 * capacity, and runs until killed (Jetty's shutdown hook stops the web app cleanly).
 */
public final class Main {
    private Main() {}

    public static void main(String[] args) throws Exception {
        JcometConfig defaults = JcometConfig.defaults();
        EmbeddedJcomet.Builder b = EmbeddedJcomet.builder()
                .host(defaults.adminHost())
                .frontHost(defaults.frontHost())
                .adminPort(defaults.adminPort());
        int frontPort = defaults.frontPort();
        int frontCount = defaults.frontCount();
        Map<String, String> settings = new LinkedHashMap<>(); // as init parameters jcomet.<key>
        for (int i = 0; i < args.length; i++) {
            String a = args[i];
            switch (a) {
                case "--host": b.host(args[++i]); break;
                case "--front-host": b.frontHost(args[++i]); break;
                case "--admin-port": b.adminPort(Integer.parseInt(args[++i])); break;
                case "--front-port": frontPort = Integer.parseInt(args[++i]); break;
                case "--front-count": frontCount = Integer.parseInt(args[++i]); break;
                case "--webapp": b.webappDir(args[++i]); break;
                case "--idle-timeout": b.idleTimeout(Long.parseLong(args[++i])); break;
                case "-h": case "--help":
                    System.out.println("usage: Main [--host H] [--front-host H] [--admin-port N] [--front-port N] [--front-count N] [--webapp DIR] [--idle-timeout MS] [key=value ...]");
                    System.out.println("settings: " + JcometConfig.KEYS.keySet());
                    return;
                default:
                    int eq = a.indexOf('=');
                    if (eq <= 0) {
                        System.err.println("unknown argument: " + a + " (try --help)");
                        System.exit(2);
                    }
                    String key = a.substring(0, eq);
                    b.set(key, a.substring(eq + 1));
                    settings.put(ConfigSources.PREFIX + key, a.substring(eq + 1));
            }
        }
        b.frontPorts(frontPort, frontCount);
        warnOnFileLimit(settings);
        EmbeddedJcomet s = b.start();
        Runtime.getRuntime().addShutdownHook(new Thread(s::stop, "jcomet-shutdown"));
        List<Integer> fronts = s.frontPorts();
        System.out.println("jcomet admin=http://" + s.host() + ":" + s.adminPort()
                + " front=http://" + s.host() + ":" + fronts.get(0)
                + (fronts.size() > 1 ? " .. :" + fronts.get(fronts.size() - 1) + " (" + fronts.size() + " ports)" : ""));
        Thread.currentThread().join();
    }

    /** Warns when the open-file limit is below what the EFFECTIVE max_channels (every source) needs. */
    static void warnOnFileLimit(Map<String, String> settings) {
        int maxChannels;
        try {
            maxChannels = JcometConfig.from(ConfigSources.load(settings::get, settings.keySet(),
                    System.getenv(), System.getProperties())).maxChannels();
        } catch (ConfigException e) {
            return; // the start itself reports it, with key, value and source
        }
        String warning = OpenFiles.warning(OpenFiles.limit(), maxChannels);
        if (warning != null) {
            System.err.println(warning);
        }
    }
}
