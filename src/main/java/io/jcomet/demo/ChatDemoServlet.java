package io.jcomet.demo;

import io.jcomet.core.Broker;
import io.jcomet.core.CometException;
import jakarta.servlet.ServletException;
import jakarta.servlet.http.HttpServlet;
import jakarta.servlet.http.HttpServletRequest;
import jakarta.servlet.http.HttpServletResponse;

import java.io.IOException;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.regex.Pattern;

/**
 * DEMO ONLY: the publishing end point of chat.html. It forwards a chat line to the channel
 * {@code chat-<room>} through the in-process {@link Broker}, so a browser never talks to the admin
 * port. It is deliberately small and limited: a per-IP token bucket (5 requests/s, burst 10),
 * name at most 32 and text at most 500 characters, and a bounded who's-online list per room.
 * A real application publishes from its own back end, with its own authentication.
 *
 * <pre>
 *   POST /demo/chat/join      room=r&name=n[&key=k]       -> {"type":"ok","online":[..],"key":k}  (409 if another client holds n)
 *   POST /demo/chat/heartbeat room=r&name=n&key=k         -> same as join
 *   POST /demo/chat/pub       room=r&name=n&key=k&text=t  -> {"type":"ok","seq":N}   (403 without the name's key)
 *   POST /demo/chat/leave     room=r&name=n&key=k         -> {"type":"ok","online":[..]}
 *   GET      /demo/chat/who?room=r                    -> {"type":"ok","online":[..]}
 *   GET      /demo/chat/sign?room=r                   -> {"type":"sign","cname":"chat-r","seq":N,"token":..,"expires":60,"sub_timeout":P}
 *   errors: 4xx {"type":"error","reason":"..."}
 * </pre>
 * Channel content (a JSON text carried as the message's string content):
 * {@code {"kind":"chat","name":..,"text":..,"ts":millis}} and
 * {@code {"kind":"presence","online":[names],"joined":name|null,"left":[names]}}; presence is
 * published only when the list changes (join, leave, expiry), never on a plain heartbeat, so that
 * it does not push chat lines out of the channel buffer.
 *
 * <p>{@code sign} hands the channel token to any caller so that chat.html also works when the
 * server runs with {@code auth=token}; a real application signs only for users it has
 * authenticated (that is the point of token auth).
 *
 * <p>Threads: request threads (any number) call {@link #service}; the buckets map is a
 * ConcurrentHashMap of {@link Bucket}s each guarded by its own monitor; each {@link Room} is
 * guarded by its own monitor, the rooms map is a ConcurrentHashMap. One daemon thread
 * ("jcomet-demo-presence") expires silent users every {@value #SWEEP_SECONDS} s and publishes the
 * new presence; it is stopped in {@link #destroy()}.
 */
public class ChatDemoServlet extends HttpServlet {
    private static final long serialVersionUID = 1L;

    static final int MAX_NAME = 32;
    static final int MAX_TEXT = 500;
    static final int MAX_ROOM = 32;
    static final double RATE_PER_SECOND = 5;
    static final double BURST = 10;
    static final int MAX_BUCKETS = 10_000;
    static final int MAX_ROOMS = 1_000;
    static final int MAX_USERS_PER_ROOM = 200;
    /**
     * A name not heard from for this long is offline. A page that is closed or left says so itself
     * (a leave beacon); a browser that is killed, crashes or loses its network cannot, and this bound
     * is how long the others still see it: three of chat.html's 4 s heartbeats, so one or two lost
     * ones do not make a user flicker out.
     */
    static final long PRESENCE_TTL_MS = 12_000;
    /** How often silent names are expired: a departure shows at most this much after the TTL. */
    static final int SWEEP_SECONDS = 1;
    static final int SIGN_EXPIRES_SECONDS = 60;

    private static final Pattern ROOM = Pattern.compile("[A-Za-z0-9_-]{1," + MAX_ROOM + "}");

    private final transient Map<String, Bucket> buckets = new ConcurrentHashMap<>();
    private final transient Map<String, Room> rooms = new ConcurrentHashMap<>();
    private transient ScheduledExecutorService sweeper;
    private transient volatile Broker brokerOverride; // tests

