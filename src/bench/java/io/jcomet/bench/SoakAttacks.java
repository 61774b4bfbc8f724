package io.jcomet.bench;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.atomic.AtomicLong;

/**
 * The soak's hostile clients ({@code --attackers A-B}): while the verified subscribers churn, each
 * attack runs from a source address of its own, none of them exempt from the per-client limits, and
 * a probe from the well-behaved address checks that a newcomer still joins a busy room.
 * <ul>
 * <li><b>ws flood</b>: up to {@value #WS_SOCKETS} WebSockets, each subscribing to
 * {@value #WS_SUBS_PER_SOCKET} new channels; closed and opened again every {@value #WS_ROUND_SECONDS} s
 * (sub churn). The server should refuse past its per-client caps.</li>
 * <li><b>slowloris</b>: up to {@value #SLOWLORIS} request heads that never end, one byte every
 * {@value #TRICKLE_SECONDS} s. The server should close each within its request-head deadline.</li>
 * <li><b>ghosts</b>: {@value #GHOSTS_PER_SECOND} a second, a long-poll on the shared room, one more byte
 * 0.2 s later, then a close: page reloads that must not keep the room full.</li>
 * <li><b>room probe</b>: every {@value #PROBE_SECONDS} s, a long-poll from the well-behaved address
 * joins the room (which ghosts keep at its cap) and must be held, not refused.</li>
 * </ul>
 * Every loop is bounded by the run's deadline and stops with {@link #stop}.
 *
 * <p>Threads: one thread per attack; counters are atomic; the scenario thread reads them.
 */
final class SoakAttacks {
    static final int WS_SOCKETS = 200;
    static final int WS_SUBS_PER_SOCKET = 16;
    static final int WS_ROUND_SECONDS = 10;
    static final int SLOWLORIS = 300;
    static final int TRICKLE_SECONDS = 5;
    static final int GHOSTS_PER_SECOND = 20;
    static final int PROBE_SECONDS = 2;

    private final Options o;
    private final List<InetAddress> attackers;
    private final long deadline;
    private final List<Thread> threads = new ArrayList<>();
    private volatile boolean stopping;

    final AtomicLong wsSockets = new AtomicLong();
    final AtomicLong wsSocketsRefused = new AtomicLong();
    final AtomicLong wsSubsSent = new AtomicLong();
    final AtomicLong wsSubsOk = new AtomicLong();
    final AtomicLong wsSubsRefused = new AtomicLong();
    final AtomicLong slowOpened = new AtomicLong();
    final AtomicLong slowClosedByServer = new AtomicLong();
    final AtomicLong slowConnectFailed = new AtomicLong();
    /** Longest a slowloris connection was seen open (ms). */
    final AtomicLong slowLongestMillis = new AtomicLong();
    final AtomicLong ghosts = new AtomicLong();
    final AtomicLong ghostErrors = new AtomicLong();
    final AtomicLong probes = new AtomicLong();
    final AtomicLong probesHeld = new AtomicLong();
    final AtomicLong probesRefused = new AtomicLong();

    SoakAttacks(Options o, List<InetAddress> attackers, long deadline) {
        if (attackers.isEmpty()) {
            throw new IllegalArgumentException("no attacker addresses");
        }
        this.o = o;
        this.attackers = attackers;
        this.deadline = deadline;
    }

    private InetAddress attacker(int i) {
        return attackers.get(i % attackers.size());
    }

    String room() {
        return o.prefix + "room";
    }

    void start() {
        threads.add(daemon("attack-ws-flood", this::wsFlood));
        threads.add(daemon("attack-slowloris", this::slowloris));
        threads.add(daemon("attack-ghosts", this::ghostLoop));
        threads.add(daemon("attack-room-probe", this::probeLoop));
        threads.forEach(Thread::start);
    }

    void stop() throws InterruptedException {
        stopping = true;
        for (Thread t : threads) {
            t.join(10_000);
        }
    }

