package io.jcomet.browser;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * A forward HTTP proxy for the browser that maps icomet's fixed ports to a test server's
 * ephemeral ones: {@code 127.0.0.1:8000} to the admin port and {@code 127.0.0.1:8100-8199} to a
 * front port. icomet's demo pages hard-code those addresses; with Chromium pointed at this proxy
 * ({@code --proxy-server}, loopback not bypassed) they run unchanged, and nothing ever connects to
 * the real ports 8000/8100. Every request gets its own upstream connection ({@code Connection:
 * close}), and requests are counted by path so a test can tell a request loop from a held poll.
 *
 * <p>Threads: one acceptor thread, two daemon threads per proxied connection; counters are
 * concurrent.
 */
final class PortMappingProxy implements AutoCloseable {
    private final ServerSocket server;
    private final int admin;
    private final int front;
    private final Map<String, AtomicInteger> byPath = new ConcurrentHashMap<>();
    private final List<String> log = new CopyOnWriteArrayList<>();
    private final List<Socket> sockets = new CopyOnWriteArrayList<>();
    private volatile boolean closed;

    PortMappingProxy(int adminPort, int frontPort) throws IOException {
        this.admin = adminPort;
        this.front = frontPort;
        this.server = new ServerSocket(0, 50, InetAddress.getLoopbackAddress());
        Thread t = new Thread(this::acceptLoop, "icomet-port-proxy");
        t.setDaemon(true);
        t.start();
    }

    int port() {
        return server.getLocalPort();
    }

    /** Requests seen for a path (e.g. "/sub"), all ports together. */
    int count(String path) {
        AtomicInteger n = byPath.get(path);
        return n == null ? 0 : n.get();
    }

    /** The request lines seen so far (for failure messages). */
    List<String> log() {
        return List.copyOf(log);
    }

    private void acceptLoop() {
        while (!closed) {
            try {
                Socket client = server.accept();
                sockets.add(client);
                Thread t = new Thread(() -> handle(client), "icomet-port-proxy-conn");
                t.setDaemon(true);
                t.start();
            } catch (IOException e) {
                return; // closed
            }
        }
    }

    private void handle(Socket client) {
        try (client) {
            InputStream in = client.getInputStream();
            ByteArrayOutputStream head = new ByteArrayOutputStream();
            int last4 = 0;
            while (true) {
                int b = in.read();
                if (b < 0) {
                    return;
                }
                head.write(b);
                last4 = (last4 << 8) | b;
                if (last4 == 0x0d0a0d0a) {
                    break;
                }
                if (head.size() > 65536) {
                    return;
                }
            }
            String[] lines = head.toString(StandardCharsets.ISO_8859_1).split("\r\n");
            String[] rl = lines[0].split(" ");
            java.net.URI uri = java.net.URI.create(rl[1]);
            int port = uri.getPort();
            int target = port == 8000 ? admin : port >= 8100 && port <= 8199 ? front : -1;
            log.add(lines[0]);
            if (!"127.0.0.1".equals(uri.getHost()) || target < 0) {
                client.getOutputStream().write("HTTP/1.1 502 Bad Gateway\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"
                        .getBytes(StandardCharsets.US_ASCII));
                return;
            }
            byPath.computeIfAbsent(uri.getRawPath(), k -> new AtomicInteger()).incrementAndGet();
            StringBuilder req = new StringBuilder(rl[0]).append(' ').append(uri.getRawPath())
                    .append(uri.getRawQuery() == null ? "" : "?" + uri.getRawQuery()).append(' ').append(rl[2]).append("\r\n");
            for (int i = 1; i < lines.length; i++) {
                String h = lines[i].toLowerCase(java.util.Locale.ROOT);
                if (h.startsWith("proxy-connection:") || h.startsWith("connection:") || h.startsWith("keep-alive:")) {
                    continue;
                }
                req.append(lines[i]).append("\r\n");
            }
            req.append("Connection: close\r\n\r\n");
            try (Socket up = new Socket(InetAddress.getLoopbackAddress(), target)) {
                sockets.add(up);
                OutputStream upOut = up.getOutputStream();
                upOut.write(req.toString().getBytes(StandardCharsets.ISO_8859_1));
                upOut.flush();
                Thread toServer = new Thread(() -> pipe(in, upOut), "icomet-port-proxy-up");
                toServer.setDaemon(true);
                toServer.start();
                pipe(up.getInputStream(), client.getOutputStream());
            }
        } catch (IOException | RuntimeException e) {
            // the browser or the server went away: nothing to report
        }
    }

    private static void pipe(InputStream in, OutputStream out) {
        byte[] buf = new byte[8192];
        try {
            int n;
            while ((n = in.read(buf)) > 0) {
                out.write(buf, 0, n);
                out.flush();
            }
        } catch (IOException e) {
            // closed
        }
    }

    @Override
    public void close() {
        closed = true;
        try {
            server.close();
        } catch (IOException ignored) {
            // closing
        }
        for (Socket s : sockets) {
            try {
                s.close();
            } catch (IOException ignored) {
                // closing
            }
        }
    }
}
