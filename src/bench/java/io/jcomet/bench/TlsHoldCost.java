package io.jcomet.bench;

import io.jcomet.support.Tls;
import java.io.IOException;
import java.net.Socket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import javax.net.ssl.SSLContext;

/**
 * Server memory per held long-poll: plain HTTP/1.1, TLS HTTP/1.1, or h2 streams (up to 250 per
 * connection), against a running launcher with an https front ({@code Main --tls-port N}) in its own
 * JVM. Measures the server's RSS ({@code /proc/PID/status}) and heap in use after a full GC
 * ({@code jcmd PID GC.run}, {@code GC.heap_info}) before and with {@code --count} requests held, and
 * prints the difference per held request. The first run against a fresh server also pays one-time
 * costs (the TLS code compiled, heap pages first touched by the handshakes' garbage); a second run,
 * once the server has let the first run's requests go, measures warm ({@code bin/bench-tls memory}). With {@code --classes N}, also the N classes whose live
 * heap grew most, per held request; with {@code --also-pid}, the RSS of another process too (a proxy in
 * front, whose port {@code --port} then is) ({@code jcmd PID GC.class_histogram} before and with them held).
 *
 * <pre>
 * java -cp target/test-classes:target/classes io.jcomet.bench.TlsHoldCost --pid PID --admin 8000 \
 *     --port 8100|8443 --mode plain|tls|h2 --count 2000 [--per-connection 250] [--classes 25] [--also-pid PID]
 * </pre>
 *
 * <p>Threads: main; HttpClient's threads in h2 mode.
 */
public final class TlsHoldCost {
    private TlsHoldCost() {
    }

    public static void main(String[] args) throws Exception {
        long pid = 0, alsoPid = 0;
        int admin = 0, port = 0, count = 1000, perConnection = 250, classes = 0;
        String mode = "tls";
        for (int i = 0; i < args.length; i++) {
            switch (args[i]) {
                case "--pid" -> pid = Long.parseLong(args[++i]);
                case "--admin" -> admin = Integer.parseInt(args[++i]);
                case "--port" -> port = Integer.parseInt(args[++i]);
                case "--mode" -> mode = args[++i];
                case "--count" -> count = Integer.parseInt(args[++i]);
                case "--per-connection" -> perConnection = Integer.parseInt(args[++i]);
                case "--classes" -> classes = Integer.parseInt(args[++i]);
                case "--also-pid" -> alsoPid = Long.parseLong(args[++i]);
                default -> throw new IllegalArgumentException("unknown argument " + args[i]);
            }
        }
        HttpClient plain = HttpClient.newHttpClient();
        String cname = "cost" + System.nanoTime();
        get(plain, "http://127.0.0.1:" + admin + "/sign?cname=" + cname);
        long heldBefore = held(plain, admin);
        long[] before = measure(pid);
        long alsoBefore = alsoPid > 0 ? rss(alsoPid) : 0;
        Map<String, long[]> histoBefore = classes > 0 ? histogram(pid) : Map.of();
        SSLContext trust = Tls.trustingDevCertificate();
        List<AutoCloseable> open = new ArrayList<>();
        String request = "GET /sub?cname=" + cname + "&seq=1 HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n";
        if (mode.equals("h2")) {
            List<HttpClient> clients = new ArrayList<>();
            for (int i = 0; i < count; i++) {
                if (i % perConnection == 0) {
                    HttpClient fresh = Tls.h2(trust);
                    // one request first: the h2 connection (and the server's SETTINGS) exist before the batch
                    fresh.send(HttpRequest.newBuilder(URI.create("https://127.0.0.1:" + port + "/ping")).build(),
                            HttpResponse.BodyHandlers.discarding());
                    clients.add(fresh);
                }
                HttpClient c = clients.get(clients.size() - 1);
                CompletableFuture<HttpResponse<Void>> f = c.sendAsync(HttpRequest.newBuilder(
                        URI.create("https://127.0.0.1:" + port + "/sub?cname=" + cname + "&seq=1")).build(),
                        HttpResponse.BodyHandlers.discarding());
                open.add(() -> f.cancel(true));
            }
        } else {
            for (int i = 0; i < count; i++) {
                Socket s = mode.equals("tls") ? Tls.http11Socket(trust, port) : new Socket("127.0.0.1", port);
                s.getOutputStream().write(request.getBytes(StandardCharsets.US_ASCII));
                s.getOutputStream().flush();
                open.add(s);
            }
        }
        long deadline = System.nanoTime() + Duration.ofSeconds(120).toNanos();
        while (held(plain, admin) - heldBefore < count) {
            if (System.nanoTime() > deadline) {
                throw new IllegalStateException("only " + (held(plain, admin) - heldBefore) + " held");
            }
            Thread.sleep(100);
        }
        long[] with = measure(pid);
        long alsoWith = alsoPid > 0 ? rss(alsoPid) : 0;
        System.out.printf("mode=%s count=%d%s: RSS +%.1f KB per held request, heap after full GC +%.1f KB per held request%n",
                mode, count, mode.equals("h2") ? " (" + perConnection + " streams per connection)" : "",
                (with[0] - before[0]) / (double) count, (with[1] - before[1]) / (double) count);
        if (alsoPid > 0) {
            System.out.printf("  and process %d (e.g. nginx's worker in front): RSS +%.1f KB per held request%n",
                    alsoPid, (alsoWith - alsoBefore) / (double) count);
        }
        if (classes > 0) {
            printHistogramDiff(histoBefore, histogram(pid), count, classes);
        }
        for (AutoCloseable c : open) {
            c.close();
        }
    }

