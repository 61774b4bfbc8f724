package io.jcomet.ws;

import io.jcomet.core.Broker;
import io.jcomet.protocol.BadRequestException;
import io.jcomet.protocol.Json;
import io.jcomet.protocol.Params;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.ArrayDeque;
import java.util.Arrays;
import java.util.Map;

/**
 * One open WebSocket: its channel subscriptions, its one bounded output queue, and the client
 * frames it accepts ({@code sub}, {@code unsub}).
 *
 * <h2>Output</h2>
 * Every message is one text frame holding exactly the JSON of a {@code /stream} line: the message's
 * one UTF-8 array, shared by every socket it goes to (the adapter frames it, nothing is re-encoded
 * per socket). Sends are asynchronous and one at a time (what every container supports); what arrives while
 * one is in flight waits in {@code queue} (made only when needed, so an idle socket holds none) up
 * to {@code max_pending_bytes}. Past that the socket is unable to take more: the broker drops the
 * subscription it was delivering for, and this socket is closed (1008) with all its subscriptions,
 * exactly the /stream rule, since all of them share the queue.
 *
 * <h2>Containers</h2>
 * This class holds every rule of {@code /ws}: admission of the socket and of each subscription,
 * client frames, rate, ping/pong, binary refusal, close codes. The container is reached only through
 * {@link WsSocket}, which one of two adapters implements: {@link JettyWsSocket} (Jetty's own WebSocket
 * core, on Jetty) or {@link WsEndpoint} (Jakarta WebSocket, on Tomcat). They only carry frames.
 *
 * <h2>Threads</h2>
 * {@link #offer} is called by publishers under a channel lock and {@link #flush} by them after it;
 * {@link #enqueue} (both at once) by the sweeper (noops) and the
 * container's thread for this socket (replays on {@code sub}); {@link #sent} by whichever
 * thread completes a send (possibly inside {@code sendText}, on the caller's thread). All of them
 * synchronize on this object, which guards every mutable field but the ping state ({@code pingPending}
 * volatile, {@code pingCounter} jcomet-ws only) and the frame rate (this socket's container thread). Lock order
 * is channel, then connection: nothing here calls into the broker while holding this lock.
 * {@link #onMessage}, {@link #pong}, {@link #binary} run on one container thread at a time for a
 * socket (both containers' rule).
 */
final class WsConnection {
    private static final WsSubscriber[] NONE = new WsSubscriber[0];
    /** How long a dropped socket may take to accept its close frame before it is cut. */
    private static final long DROP_TIMEOUT_MILLIS = 2000;

    // RFC 6455 close codes used here
    static final int GOING_AWAY = 1001;
    static final int CANNOT_ACCEPT = 1003;
    static final int VIOLATED_POLICY = 1008;
    static final int TOO_BIG = 1009;
    static final int TRY_AGAIN_LATER = 1013;

    private final WsHub hub;
    private final Broker broker;
    private final WsSocket socket;
    /** This socket's client in the admission policy ({@link io.jcomet.core.Admission#bucket}). */
    private final int bucket;

    // guarded by this
    private WsSubscriber[] subs = NONE;
    private int subCount;
    private ArrayDeque<byte[]> queue;
    private int queuedBytes;
    private boolean sending;
    private Thread sendingThread;
    private boolean completedInline;
    private boolean gone;
    private boolean overflowed;

    // container thread of this socket only (onMessage)
    private long rateWindowStart;
    private int rateCount;

    /** The payload of the ping awaiting its pong, 0 when none is owed (jcomet-ws writes, the pong's thread reads). */
    private volatile long pingPending;
    private long pingCounter; // jcomet-ws thread only

    private WsConnection(WsHub hub, WsSocket socket, int bucket) {
        this.hub = hub;
        this.broker = hub.broker;
        this.socket = socket;
        this.bucket = bucket;
    }

