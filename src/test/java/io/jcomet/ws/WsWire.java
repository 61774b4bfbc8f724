package io.jcomet.ws;

import com.fasterxml.jackson.databind.JsonNode;
import io.jcomet.core.Broker;
import io.jcomet.protocol.Transport;
import io.jcomet.support.JsonFrames;
import io.jcomet.support.Wire;
import jakarta.websocket.CloseReason;
import jakarta.websocket.RemoteEndpoint;
import jakarta.websocket.SendHandler;
import jakarta.websocket.SendResult;
import jakarta.websocket.Session;
import java.io.IOException;
import java.lang.reflect.Proxy;
import java.util.ArrayList;
import java.util.List;

/**
 * A {@link WsConnection} over a scripted session (tests): the real subscription, queue and send
 * loop of a WebSocket, no socket. Sends complete inline (as a container does when the socket
 * takes the frame at once) or fail when told. The hub's worker is stopped, so what it would run
 * later (closing a dropped socket) runs at once, on the calling thread.
 */
public final class WsWire implements Wire {
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
            RemoteEndpoint.Async remote = (RemoteEndpoint.Async) Proxy.newProxyInstance(getClass().getClassLoader(),
                    new Class<?>[] {RemoteEndpoint.Async.class}, (p, m, a) -> {
                        if (m.getName().equals("sendText") && a.length == 2) {
                            send((String) a[0], (SendHandler) a[1]);
                        }
                        return null;
                    });
            Session session = (Session) Proxy.newProxyInstance(getClass().getClassLoader(),
                    new Class<?>[] {Session.class}, (p, m, a) -> {
                        switch (m.getName()) {
                            case "getAsyncRemote":
                                return remote;
                            case "close":
                                onServerClose(a == null || a.length == 0 ? null : (CloseReason) a[0]);
                                return null;
                            case "isOpen":
                                return closes == 0;
                            default:
                                return null;
                        }
                    });
            conn = new WsConnection(hub, session, io.jcomet.core.Admission.NOT_LIMITED);
            hub.opened(conn);
        }
        conn.subscribe(cname, seq, null, null, 0);
    }

    private void send(String text, SendHandler handler) {
        if (failing) {
            handler.onResult(new SendResult(new IOException("connection reset by peer")));
            return;
        }
        synchronized (frames) {
            frames.add(text);
        }
        Runnable r = duringSend;
        duringSend = null;
        if (r != null) {
            r.run();
        }
        handler.onResult(new SendResult());
    }

    /** The server closed the socket: the container then reports it closed, as onClose would. */
    private void onServerClose(CloseReason reason) {
        synchronized (this) {
            closes++;
        }
        conn.closed(reason);
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
        conn.closed(new CloseReason(CloseReason.CloseCodes.CLOSED_ABNORMALLY, "client gone"));
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
