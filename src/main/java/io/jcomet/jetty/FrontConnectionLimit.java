package io.jcomet.jetty;

import java.nio.channels.SelectableChannel;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.LongAdder;
import org.eclipse.jetty.io.SelectorManager;
import org.eclipse.jetty.util.IO;

/**
 * A limit on the open connections of a group of connectors together (the front ports): past
 * {@code max}, a newly accepted connection is closed at once and counted, so the files it would
 * take stay free for the other connectors (the admin port). Closing instead of pausing the accept
 * (Jetty's NetworkConnectionLimit) because with selector-accepting connectors (0 acceptor threads)
 * Jetty 12.1 closes the listening socket for good when the limit is reached and cleared within one
 * selector cycle, as happens at the edge of a flood. Closing needs one free file for an instant,
 * which the reserve below the open-file limit keeps.
 *
 * <p>Threads: the connectors' selector threads; one atomic counter.
 */
public final class FrontConnectionLimit implements SelectorManager.AcceptListener {
    private final int max;
    private final AtomicInteger open = new AtomicInteger();
    private final LongAdder refused;

    public FrontConnectionLimit(int max, LongAdder refused) {
        this.max = max;
        this.refused = refused;
    }

    @Override
    public void onAccepting(SelectableChannel channel) {
        if (open.incrementAndGet() > max) {
            refused.increment();
            IO.close(channel); // Jetty then reports onAcceptFailed, which gives the count back
        }
    }

    @Override
    public void onAcceptFailed(SelectableChannel channel, Throwable cause) {
        open.decrementAndGet();
    }

    @Override
    public void onClosed(SelectableChannel channel) {
        open.decrementAndGet();
    }

    /** Open connections counted now. */
    public int open() {
        return open.get();
    }
}