    /**
     * A socket just opened (after the handshake): the admission rules for the socket itself. On the
     * admin port (where the container says which port it is), or refused by the admission policy
     * (ws_max_sockets_per_client, memory budget), the socket is closed (1008, or 1013 when the server
     * is overloaded) and null returned. Otherwise the connection is made, its idle timeout set and
     * the hub told; the adapter keeps it (send completions go to it), then calls
     * {@link #subscribeFromQuery} and routes the socket's frames and close to it.
     *
     * @param local  the local address the socket arrived on, null when the container does not say
     * @param remote the peer's address, null when the container does not say (then: not limited per address)
     * @param forwardedFor the upgrade request's X-Forwarded-For, or null
     */
    static WsConnection open(WsHub hub, WsSocket socket, InetSocketAddress local, InetSocketAddress remote,
            String forwardedFor) {
        Broker broker = hub.broker;
        if (local != null && local.getPort() == broker.config().adminPort()) {
            hub.reject(WsHub.Reject.WRONG_PORT);
            socket.close(VIOLATED_POLICY, "front endpoint: not on the admin port");
            return null;
        }
        // the admission policy, as for HTTP: the address from the upgrade request (X-Forwarded-For
        // only from a trusted proxy); a container that does not say who the peer is: not limited per address
        io.jcomet.core.Admission admission = broker.admission();
        int bucket = io.jcomet.core.Admission.NOT_LIMITED;
        if (remote != null && remote.getAddress() != null) {
            bucket = admission.bucket(admission.client(remote.getAddress().getHostAddress(), forwardedFor));
        }
        io.jcomet.core.Admission.Refusal refused = admission.admitSocket(bucket);
        if (refused != null) {
            socket.close(refused.overloaded() ? TRY_AGAIN_LATER : VIOLATED_POLICY, refused.reason());
            return null;
        }
        // the socket lives while it has noops (polling_timeout) or pongs (ws_ping_interval) going
        // through; twice the longer of the two, plus slack, is surely dead
        int beat = Math.max(broker.config().pollingTimeoutSeconds(), broker.config().wsPingIntervalSeconds());
        socket.setIdleTimeoutMillis((beat * 2L + 10) * 1000L);
        WsConnection conn = new WsConnection(hub, socket, bucket);
        hub.opened(conn);
        return conn;
    }

    // ------------------------------------------------------------------ output

    /** Queues one text frame and sends what is queued; false when the socket is gone or over max_pending_bytes. */
    synchronized boolean enqueue(byte[] json) {
        boolean taken = offer(json);
        flush();
        return taken && !gone;
    }

    /**
     * Queues one text frame without sending it (the broker calls this under a channel lock, so
     * frames queue in seq order); false when the socket is gone or already has max_pending_bytes
     * queued (one frame always fits an empty queue). The queue is kept once made: a queue per
     * message would be garbage per socket on every fan-out.
     */
    synchronized boolean offer(byte[] json) {
        if (gone || overflowed) {
            return false;
        }
        if (queuedBytes > 0 && queuedBytes + (long) json.length > broker.config().maxPendingBytes()) {
            overflowed = true;
            return false;
        }
        if (queue == null) {
            queue = new ArrayDeque<>(4);
        }
        queue.add(json);
        queuedBytes += json.length;
        return true;
    }

    /** Starts sending what {@link #offer} queued unless a send is already under way (it goes on by itself). */
    synchronized void flush() {
        if (sending || gone || queue == null || queue.isEmpty()) {
            return;
        }
        sending = true;
        sendLoop(poll());
    }

    /**
     * Sends {@code first}, then whatever is queued, as long as each send completes at once (inside
     * sendText). A send that completes later continues in {@link #onResult}. This loop, rather than
     * recursion from the completion callback, keeps the stack flat however long the queue.
     */
    private void sendLoop(byte[] first) {
        byte[] next = first;
        while (next != null) {
            sendingThread = Thread.currentThread();
            completedInline = false;
            try {
                socket.sendText(next);
            } catch (RuntimeException e) { // IllegalStateException: closed or closing
                sendingThread = null;
                failed();
                return;
            }
            sendingThread = null;
            if (!completedInline || gone) {
                return; // onResult takes over
            }
            next = poll();
        }
    }

    private byte[] poll() {
        byte[] b = queue == null ? null : queue.poll();
        if (b == null) {
            queuedBytes = 0;
            sending = false;
            return null;
        }
        queuedBytes -= b.length;
        return b;
    }

    /** The adapter's report that the send under way ended: {@code ok} false when the socket failed. */
    void sent(boolean ok) {
        synchronized (this) {
            if (!ok) {
                failed();
                return;
            }
            if (sendingThread == Thread.currentThread()) {
                completedInline = true; // sendLoop goes on
                return;
            }
            if (gone) {
                return;
            }
            byte[] next = poll();
            if (next != null) {
                sendLoop(next);
            }
        }
    }

    /** A send failed: the client is gone. The broker notices on its next send and drops us. */
    private void failed() {
        gone = true;
        queue = null;
        queuedBytes = 0;
        sending = false;
    }

    synchronized boolean isGone() {
        return gone;
    }

    /** Channel subscriptions this socket holds (tests, diagnostics). */
    synchronized int subscriptionCount() {
        return subCount;
    }

    /** The broker dropped a subscription of ours as unable to take more: the socket goes. */
    void dropSocket() {
        boolean slow;
        synchronized (this) {
            slow = overflowed && !gone;
            gone = true;
            queue = null;
        }
        String why = slow ? "slow reader: more than max_pending_bytes unsent" : "gone";
        hub.later(() -> {
            // A reader that stopped reading cannot take the close frame either: a short idle timeout
            // makes the container give up on the stuck write and drop the connection.
            socket.setIdleTimeoutMillis(DROP_TIMEOUT_MILLIS);
            socket.close(VIOLATED_POLICY, why);
        });
    }