    @Override
    public void init() throws ServletException {
        sweeper = Executors.newSingleThreadScheduledExecutor(r -> {
            Thread t = new Thread(r, "jcomet-demo-presence");
            t.setDaemon(true);
            return t;
        });
        sweeper.scheduleWithFixedDelay(this::sweep, SWEEP_SECONDS, SWEEP_SECONDS, TimeUnit.SECONDS);
    }

    @Override
    public void destroy() {
        if (sweeper != null) sweeper.shutdownNow();
    }

    void setBroker(Broker b) {
        this.brokerOverride = b;
    }

    private Broker broker() {
        Broker b = brokerOverride;
        if (b != null) return b;
        Object o = getServletContext().getAttribute(Broker.class.getName());
        return o instanceof Broker ? (Broker) o : null;
    }

    @Override
    protected void service(HttpServletRequest req, HttpServletResponse resp) throws IOException {
        try {
            handle(req, resp);
        } catch (RuntimeException e) {
            // an undecodable form body or query (bad percent-encoding, invalid UTF-8)
            if (resp.isCommitted() || !io.jcomet.protocol.MalformedRequests.isDecodeFailure(e)) {
                throw e;
            }
            io.jcomet.protocol.MalformedRequests.note(e.getClass().getSimpleName());
            error(resp, 400, "malformed request: parameters are not valid percent-encoded UTF-8");
        }
    }

    private void handle(HttpServletRequest req, HttpServletResponse resp) throws IOException {
        String method = req.getMethod();
        resp.setHeader("Cache-Control", "no-store");
        if (!"GET".equals(method) && !"POST".equals(method)) {
            resp.setHeader("Allow", "GET, POST");
            error(resp, 405, "method not allowed");
            return;
        }
        req.setCharacterEncoding("UTF-8");
        String path = req.getPathInfo() == null ? "" : req.getPathInfo();
        String action;
        switch (path) {
            case "/chat/pub": case "/chat/join": case "/chat/heartbeat": case "/chat/leave": case "/chat/who":
            case "/chat/sign":
                action = path.substring("/chat/".length());
                break;
            default:
                error(resp, 404, "unknown demo endpoint (try /demo/chat/pub, join, heartbeat, leave, who, sign)");
                return;
        }
        boolean readOnly = "who".equals(action) || "sign".equals(action); // jcomet.js fetches signUrl with GET
        if (!readOnly && !"POST".equals(method)) {
            // a GET that changes state can be sent cross-site by any <img>
            resp.setHeader("Allow", "POST");
            error(resp, 405, action + " accepts POST only");
            return;
        }
        if (!"who".equals(action) && !allow(req.getRemoteAddr(), System.nanoTime())) {
            resp.setHeader("Retry-After", "1");
            error(resp, 429, "demo rate limit: at most 5 requests/s per client (burst 10)");
            return;
        }
        String room = req.getParameter("room");
        if (room == null || !ROOM.matcher(room).matches()) {
            error(resp, 400, "room must be 1-" + MAX_ROOM + " characters of A-Z a-z 0-9 _ -");
            return;
        }
        Broker broker = broker();
        if (broker == null) {
            error(resp, 503, "broker not available");
            return;
        }
        if ("sign".equals(action)) {
            try {
                Broker.Signed sg = broker.sign(channel(room), SIGN_EXPIRES_SECONDS);
                ok(resp, "{\"type\":\"sign\",\"cname\":" + quote(sg.cname()) + ",\"seq\":" + sg.seq()
                        + ",\"token\":" + quote(sg.token()) + ",\"expires\":" + sg.expiresSeconds()
                        + ",\"sub_timeout\":" + broker.config().pollingTimeoutSeconds() + "}");
            } catch (CometException e) {
                error(resp, e.status(), e.reason());
            }
            return;
        }
        if ("who".equals(action)) {
            Room r = rooms.get(room);
            ok(resp, "{\"type\":\"ok\",\"online\":" + (r == null ? "[]" : r.onlineJson(System.currentTimeMillis())) + "}");
            return;
        }
        String name;
        try {
            name = clean(req.getParameter("name"), "name", MAX_NAME, false);
        } catch (IllegalArgumentException e) {
            error(resp, 400, e.getMessage());
            return;
        }
        String key = req.getParameter("key");
        if (!"join".equals(action) && !"heartbeat".equals(action) && !owns(room, name, key)) {
            // no posting or leaving as someone else
            error(resp, 403, "join the room as " + name + " first, and send the key join returned");
            return;
        }
        try {
            switch (action) {
                case "pub": {
                    String text;
                    try {
                        text = clean(req.getParameter("text"), "text", MAX_TEXT, true);
                    } catch (IllegalArgumentException e) {
                        error(resp, 400, e.getMessage());
                        return;
                    }
                    String content = "{\"kind\":\"chat\",\"name\":" + quote(name) + ",\"text\":" + quote(text)
                            + ",\"ts\":" + System.currentTimeMillis() + "}";
                    int seq = broker.publish(channel(room), content);
                    // a line from someone counts as a heartbeat
                    touch(broker, room, name, false);
                    ok(resp, "{\"type\":\"ok\",\"seq\":" + seq + "}");
                    return;
                }
                case "join":
                case "heartbeat": {
                    String[] given = new String[1];
                    String online = touch(broker, room, name, key, true, given);
                    if (online == null) {
                        error(resp, 429, "demo limit: room is full or too many rooms");
                        return;
                    }
                    if (online == TAKEN) {
                        error(resp, 409, "the name " + name + " is taken in this room");
                        return;
                    }
                    ok(resp, "{\"type\":\"ok\",\"online\":" + online + ",\"key\":" + quote(given[0]) + "}");
                    return;
                }
                default: { // leave
                    String online = leave(broker, room, name);
                    ok(resp, "{\"type\":\"ok\",\"online\":" + online + "}");
                }
            }
        } catch (CometException e) {
            error(resp, e.status() >= 400 && e.status() < 600 ? e.status() : 500, e.reason());
        }
    }