    private static String get(HttpClient c, String url) throws Exception {
        return c.send(HttpRequest.newBuilder(URI.create(url)).build(), HttpResponse.BodyHandlers.ofString()).body();
    }

    private static long held(HttpClient c, int admin) throws Exception {
        Matcher m = Pattern.compile("\"held_poll\":(\\d+)").matcher(get(c, "http://127.0.0.1:" + admin + "/info"));
        return m.find() ? Long.parseLong(m.group(1)) : -1;
    }

    /** Live objects per class ({@code jcmd PID GC.class_histogram}, itself after a full GC): class -> {instances, bytes}. */
    private static Map<String, long[]> histogram(long pid) throws Exception {
        Map<String, long[]> h = new HashMap<>();
        Matcher m = Pattern.compile("(?m)^\\s*\\d+:\\s+(\\d+)\\s+(\\d+)\\s+(\\S+)").matcher(jcmd(pid, "GC.class_histogram"));
        while (m.find()) {
            h.put(m.group(3), new long[] {Long.parseLong(m.group(1)), Long.parseLong(m.group(2))});
        }
        return h;
    }

    /** The classes whose live bytes grew most with the requests held, per held request. */
    private static void printHistogramDiff(Map<String, long[]> before, Map<String, long[]> with, int count, int top) {
        List<Map.Entry<String, long[]>> grown = new ArrayList<>();
        for (Map.Entry<String, long[]> e : with.entrySet()) {
            long[] b = before.getOrDefault(e.getKey(), new long[2]);
            grown.add(Map.entry(e.getKey(), new long[] {e.getValue()[0] - b[0], e.getValue()[1] - b[1]}));
        }
        grown.sort((x, y) -> Long.compare(y.getValue()[1], x.getValue()[1]));
        System.out.println("live heap per held request, by class (jcmd GC.class_histogram, with minus before):");
        long sum = 0;
        for (Map.Entry<String, long[]> e : grown) {
            sum += e.getValue()[1];
        }
        for (Map.Entry<String, long[]> e : grown.subList(0, Math.min(top, grown.size()))) {
            System.out.printf("  %8.1f B  %6.2f objects  %s%n", e.getValue()[1] / (double) count,
                    e.getValue()[0] / (double) count, e.getKey());
        }
        System.out.printf("  %8.1f B  in all%n", sum / (double) count);
    }

    /** {RSS KB, heap used KB after a full GC} of the server process. */
    private static long[] measure(long pid) throws Exception {
        jcmd(pid, "GC.run");
        String info = jcmd(pid, "GC.heap_info");
        long heap = 0;
        Matcher m = Pattern.compile("(?m)^\\s*(def new generation|tenured generation|garbage-first heap).*?used (\\d+)K").matcher(info);
        while (m.find()) {
            heap += Long.parseLong(m.group(2));
        }
        return new long[] {rss(pid), heap};
    }

    /** VmRSS (KB) of a process. */
    private static long rss(long pid) throws IOException {
        long rss = 0;
        for (String line : Files.readAllLines(Path.of("/proc/" + pid + "/status"))) {
            if (line.startsWith("VmRSS:")) {
                rss = Long.parseLong(line.replaceAll("\\D+", ""));
            }
        }
        return rss;
    }

    private static String jcmd(long pid, String command) throws IOException, InterruptedException {
        Process p = new ProcessBuilder(Path.of(System.getProperty("java.home"), "bin", "jcmd").toString(),
                Long.toString(pid), command).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        p.waitFor();
        return out;
    }
}
