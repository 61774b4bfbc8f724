package io.jcomet.ws;

import com.fasterxml.jackson.databind.JsonNode;
import io.jcomet.core.Broker;
import io.jcomet.protocol.Transport;
import io.jcomet.support.JsonFrames;
import io.jcomet.support.Wire;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;

/**
 * A {@link WsConnection} over a scripted socket (tests): the real subscription, queue and send
 * loop of a WebSocket, no socket. Sends complete inline (as a container does when the socket
 * takes the frame at once) or fail when told. The hub's worker is stopped, so what it would run
 * later (closing a dropped socket) runs at once, on the calling thread.
 */
public final class WsWire implements Wire, WsSocket {
    private final List<String> frames = new ArrayList<>();
    private volatile boolean failing;
    private Runnable duringSend;
    private int closes;
    private WsHub hub;
    private WsConnection conn;

    @Override
    public Transport transport() {
        return Transport.WS;
    }

    @Override
    public void subscribe(Broker broker, String cname, int seq) {
        if (conn == null) {
            hub = new WsHub(broker);
            hub.close(); // later() now runs inline: deterministic
            conn = WsConnection.open(hub, this, null, null, null);
        }
        conn.subscribe(cname, seq, null, null, 0);
    }

    @Override
    public void sendText(byte[] json) {
        if (failing) {
            conn.sent(false); // connection reset by peer
            return;
        }
        synchronized (frames) {
            frames.add(new String(json, StandardCharsets.UTF_8));
        }
        Runnable r = duringSend;
        duringSend = null;
        if (r != null) {
            r.run();
        }
        conn.sent(true);
    }

    @Override
    public void sendPing(long payload) {
        // no pings in these tests
    }

    /** The server closed the socket: the container then reports it closed, as onClose would. */
    @Override
    public void close(int code, String reason) {
        synchronized (this) {
            closes++;
        }
        conn.closed(code);
    }

    @Override
    public void setIdleTimeoutMillis(long millis) {
        // no timeouts here
    }

    @Override
    public void duringNextWrite(Runnable r) {
        duringSend = r;
    }

    @Override
    public void failWrites() {
        failing = true;
    }

    @Override
    public void clientLeaves() {
        conn.closed(1006); // closed abnormally: the client is gone
    }

    @Override
    public List<JsonNode> received() {
        List<JsonNode> out = new ArrayList<>();
        synchronized (frames) {
            for (String f : frames) {
                out.add(JsonFrames.parse(f));
            }
        }
        return out;
    }

    @Override
    public int open() {
        return conn.subscriptionCount();
    }

    @Override
    public synchronized int completions() {
        return closes;
    }

    @Override
    public boolean finished() {
        return conn.subscriptionCount() == 0;
    }

    /** Whether the hub still counts the socket open. */
    public long socketsOpen() {
        return hub.openSockets();
    }

    @Override
    public void close() {
        if (hub != null) {
            hub.close();
        }
    }

    @Override
    public String toString() {
        return "ws";
    }
}