    // ------------------------------------------------------------------ subscriptions

    /** A subscription ended by the broker (close, reconnect, refusal, drop): no longer ours. */
    synchronized void ended(WsSubscriber s) {
        for (int i = 0; i < subCount; i++) {
            if (subs[i] == s) {
                subs[i] = subs[--subCount];
                subs[subCount] = null;
                broker.admission().releaseHeld(bucket); // once: it is no longer in subs
                return;
            }
        }
    }

    private WsSubscriber find(String cname) {
        for (int i = 0; i < subCount; i++) {
            if (subs[i].cname.equals(cname)) {
                return subs[i];
            }
        }
        return null;
    }

    /**
     * Subscribes this socket to one more channel; answers with {@code sub_ok} or an error frame.
     * The admission policy decides as for an HTTP subscription (held per address, new-channel rate,
     * memory budget); an admitted subscription holds its count until it leaves {@code subs}.
     */
    void subscribe(String cname, int seq, String token, String epoch, int noop) {
        WsSubscriber s;
        synchronized (this) {
            if (gone) {
                return;
            }
            if (find(cname) != null) {
                error("sub", cname, "already subscribed to this channel on this socket");
                return;
            }
            if (subCount >= broker.config().wsMaxChannels()) {
                hub.reject(WsHub.Reject.TOO_MANY_CHANNELS);
                error("sub", cname, "more than ws_max_channels (" + broker.config().wsMaxChannels() + ") channels on one socket");
                return;
            }
        }
        // outside our lock: it looks the channel up in the table (whose lock is never held with ours)
        io.jcomet.core.Admission.Refusal refused = broker.admission().admitSubscription(bucket, cname, true);
        if (refused != null) {
            synchronized (this) {
                error("sub", cname, refused.reason(), refused.httpStatus(), refused.retryAfterSeconds());
            }
            return;
        }
        synchronized (this) {
            if (gone) {
                broker.admission().releaseHeld(bucket);
                return;
            }
            s = new WsSubscriber(this, cname, noop);
            if (subCount == subs.length) {
                subs = Arrays.copyOf(subs, Math.max(2, subCount * 2));
            }
            subs[subCount++] = s;
            // first, so that it precedes whatever the broker sends for this channel
            enqueue(answer("sub_ok", cname));
        }
        broker.subscribe(s, new Broker.SubscribeRequest(cname, seq, token, epoch));
    }

    private void unsubscribe(String cname) {
        WsSubscriber s;
        synchronized (this) {
            s = find(cname);
            if (s == null) {
                error("unsub", cname, "not subscribed to this channel on this socket");
                return;
            }
            ended(s);
        }
        s.unsubscribe(broker); // outside our lock: the broker takes the channel's
        synchronized (this) {
            enqueue(answer("unsub_ok", cname));
        }
    }

    private static byte[] answer(String type, String cname) {
        StringBuilder b = new StringBuilder(32 + cname.length()).append("{\"type\":\"").append(type).append("\",\"cname\":");
        return Json.quote(b, cname).append('}').toString().getBytes(StandardCharsets.UTF_8);
    }

    private void error(String op, String cname, String reason) {
        error(op, cname, reason, 0, 0);
    }

    /** An error frame; {@code status} (429, 503) and {@code retryAfter} seconds when the admission policy refused. */
    private void error(String op, String cname, String reason, int status, int retryAfter) {
        StringBuilder b = new StringBuilder(64 + reason.length()).append("{\"type\":\"error\",\"op\":");
        Json.quote(b, op);
        if (cname != null) {
            Json.quote(b.append(",\"cname\":"), cname);
        }
        if (status != 0) {
            b.append(",\"status\":").append(status).append(",\"retry_after\":").append(retryAfter);
        }
        Json.quote(b.append(",\"reason\":"), reason).append('}');
        enqueue(b.toString().getBytes(StandardCharsets.UTF_8));
    }

    // ------------------------------------------------------------------ input

    /** The subscription in the upgrade URL ({@code /ws?cname=..&seq=..}), if any. */
    void subscribeFromQuery(String query) {
        if (query == null || io.jcomet.protocol.Query.get(query, "cname") == null) {
            return; // a socket may start empty and subscribe with frames
        }
        try {
            String cname = Params.cname(io.jcomet.protocol.Query.get(query, "cname"), broker.config().maxCnameLength());
            int seq = Params.integer("seq", io.jcomet.protocol.Query.get(query, "seq"), 0);
            int noop = Params.integer("noop", io.jcomet.protocol.Query.get(query, "noop"), 0);
            String epoch = epoch(io.jcomet.protocol.Query.get(query, "epoch"));
            subscribe(cname, seq, io.jcomet.protocol.Query.get(query, "token"), epoch, noop);
        } catch (BadRequestException e) {
            hub.reject(WsHub.Reject.BAD_FRAME);
            synchronized (this) {
                error("sub", null, e.getMessage());
            }
        }
    }