    /** The demo's own channel prefix: no real application channel can be signed or published to from here. */
    static final String CHANNEL_PREFIX = "demo.chat-";

    static String channel(String room) {
        return CHANNEL_PREFIX + room;
    }

    // ---- rate limit ----------------------------------------------------------------------------

    /** Token bucket per client address. */
    boolean allow(String ip, long nowNanos) {
        if (ip == null) ip = "?";
        Bucket b = buckets.get(ip);
        if (b == null) {
            if (buckets.size() >= MAX_BUCKETS) pruneBuckets(nowNanos);
            if (buckets.size() >= MAX_BUCKETS) return false; // bounded: refuse rather than grow
            b = buckets.computeIfAbsent(ip, k -> new Bucket(nowNanos));
        }
        return b.take(nowNanos);
    }

    private void pruneBuckets(long nowNanos) {
        // a bucket idle for BURST/RATE seconds is full again: forgetting it changes nothing
        long idle = (long) (BURST / RATE_PER_SECOND * 1e9);
        buckets.values().removeIf(b -> b.idleFor(nowNanos) > idle);
    }

    static final class Bucket {
        private double tokens = BURST;
        private long last;

        Bucket(long now) {
            last = now;
        }

        synchronized boolean take(long now) {
            tokens = Math.min(BURST, tokens + (now - last) / 1e9 * RATE_PER_SECOND);
            last = now;
            if (tokens < 1) return false;
            tokens -= 1;
            return true;
        }

        synchronized long idleFor(long now) {
            return now - last;
        }
    }

    // ---- presence ------------------------------------------------------------------------------

    /** Marks name as online; publishes presence when it is new. Returns the online JSON, or null when full. */
    /** What a join or heartbeat answered when another client holds the name. */
    static final String TAKEN = new String("taken");

    private String touch(Broker broker, String room, String name, boolean mayCreate) {
        return touch(broker, room, name, null, mayCreate, null);
    }

