package io.jcomet.bench;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import java.io.IOException;
import java.io.OutputStream;
import java.lang.management.ManagementFactory;
import java.net.InetSocketAddress;
import java.net.URLDecoder;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * A tiny in-test stand-in for an icomet server (JDK HttpServer, a thread per held request: fine for
 * a few dozen subscribers), so the load client can be run end to end before and independently of
 * jcomet. Front: /sub long-poll (next_seq, held, replayed array, noop after the polling timeout).
 * Admin: /push (answers the seq), /info. With {@code dropSeq} &gt; 0 it is a BROKEN server that
 * silently leaves that seq out of every answer on channels whose name ends with {@code dropSuffix}.
 *
 * <p>Threads: the HttpServer's pool runs handlers; channel state is guarded by each channel's
 * monitor, the channel map by its own.
 */
final class FakeIcomet implements AutoCloseable {

    private final HttpServer front;
    private final HttpServer admin;
    private final ExecutorService pool = Executors.newCachedThreadPool(r -> {
        Thread t = new Thread(r, "fake-icomet");
        t.setDaemon(true);
        return t;
    });
    private final Map<String, Chan> channels = new HashMap<>();
    private final AtomicInteger held = new AtomicInteger();
    private final long pollingTimeoutMs;
    volatile int dropSeq;
    volatile String dropSuffix = "x0";

    private static final class Chan {
        final List<String> contents = new ArrayList<>(); // seq i+1
    }

    static {
        // the JDK server writes headers and body separately: without this, Nagle + delayed ACK
        // add 40 ms to every answer
        System.setProperty("sun.net.httpserver.nodelay", "true");
    }

    FakeIcomet(long pollingTimeoutMs) throws IOException {
        this.pollingTimeoutMs = pollingTimeoutMs;
        front = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 512);
        admin = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 64);
        front.setExecutor(pool);
        admin.setExecutor(pool);
        front.createContext("/sub", this::sub);
        admin.createContext("/push", this::push);
        admin.createContext("/info", this::info);
        front.start();
        admin.start();
    }

    int frontPort() {
        return front.getAddress().getPort();
    }

    int adminPort() {
        return admin.getAddress().getPort();
    }

    private Chan chan(String name) {
        synchronized (channels) {
            return channels.computeIfAbsent(name, k -> new Chan());
        }
    }

    private static Map<String, String> query(HttpExchange ex) {
        Map<String, String> m = new HashMap<>();
        String q = ex.getRequestURI().getRawQuery();
        if (q != null) {
            for (String kv : q.split("&")) {
                int eq = kv.indexOf('=');
                if (eq > 0) {
                    m.put(kv.substring(0, eq), URLDecoder.decode(kv.substring(eq + 1), StandardCharsets.UTF_8));
                }
            }
        }
        return m;
    }

    private void sub(HttpExchange ex) throws IOException {
        Map<String, String> q = query(ex);
        String cname = q.get("cname");
        int seq = Integer.parseInt(q.getOrDefault("seq", "0"));
        int noop = Integer.parseInt(q.getOrDefault("noop", "0"));
        Chan c = chan(cname);
        String body;
        synchronized (c) {
            int next = c.contents.size() + 1;
            if (seq == 0 || seq > next) {
                body = "{\"type\":\"next_seq\",\"cname\":\"" + cname + "\",\"seq\":" + next + "}";
            } else {
                if (seq == next) {
                    held.incrementAndGet();
                    long end = System.currentTimeMillis() + pollingTimeoutMs;
                    try {
                        while (c.contents.size() + 1 == next && System.currentTimeMillis() < end) {
                            c.wait(Math.max(1, end - System.currentTimeMillis()));
                        }
                    } catch (InterruptedException e) {
                        Thread.currentThread().interrupt();
                    } finally {
                        held.decrementAndGet();
                    }
                }
                if (c.contents.size() + 1 == seq) {
                    body = "{\"type\":\"noop\",\"cname\":\"" + cname + "\",\"seq\":" + noop + "}";
                } else {
                    StringBuilder b = new StringBuilder("[");
                    for (int s = seq; s <= c.contents.size(); s++) {
                        if (s == dropSeq && cname.endsWith(dropSuffix)) {
                            continue; // the bug under test: a message silently lost
                        }
                        if (b.length() > 1) {
                            b.append(',');
                        }
                        b.append("{\"type\":\"data\",\"cname\":\"").append(cname).append("\",\"seq\":").append(s)
                                .append(",\"content\":\"").append(c.contents.get(s - 1)).append("\"}");
                    }
                    body = b.append(']').toString();
                }
            }
        }
        reply(ex, body, false);
    }

    private void push(HttpExchange ex) throws IOException {
        Map<String, String> q = query(ex);
        Chan c = chan(q.get("cname"));
        int seq;
        synchronized (c) {
            c.contents.add(q.get("content"));
            seq = c.contents.size();
            c.notifyAll();
        }
        reply(ex, "{\"type\":\"ok\",\"seq\":" + seq + "}", true);
    }

    private void info(HttpExchange ex) throws IOException {
        long cpu = ((com.sun.management.OperatingSystemMXBean) ManagementFactory.getOperatingSystemMXBean())
                .getProcessCpuTime();
        int nch;
        synchronized (channels) {
            nch = channels.size();
        }
        Runtime rt = Runtime.getRuntime();
        String body = "{\"version\":\"fake\",\"channels\":" + nch + ",\"subscribers\":" + held.get()
                + ",\"rss_bytes\":" + (rt.totalMemory() + 50_000_000L) + ",\"heap_used_bytes\":"
                + (rt.totalMemory() - rt.freeMemory()) + ",\"process_cpu_ns\":" + cpu
                + ",\"open_fds\":100,\"max_fds\":20000}";
        reply(ex, body, true);
    }

    private static void reply(HttpExchange ex, String body, boolean fixedLength) throws IOException {
        byte[] b = body.getBytes(StandardCharsets.UTF_8);
        ex.getResponseHeaders().set("Content-Type", "application/json; charset=utf-8");
        ex.sendResponseHeaders(200, fixedLength ? b.length : 0); // 0 = chunked
        try (OutputStream os = ex.getResponseBody()) {
            os.write(b);
        }
    }

    @Override
    public void close() {
        front.stop(0);
        admin.stop(0);
        pool.shutdownNow();
    }
}
