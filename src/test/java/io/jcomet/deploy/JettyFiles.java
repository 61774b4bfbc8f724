package io.jcomet.deploy;

import io.jcomet.launcher.JettyTuning;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * Writes {@link JettyTuning} into the files Jetty reads outside the embedded launcher, so the
 * launcher, jetty-base and {@code mvn jetty:run} run with the same values:
 * <ul>
 *   <li>the tuning block of each jetty-base {@code start.d/*.ini} listed in {@link #INI}: the lines from
 *       {@link #BEGIN} to {@link #END}, one {@code key=value} per setting with its reason as a comment;
 *       the rest of each file (module line, host, ports) is written by hand;</li>
 *   <li>the two front-connector XML files of {@link FrontConnectorsXml}, which take their values from
 *       {@link JettyTuning} too.</li>
 * </ul>
 * Regenerate from the repository root with {@link #COMMAND}; {@code JettyFilesTest} fails when a
 * committed file differs from what this class writes.
 *
 * <p>Threads: stateless static functions; the test thread or a command-line run.
 */
public final class JettyFiles {

    public static final String COMMAND =
            "mvn -q -o test-compile && java -cp target/classes:target/test-classes io.jcomet.deploy.JettyFiles";
    static final String BEGIN = "## ---- BEGIN GENERATED";
    static final String END = "## ---- END GENERATED";

    /** jetty-base ini files and the tuning section each one carries. */
    public static final Map<String, JettyTuning.Section> INI = new LinkedHashMap<>();
    static {
        INI.put("jetty-base/start.d/http-config.ini", JettyTuning.HTTP_CONFIG);
        INI.put("jetty-base/start.d/bytebufferpool.ini", JettyTuning.BYTE_BUFFER_POOL);
        INI.put("jetty-base/start.d/threadpool.ini", JettyTuning.THREAD_POOL);
        INI.put("jetty-base/start.d/http.ini", JettyTuning.ADMIN_CONNECTOR);
        INI.put("jetty-base/start.d/jcomet-front.ini", JettyTuning.FRONT_CONNECTORS);
        INI.put("jetty-base/start.d/jcomet-tls.ini", JettyTuning.TLS_CONNECTOR);
        INI.put("jetty-base/start.d/jcomet-tls-context.ini", JettyTuning.TLS_CONTEXT);
        INI.put("jetty-base/start.d/jcomet-tls-reload.ini", JettyTuning.TLS_RELOAD);
        INI.put("jetty-base/start.d/jcomet-h2.ini", JettyTuning.HTTP2);
    }

    private JettyFiles() {
    }

    /** The generated block of one section, from its BEGIN line to its END line, newline-terminated. */
    public static String block(JettyTuning.Section section) {
        StringBuilder b = new StringBuilder();
        b.append(BEGIN).append(" from io.jcomet.launcher.JettyTuning (the embedded launcher uses the same values):\n");
        b.append("## change them there and regenerate: ").append(COMMAND).append('\n');
        for (JettyTuning.Setting s : section.settings()) {
            comment(b, s.why());
            b.append(section.iniPrefix()).append(s.name()).append('=').append(s.value()).append('\n');
        }
        b.append(END).append('\n');
        return b.toString();
    }

    /** {@code text} with its generated block replaced by the current one. */
    public static String withBlock(String text, JettyTuning.Section section) {
        int begin = text.indexOf(BEGIN);
        int endLine = text.indexOf(END, Math.max(begin, 0));
        if (begin < 0 || endLine < 0 || (begin > 0 && text.charAt(begin - 1) != '\n')) {
            throw new IllegalArgumentException("no '" + BEGIN + "' ... '" + END + "' lines to replace");
        }
        int end = text.indexOf('\n', endLine);
        end = end < 0 ? text.length() : end + 1;
        return text.substring(0, begin) + block(section) + text.substring(end);
    }

    /** Wraps a reason into {@code ## } comment lines of at most ~100 characters. */
    private static void comment(StringBuilder b, String text) {
        StringBuilder line = new StringBuilder("##");
        for (String word : text.split(" ")) {
            if (line.length() + 1 + word.length() > 100 && line.length() > 2) {
                b.append(line).append('\n');
                line.setLength(0);
                line.append("##");
            }
            line.append(' ').append(word);
        }
        b.append(line).append('\n');
    }

    /** Rewrites every generated file under {@code root} (default: the working directory). */
    public static void main(String[] args) throws IOException {
        Path root = Path.of(args.length > 0 ? args[0] : ".");
        for (Map.Entry<String, JettyTuning.Section> e : INI.entrySet()) {
            Path file = root.resolve(e.getKey());
            write(file, withBlock(Files.readString(file, StandardCharsets.UTF_8), e.getValue()));
        }
        write(root.resolve(FrontConnectorsXml.BASE_PATH), FrontConnectorsXml.base());
        write(root.resolve(FrontConnectorsXml.DEV_PATH), FrontConnectorsXml.dev());
        write(root.resolve(TlsXml.DEV_PATH), TlsXml.dev());
    }

    private static void write(Path file, String text) throws IOException {
        Files.createDirectories(file.getParent());
        Files.writeString(file, text, StandardCharsets.UTF_8);
        System.out.println("wrote " + file);
    }
}
