package io.jcomet.ws;

import io.jcomet.core.Message;
import io.jcomet.core.Subscriber;
import io.jcomet.protocol.Transport;

/**
 * One channel subscription of a WebSocket: the broker sees it as a streaming subscriber; every
 * message it gets goes into its socket's one shared, bounded output queue ({@link WsConnection}).
 *
 * <p>Threads: the broker calls {@link #offer}/{@link #refuse} under the channel's lock and
 * {@link #flush}/{@link #send}/{@link #end} outside it; all of them only go to the connection (lock
 * order: channel, then connection), and nothing is sent on the socket under the channel lock but a
 * refusal. Holds no state of its own beyond the channel name.
 */
final class WsSubscriber extends Subscriber {
    final WsConnection conn;
    final String cname;

    WsSubscriber(WsConnection conn, String cname, int noopSeq) {
        super(noopSeq);
        this.conn = conn;
        this.cname = cname;
    }

    @Override
    public Transport transport() {
        return Transport.WS;
    }

    @Override
    protected boolean send(Message m) {
        return conn.enqueue(m.json());
    }

    /** Queued in the socket's shared queue under the channel lock; sent by {@link #flush} after it. */
    @Override
    protected boolean offer(Message m) {
        return conn.offer(m.json());
    }

    @Override
    protected void flush() {
        conn.flush();
    }

    @Override
    protected boolean sendAll(Message[] ms, int count) {
        for (int i = 0; i < count; i++) {
            if (!conn.enqueue(ms[i].json())) {
                return false;
            }
        }
        return true;
    }

    /** 401/404/429 for this channel: the status frame, as /stream sends it; the socket stays. */
    @Override
    protected void refuse(int status, Message m) {
        conn.enqueue(m.json());
        conn.ended(this);
    }

    /**
     * {@code close} or {@code reconnect} ends this subscription only; {@code null} is the broker
     * dropping it because the socket could not take more (max_pending_bytes) or is gone: the
     * output queue is the socket's, so the whole socket goes.
     */
    @Override
    protected void end(Message last) {
        if (last != null) {
            conn.enqueue(last.json());
            conn.ended(this);
        } else {
            conn.ended(this);
            conn.dropSocket();
        }
    }

    /** A closed or failed socket whose close has not reached the broker yet. */
    @Override
    protected boolean probeGone() {
        return conn.isGone();
    }

    @Override
    protected boolean clientGone() {
        return conn.isGone();
    }
}
