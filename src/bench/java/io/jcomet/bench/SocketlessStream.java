package io.jcomet.bench;

import io.jcomet.core.Message;
import io.jcomet.core.Subscriber;
import io.jcomet.protocol.Transport;

/**
 * A held stream without a socket, for in-process probes of the publish path: whatever it is
 * offered goes to {@link #offer} (the probe decides what that costs); sends are offers, and
 * refusals and ends are ignored.
 *
 * <p>Threads: as a {@link Subscriber}: offered to under its channel's lock by the publishing thread.
 */
abstract class SocketlessStream extends Subscriber {
    SocketlessStream() {
        super(0);
    }

    @Override
    public Transport transport() {
        return Transport.STREAM;
    }

    @Override
    protected boolean send(Message m) {
        return offer(m);
    }

    @Override
    protected boolean sendAll(Message[] ms, int count) {
        return true;
    }

    @Override
    protected void refuse(int status, Message m) {}

    @Override
    protected void end(Message last) {}
}