    /**
     * Marks {@code name} present. A join ({@code mayCreate}) takes a free name, remembering
     * {@code key} (or a fresh one when the client has none), written to {@code keyOut[0]}; a name
     * held by a client with another key answers {@link #TAKEN}.
     */
    private String touch(Broker broker, String room, String name, String key, boolean mayCreate, String[] keyOut) {
        long now = System.currentTimeMillis();
        Room r = rooms.get(room);
        if (r == null) {
            if (!mayCreate) return "[]";
            if (rooms.size() >= MAX_ROOMS) {
                sweep();
                if (rooms.size() >= MAX_ROOMS) return null;
            }
            r = rooms.computeIfAbsent(room, k -> new Room());
        }
        String presence;
        String online;
        synchronized (r) {
            List<String> expired = r.expire(now);
            boolean fresh = !r.seen.containsKey(name);
            if (fresh && r.seen.size() >= MAX_USERS_PER_ROOM) {
                return mayCreate ? null : r.onlineJson(now);
            }
            if (keyOut != null) {
                String held = r.keys.get(name);
                if (held != null && !held.equals(key)) {
                    return TAKEN;
                }
                if (held == null) {
                    held = key != null && key.matches("[0-9a-f]{32}") ? key : newKey();
                    r.keys.put(name, held);
                }
                keyOut[0] = held;
            }
            r.seen.put(name, now);
            online = r.onlineJson(now);
            presence = fresh || !expired.isEmpty() ? presenceContent(online, fresh ? name : null, expired) : null;
        }
        if (presence != null) publishQuietly(broker, room, presence);
        return online;
    }

    private static final java.security.SecureRandom RANDOM = new java.security.SecureRandom();

    private static String newKey() {
        byte[] b = new byte[16];
        RANDOM.nextBytes(b);
        return java.util.HexFormat.of().formatHex(b);
    }

    /** Whether the client holding {@code key} is the one that joined as {@code name}. */
    private boolean owns(String room, String name, String key) {
        Room r = rooms.get(room);
        if (r == null || key == null) {
            return false;
        }
        synchronized (r) {
            r.expire(System.currentTimeMillis());
            return r.owns(name, key);
        }
    }

    private String leave(Broker broker, String room, String name) {
        long now = System.currentTimeMillis();
        Room r = rooms.get(room);
        if (r == null) return "[]";
        String presence = null;
        String online;
        synchronized (r) {
            List<String> left = r.expire(now);
            if (r.seen.remove(name) != null) left.add(name);
            r.keys.remove(name);
            online = r.onlineJson(now);
            if (!left.isEmpty()) presence = presenceContent(online, null, left);
            if (r.seen.isEmpty()) rooms.remove(room, r);
        }
        if (presence != null) publishQuietly(broker, room, presence);
        return online;
    }

    /** Expires silent users of every room (sweeper thread; also called when the room map is full). */
    void sweep() {
        Broker broker = null;
        try {
            broker = broker();
        } catch (RuntimeException ignored) {
            // context gone
        }
        long now = System.currentTimeMillis();
        for (Iterator<Map.Entry<String, Room>> it = rooms.entrySet().iterator(); it.hasNext(); ) {
            Map.Entry<String, Room> e = it.next();
            Room r = e.getValue();
            String presence = null;
            synchronized (r) {
                List<String> expired = r.expire(now);
                if (!expired.isEmpty()) presence = presenceContent(r.onlineJson(now), null, expired);
                if (r.seen.isEmpty()) it.remove();
            }
            if (presence != null && broker != null) publishQuietly(broker, e.getKey(), presence);
        }
    }

    private static void publishQuietly(Broker broker, String room, String content) {
        try {
            broker.publish(channel(room), content);
        } catch (Exception ignored) {
            // presence is best effort: the page also polls /demo/chat/who on join
        }
    }

