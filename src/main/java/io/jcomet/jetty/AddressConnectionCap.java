package io.jcomet.jetty;

import java.net.InetAddress;
import java.net.Socket;
import java.nio.channels.SelectableChannel;
import java.nio.channels.SocketChannel;
import java.util.concurrent.atomic.AtomicIntegerArray;
import java.util.concurrent.atomic.LongAdder;
import java.util.function.Predicate;
import org.eclipse.jetty.io.SelectorManager;
import org.eclipse.jetty.util.IO;

/**
 * A cap on the open TCP connections of one client address on a group of connectors: past
 * {@code max}, a newly accepted connection is closed before Jetty builds anything for it, and
 * counted. Counted at the socket, so a connection upgraded to WebSocket still counts.
 *
 * <p>Memory is fixed whatever the number of addresses: counts live in a preallocated array indexed
 * by a hash of the address ({@link #BUCKETS} ints, 1 MB); two addresses sharing a bucket share its
 * allowance, which with 256k buckets and caps in the hundreds refuses no real client. Exempt
 * addresses are not counted.
 *
 * <p>Threads: the connectors' selector threads (accept, close); atomic array operations only. The
 * peer address is read from the channel's socket, which Jetty creates at accept and which still
 * answers after the channel is closed.
 */
public final class AddressConnectionCap implements SelectorManager.AcceptListener {
    static final int BUCKETS = 1 << 18;

    private final int max;
    private final Predicate<String> exempt;
    private final AtomicIntegerArray open = new AtomicIntegerArray(BUCKETS);
    private final LongAdder refused;

    public AddressConnectionCap(int max, Predicate<String> exempt, LongAdder refused) {
        this.max = max;
        this.exempt = exempt;
        this.refused = refused;
    }

    @Override
    public void onAccepting(SelectableChannel channel) {
        int b = bucket(channel);
        if (b >= 0 && open.incrementAndGet(b) > max) {
            refused.increment();
            IO.close(channel); // Jetty then reports onAcceptFailed, which gives the count back
        }
    }

    @Override
    public void onAcceptFailed(SelectableChannel channel, Throwable cause) {
        release(channel);
    }

    @Override
    public void onClosed(SelectableChannel channel) {
        release(channel);
    }

    /** Open connections counted for this address's bucket (tests, diagnostics). */
    public int openFor(InetAddress address) {
        return open.get(bucket(address.getAddress()));
    }

    private void release(SelectableChannel channel) {
        int b = bucket(channel);
        if (b >= 0) {
            open.decrementAndGet(b);
        }
    }

    /** The bucket of the channel's peer, or -1 when it is exempt or unknown. */
    private int bucket(SelectableChannel channel) {
        if (!(channel instanceof SocketChannel sc)) {
            return -1;
        }
        Socket s = sc.socket();
        InetAddress a = s == null ? null : s.getInetAddress();
        if (a == null || exempt.test(a.getHostAddress())) {
            return -1;
        }
        return bucket(a.getAddress());
    }

    private static int bucket(byte[] address) {
        int h = 1;
        for (byte x : address) {
            h = 31 * h + x;
        }
        h *= 0x9E3779B9;
        return (h ^ (h >>> 15)) & (BUCKETS - 1);
    }
}
