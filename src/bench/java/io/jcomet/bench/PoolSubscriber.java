package io.jcomet.bench;

import java.net.InetSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.SelectionKey;
import java.nio.channels.SocketChannel;

/**
 * One subscriber of a {@link SubscriberPool}: its channel, its target, its connection state, its
 * transport's {@link WireDecoder} and its {@link SeqAccount}.
 *
 * <p>Threads: every field but the final ones belongs to the owning {@link Reactor}'s thread; the
 * scenario thread reads the account only after the pool stopped.
 */
final class PoolSubscriber {

    static final byte CLOSED = 0;
    static final byte CONNECTING = 1;
    static final byte CONNECTED = 2;
    static final byte DONE = 3; // gave up (401, 404, close, too many failures)

    final int id;
    final String cname;
    final int chan;
    final InetSocketAddress target;
    final InetSocketAddress source;
    final Reactor reactor;
    final SeqAccount acct;
    final WireDecoder decoder;
    SocketChannel ch;
    SelectionKey key;
    ByteBuffer pending;
    /** --tls: this connection's engine (null: plain, or not connected). */
    javax.net.ssl.SSLEngine tls;
    /** --tls: the handshake is done and requests may be written. */
    boolean tlsReady;
    /** --tls: when this connection's handshake began (ms), to tell a resumed session from a new one. */
    long tlsStartMillis;
    /** --tls: the start of a TLS record read without its end (null: none). */
    ByteBuffer tlsLeft;
    byte state = CLOSED;
    /** A request is written and its answer (or, for streams, its end) has not come: held. */
    boolean outstanding;
    boolean wanted = true; // false after closeAll(): do not reconnect by itself
    boolean owned; // listed in its reactor's 'mine'
    int noop;
    int failures;
    long deliveries;

    PoolSubscriber(int id, String cname, int chan, InetSocketAddress target, InetSocketAddress source,
                   Reactor reactor, int startSeq, WireDecoder decoder) {
        this.id = id;
        this.cname = cname;
        this.chan = chan;
        this.target = target;
        this.source = source;
        this.reactor = reactor;
        this.acct = new SeqAccount(startSeq);
        this.decoder = decoder;
    }
}