    private boolean running() {
        return !stopping && System.nanoTime() < deadline;
    }

    private Socket connect(InetAddress source, int port) throws IOException {
        Socket s = new Socket();
        s.bind(new InetSocketAddress(source, 0));
        s.connect(new InetSocketAddress(o.hostAddress, port), 2000);
        return s;
    }

    private int port(long i) {
        return o.ports[(int) (i % o.ports.length)];
    }

    // ------------------------------------------------------------------ WebSocket flood

    private void wsFlood() {
        List<Socket> open = new ArrayList<>();
        long n = 0;
        while (running()) {
            long roundEnd = System.nanoTime() + WS_ROUND_SECONDS * 1_000_000_000L;
            for (int i = 0; i < WS_SOCKETS && running(); i++, n++) {
                try {
                    Socket s = connect(attacker(0), port(n));
                    s.setSoTimeout(2000);
                    OutputStream out = s.getOutputStream();
                    out.write(("GET /ws HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                            + "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n")
                            .getBytes(StandardCharsets.US_ASCII));
                    out.flush();
                    if (!upgraded(s.getInputStream())) {
                        wsSocketsRefused.incrementAndGet();
                        s.close();
                        continue;
                    }
                    wsSockets.incrementAndGet();
                    for (int k = 0; k < WS_SUBS_PER_SOCKET; k++) {
                        out.write(maskedText("{\"op\":\"sub\",\"cname\":\"" + o.prefix + "w" + n + "x" + k + "\",\"seq\":1}"));
                        wsSubsSent.incrementAndGet();
                    }
                    out.flush();
                    open.add(s);
                } catch (IOException e) {
                    wsSocketsRefused.incrementAndGet();
                }
            }
            // read what the server answered to the subs, then hold the sockets until the round ends
            // (bounded: each socket is read for at most 100 ms, and not at all once the run stops, so
            // that stop() closes the flood's sockets at once and the server's held count can reach 0)
            for (Socket s : open) {
                if (!running()) {
                    break;
                }
                countWsAnswers(s);
            }
            sleepUntil(roundEnd);
            closeAll(open);
        }
        closeAll(open);
    }

    /** Reads a 101 head; false for any other answer or a close. */
    private static boolean upgraded(InputStream in) throws IOException {
        StringBuilder head = new StringBuilder();
        while (head.length() < 8192) {
            int b = in.read();
            if (b < 0) {
                return false;
            }
            head.append((char) b);
            if (head.length() >= 4 && head.substring(head.length() - 4).equals("\r\n\r\n")) {
                return head.indexOf("HTTP/1.1 101") == 0;
            }
        }
        return false;
    }

    /** Counts the sub answers in what the server sent so far (server frames are not masked). */
    private void countWsAnswers(Socket s) {
        byte[] buf = new byte[64 * 1024];
        StringBuilder text = new StringBuilder();
        try {
            s.setSoTimeout(100);
            int n;
            while ((n = s.getInputStream().read(buf)) > 0) {
                text.append(new String(buf, 0, n, StandardCharsets.ISO_8859_1));
            }
        } catch (IOException e) {
            // timed out (nothing more for now) or closed by the server
        }
        wsSubsOk.addAndGet(count(text, "\"type\":\"sub_ok\""));
        wsSubsRefused.addAndGet(count(text, "\"type\":\"error\"") + count(text, "\"type\":\"429\""));
    }

    private static long count(StringBuilder text, String what) {
        long n = 0;
        for (int i = text.indexOf(what); i >= 0; i = text.indexOf(what, i + 1)) {
            n++;
        }
        return n;
    }

    static byte[] maskedText(String payload) {
        byte[] p = payload.getBytes(StandardCharsets.UTF_8);
        if (p.length > 125) {
            throw new IllegalArgumentException("frame too long for this client: " + p.length);
        }
        byte[] f = new byte[6 + p.length];
        f[0] = (byte) 0x81;
        f[1] = (byte) (0x80 | p.length);
        int mask = ThreadLocalRandom.current().nextInt();
        for (int i = 0; i < 4; i++) {
            f[2 + i] = (byte) (mask >>> (24 - 8 * i));
        }
        for (int i = 0; i < p.length; i++) {
            f[6 + i] = (byte) (p[i] ^ f[2 + (i & 3)]);
        }
        return f;
    }

    // ------------------------------------------------------------------ slowloris

    private record Trickle(Socket socket, long openedNanos) {
    }

    private void slowloris() {
        ArrayDeque<Trickle> open = new ArrayDeque<>();
        long n = 0;
        try {
            while (running()) {
                long roundEnd = System.nanoTime() + TRICKLE_SECONDS * 1_000_000_000L;
                while (open.size() < SLOWLORIS && running()) {
                    try {
                        Socket s = connect(attacker(1), port(n++));
                        s.getOutputStream().write(("GET /sub?cname=" + o.prefix + "lo" + n + "&seq=1 HTTP/1.1\r\nHost: x\r\n")
                                .getBytes(StandardCharsets.US_ASCII));
                        open.add(new Trickle(s, System.nanoTime()));
                        slowOpened.incrementAndGet();
                    } catch (IOException e) {
                        slowConnectFailed.incrementAndGet();
                        break; // refused: try again next round
                    }
                }
                sleepUntil(roundEnd);
                for (int i = open.size(); i > 0; i--) {
                    Trickle t = open.poll();
                    if (stillOpen(t.socket)) {
                        open.add(t);
                    } else {
                        slowClosedByServer.incrementAndGet();
                        slowLongestMillis.accumulateAndGet((System.nanoTime() - t.openedNanos) / 1_000_000, Math::max);
                        close(t.socket);
                    }
                }
            }
        } finally {
            long now = System.nanoTime();
            for (Trickle t : open) {
                slowLongestMillis.accumulateAndGet((now - t.openedNanos) / 1_000_000, Math::max);
                close(t.socket);
            }
        }
    }

    /** Sends one more header byte; false when the server closed the connection. */
    private static boolean stillOpen(Socket s) {
        try {
            s.setSoTimeout(1);
            try {
                if (s.getInputStream().read() < 0) {
                    return false; // closed by the server (or answered: either way not held)
                }
            } catch (SocketTimeoutException e) {
                // nothing to read: still open
            }
            s.getOutputStream().write('X');
            s.getOutputStream().flush();
            return true;
        } catch (IOException e) {
            return false;
        }
    }

    // ------------------------------------------------------------------ ghosts and the probe

    private record Ghost(Socket socket, long byteAtNanos) {
    }

    private void ghostLoop() {
        ArrayDeque<Ghost> pending = new ArrayDeque<>();
        long next = System.nanoTime();
        long n = 0;
        while (running()) {
            next += 1_000_000_000L / GHOSTS_PER_SECOND;
            long wait = next - System.nanoTime();
            if (wait > 0) {
                sleepNanos(wait);
            }
            try {
                Socket s = connect(attacker(2), port(n++));
                s.getOutputStream().write(("GET /sub?cname=" + room() + "&seq=1 HTTP/1.1\r\nHost: x\r\n\r\n")
                        .getBytes(StandardCharsets.US_ASCII));
                pending.add(new Ghost(s, System.nanoTime() + 200_000_000L));
                ghosts.incrementAndGet();
            } catch (IOException e) {
                ghostErrors.incrementAndGet();
            }
            while (!pending.isEmpty() && pending.peek().byteAtNanos - System.nanoTime() <= 0) {
                Socket s = pending.poll().socket;
                try {
                    s.getOutputStream().write('G');
                } catch (IOException ignored) {
                    // already refused and closed: still a ghost that left
                }
                close(s);
            }
        }
        pending.forEach(g -> close(g.socket));
    }

    /** A real user joining the room the ghosts keep full: held (no answer within 1 s) or refused. */
    private void probeLoop() {
        long n = 0;
        while (running()) {
            sleepNanos(PROBE_SECONDS * 1_000_000_000L);
            try (Socket s = new Socket()) {
                s.connect(new InetSocketAddress(o.hostAddress, port(n++)), 2000);
                s.getOutputStream().write(("GET /sub?cname=" + room() + "&seq=1 HTTP/1.1\r\nHost: x\r\n\r\n")
                        .getBytes(StandardCharsets.US_ASCII));
                s.setSoTimeout(1000);
                probes.incrementAndGet();
                byte[] buf = new byte[4096];
                int got = 0;
                try {
                    got = s.getInputStream().read(buf);
                } catch (SocketTimeoutException e) {
                    probesHeld.incrementAndGet(); // held: admitted
                    continue;
                }
                String answer = got > 0 ? new String(buf, 0, got, StandardCharsets.ISO_8859_1) : "";
                if (answer.contains("\"429\"") || answer.contains(" 429 ") || answer.contains(" 503 ")) {
                    probesRefused.incrementAndGet();
                } else {
                    probesHeld.incrementAndGet(); // answered with data or a noop: admitted too
                }
            } catch (IOException e) {
                probesRefused.incrementAndGet();
            }
        }
    }

    // ------------------------------------------------------------------ report

    Map<String, Object> toMap() {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("attacker_addresses", attackers.stream().map(InetAddress::getHostAddress).toList());
        m.put("ws_sockets_open", wsSockets.get());
        m.put("ws_sockets_refused", wsSocketsRefused.get());
        m.put("ws_subs_sent", wsSubsSent.get());
        m.put("ws_subs_ok", wsSubsOk.get());
        m.put("ws_subs_refused", wsSubsRefused.get());
        m.put("slowloris_opened", slowOpened.get());
        m.put("slowloris_closed_by_server", slowClosedByServer.get());
        m.put("slowloris_connect_failed", slowConnectFailed.get());
        m.put("slowloris_longest_ms", slowLongestMillis.get());
        m.put("ghosts", ghosts.get());
        m.put("ghost_errors", ghostErrors.get());
        m.put("room_probes", probes.get());
        m.put("room_probes_held", probesHeld.get());
        m.put("room_probes_refused", probesRefused.get());
        return m;
    }

    String summary() {
        return String.format(Locale.ROOT,
                "ws: %,d sockets (%,d refused), subs %,d ok / %,d refused of %,d sent | slowloris: %,d opened, %,d closed by the server,"
                        + " longest %.1f s | ghosts: %,d | room probes: %,d held, %,d refused",
                wsSockets.get(), wsSocketsRefused.get(), wsSubsOk.get(), wsSubsRefused.get(), wsSubsSent.get(),
                slowOpened.get(), slowClosedByServer.get(), slowLongestMillis.get() / 1000.0, ghosts.get(),
                probesHeld.get(), probesRefused.get());
    }

    // ------------------------------------------------------------------ helpers

    private static Thread daemon(String name, Runnable r) {
        Thread t = new Thread(r, name);
        t.setDaemon(true);
        return t;
    }

    private void sleepUntil(long nanoTime) {
        while (running()) {
            long wait = nanoTime - System.nanoTime();
            if (wait <= 0) {
                return;
            }
            sleepNanos(Math.min(wait, 200_000_000L));
        }
    }

    private static void sleepNanos(long nanos) {
        try {
            Thread.sleep(nanos / 1_000_000, (int) (nanos % 1_000_000));
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    private static void close(Socket s) {
        try {
            s.close();
        } catch (IOException ignored) {
            // gone already
        }
    }

    private static void closeAll(List<Socket> sockets) {
        sockets.forEach(SoakAttacks::close);
        sockets.clear();
    }
}