    private static String epoch(String epoch) throws BadRequestException {
        if (epoch != null && (epoch.length() > 32 || !epoch.chars().allMatch(c -> c == '.' || Character.isLetterOrDigit(c)))) {
            throw new BadRequestException("epoch must be what the server sent (letters, digits, dots)");
        }
        return epoch;
    }

    /** One whole text message from the client (the adapter joined its fragments and checked its UTF-8). */
    void onMessage(String frame) {
        hub.frameIn();
        if (!withinRate()) {
            hub.reject(WsHub.Reject.RATE);
            synchronized (this) {
                error("rate", null, "more than ws_max_frames_per_second (" + broker.config().wsMaxFramesPerSecond() + ") frames; frame ignored");
            }
            return;
        }
        String op = null;
        String cname = null;
        try {
            Map<String, String> f = ClientFrame.parse(frame);
            op = f.get("op");
            cname = f.get("cname");
            if ("sub".equals(op)) {
                String c = Params.cname(cname, broker.config().maxCnameLength());
                subscribe(c, Params.integer("seq", f.get("seq"), 0), f.get("token"), epoch(f.get("epoch")),
                        Params.integer("noop", f.get("noop"), 0));
            } else if ("unsub".equals(op)) {
                unsubscribe(Params.cname(cname, broker.config().maxCnameLength()));
            } else {
                throw new BadRequestException("op must be sub or unsub");
            }
        } catch (ClientFrame.BadFrame | BadRequestException e) {
            hub.reject(WsHub.Reject.BAD_FRAME);
            synchronized (this) {
                error(op == null ? "?" : op, cname, e.getMessage());
            }
        }
    }

    /** Fixed one-second windows: cheap, and the limit is per socket. */
    private boolean withinRate() {
        long now = System.nanoTime();
        if (now - rateWindowStart >= 1_000_000_000L) {
            rateWindowStart = now;
            rateCount = 0;
        }
        return ++rateCount <= broker.config().wsMaxFramesPerSecond();
    }

    // ------------------------------------------------------------------ keep-alive and end

    /**
     * Pings; false (and closes the socket) when the previous ping got no pong. Each ping carries
     * its own 8-byte payload, and only a pong echoing it settles it (RFC 6455: a pong answers with
     * the ping's payload), so a client that never reads cannot stay alive by sending unsolicited
     * pongs. jcomet-ws thread.
     */
    boolean ping() {
        if (pingPending != 0) {
            socket.close(GOING_AWAY, "no pong to the last ping");
            return false;
        }
        synchronized (this) {
            if (gone || sending) {
                return true; // busy sockets are alive enough; a ping now would queue behind the output
            }
        }
        long payload = (++pingCounter * 0x9E3779B97F4A7C15L) ^ System.identityHashCode(this) ^ System.nanoTime();
        if (payload == 0) {
            payload = 1;
        }
        pingPending = payload;
        try {
            socket.sendPing(payload);
        } catch (IOException | RuntimeException e) {
            // closing (onClose follows), or the container refused a ping next to a send just begun:
            // not the client's fault, so no pong is owed for it
            pingPending = 0;
        }
        return true;
    }

    /** A pong from the client, its application data as received. */
    void pong(ByteBuffer data) {
        long owed = pingPending;
        if (owed != 0 && data != null && data.remaining() == 8 && data.getLong(data.position()) == owed) {
            pingPending = 0;
        }
    }

    /** A binary frame: jcomet speaks text only (docs/PROTOCOL.md), so the socket is closed with 1003. */
    void binary(ByteBuffer ignored) {
        hub.reject(WsHub.Reject.BINARY);
        socket.close(CANNOT_ACCEPT, "binary frames are not accepted: send JSON text frames");
    }

    /** The socket closed (either side, this close code; -1 when none) or failed: every subscription of it ends. Container thread. */
    void closed(int code) {
        WsSubscriber[] mine;
        synchronized (this) {
            gone = true;
            queue = null;
            mine = Arrays.copyOf(subs, subCount);
            for (int i = 0; i < subCount; i++) {
                broker.admission().releaseHeld(bucket);
            }
            subCount = 0;
            subs = NONE;
        }
        broker.admission().releaseSocket(bucket);
        if (code == TOO_BIG) {
            hub.reject(WsHub.Reject.FRAME_TOO_LARGE);
        }
        for (WsSubscriber s : mine) {
            s.onClientGone(broker); // outside our lock
        }
        hub.closed(this);
    }
}