    private static String presenceContent(String onlineJson, String joined, List<String> left) {
        StringBuilder sb = new StringBuilder("{\"kind\":\"presence\",\"online\":").append(onlineJson);
        sb.append(",\"joined\":").append(joined == null ? "null" : quote(joined));
        sb.append(",\"left\":[");
        for (int i = 0; i < left.size(); i++) {
            if (i > 0) sb.append(',');
            sb.append(quote(left.get(i)));
        }
        return sb.append("]}").toString();
    }

    /** Who is in one room: name -> last seen (ms). Guarded by its own monitor. */
    static final class Room {
        final Map<String, Long> seen = new TreeMap<>();
        /** name -> the key its join returned: only that client may post, beat or leave as the name. */
        final Map<String, String> keys = new java.util.HashMap<>();

        boolean owns(String name, String key) {
            String k = keys.get(name);
            return k != null && k.equals(key);
        }

        List<String> expire(long now) {
            List<String> gone = new ArrayList<>();
            for (Iterator<Map.Entry<String, Long>> it = seen.entrySet().iterator(); it.hasNext(); ) {
                Map.Entry<String, Long> e = it.next();
                if (now - e.getValue() > PRESENCE_TTL_MS) {
                    gone.add(e.getKey());
                    keys.remove(e.getKey());
                    it.remove();
                }
            }
            return gone;
        }

        synchronized String onlineJson(long now) {
            StringBuilder sb = new StringBuilder("[");
            for (Map.Entry<String, Long> e : seen.entrySet()) {
                if (now - e.getValue() > PRESENCE_TTL_MS) continue;
                if (sb.length() > 1) sb.append(',');
                sb.append(quote(e.getKey()));
            }
            return sb.append(']').toString();
        }
    }

    // ---- input and JSON ------------------------------------------------------------------------

    /**
     * Trims, drops control characters (keeps newline and tab in text), rejects empty or too long
     * values (length counted in code points, so an emoji is one character).
     */
    static String clean(String v, String what, int max, boolean multiline) {
        if (v == null) throw new IllegalArgumentException(what + " is required");
        StringBuilder sb = new StringBuilder(Math.min(v.length(), max * 2 + 2));
        int count = 0;
        for (int i = 0; i < v.length(); ) {
            int cp = v.codePointAt(i);
            i += Character.charCount(cp);
            boolean control = Character.getType(cp) == Character.CONTROL
                    || (cp >= 0xD800 && cp <= 0xDFFF); // lone surrogates
            if (control && !(multiline && (cp == '\n' || cp == '\t'))) continue;
            if (Character.getType(cp) == Character.FORMAT && !multiline) {
                // U+202E and friends reorder text, zero-width ones hide: a name must look like what it is
                throw new IllegalArgumentException(what + " must not contain invisible or bidirectional formatting characters (U+"
                        + Integer.toHexString(cp).toUpperCase(java.util.Locale.ROOT) + ")");
            }
            if (Character.getType(cp) == Character.FORMAT) continue; // dropped from text
            if (++count > max) throw new IllegalArgumentException(what + " is longer than " + max + " characters");
            sb.appendCodePoint(cp);
        }
        String s = sb.toString().strip();
        if (s.isEmpty()) throw new IllegalArgumentException(what + " is required");
        return s;
    }

    /** A JSON string literal, the project's escaping ({@code < > &} escaped, safe inside HTML/script too). */
    static String quote(String s) {
        return io.jcomet.protocol.Json.quote(new StringBuilder(s.length() + 8), s).toString();
    }

    private static void ok(HttpServletResponse resp, String json) throws IOException {
        write(resp, 200, json);
    }

    private static void error(HttpServletResponse resp, int status, String reason) throws IOException {
        write(resp, status, new String(io.jcomet.protocol.Messages.error(reason == null ? "error" : reason), java.nio.charset.StandardCharsets.UTF_8));
    }

    private static void write(HttpServletResponse resp, int status, String json) throws IOException {
        resp.setStatus(status);
        resp.setContentType("application/json;charset=utf-8");
        byte[] b = json.getBytes(java.nio.charset.StandardCharsets.UTF_8);
        resp.setContentLength(b.length);
        resp.getOutputStream().write(b);
    }
}
