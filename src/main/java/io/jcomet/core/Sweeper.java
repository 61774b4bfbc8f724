package io.jcomet.core;

import io.jcomet.protocol.Messages;
import java.util.ArrayList;

/**
 * The broker's one background thread ({@code jcomet-sweeper}), every 100 ms: sends a {@code noop}
 * to each subscriber whose {@code polling_timeout} passed (a long-poll is answered and ended, a
 * stream is written to and kept), tells long-held subscribers they are ({@link
 * Subscriber#onHeldLong}), expires channels idle past their timeout (presence {@code 0 cname}) and
 * repeats {@code 1 cname} for live channels every {@code channel_timeout}.
 *
 * <p>Threads: {@link #sweepOnce} runs on the sweeper thread (or a test's), and owns
 * {@link #scanCursor} and {@link #noopsToEnd}. It takes one channel's lock at a time, never with
 * the table's (it reads the table's slots without a lock; see {@link ChannelTable}).
 */
final class Sweeper {
    private final Broker broker;
    private final ChannelTable table;
    private final HeldTimers timers;
    private final Stats stats;
    private final Presence presence;
    private final int pollingTimeoutMillis;
    private final int channelTimeoutMillis;
    /** When a held subscriber hears {@link Subscriber#onHeldLong} (0: never). */
    private final int heldLongMillis;
    private final Thread thread;
    private int scanCursor;
    /** Long-polls a sweep answered with a noop, ended after the sweep's writes. */
    private final ArrayList<Subscriber> noopsToEnd = new ArrayList<>();

    Sweeper(Broker broker, ChannelTable table, HeldTimers timers, Stats stats, Presence presence,
            int pollingTimeoutMillis, int channelTimeoutMillis, int heldLongMillis, boolean ownThread) {
        this.broker = broker;
        this.table = table;
        this.timers = timers;
        this.stats = stats;
        this.presence = presence;
        this.pollingTimeoutMillis = pollingTimeoutMillis;
        this.channelTimeoutMillis = channelTimeoutMillis;
        this.heldLongMillis = heldLongMillis;
        this.thread = ownThread ? new Thread(this::loop, "jcomet-sweeper") : null;
        if (thread != null) {
            thread.setDaemon(true);
        }
    }

    void start() {
        if (thread != null) {
            thread.start();
        }
    }

    /** Stops the thread and waits for it a little (the broker is closing). */
    void interrupt() {
        if (thread != null) {
            thread.interrupt();
        }
    }

    void join(long millis) throws InterruptedException {
        if (thread != null) {
            thread.join(millis);
        }
    }

    private void loop() {
        Subscriber[] scratch = new Subscriber[256];
        while (!broker.isClosed()) {
            try {
                Thread.sleep(100);
                sweepOnce(scratch);
            } catch (InterruptedException e) {
                return;
            } catch (RuntimeException | Error e) {
                // one bad subscriber must not stop heartbeats for all: report and go on
                System.err.println("jcomet-sweeper: " + e);
                e.printStackTrace();
            }
        }
    }

    /** One pass. */
    void sweepOnce(Subscriber[] scratch) {
        int now = broker.now();
        timers.expire(now, scratch, this::expired);
        // as a publish does: every noop written first, the responses ended after (see sendDeferringEnd)
        for (int i = 0, n = noopsToEnd.size(); i < n; i++) {
            noopsToEnd.get(i).endDeferred();
        }
        noopsToEnd.clear();
        if (heldLongMillis > 0) {
            timers.age(now + pollingTimeoutMillis - heldLongMillis, scratch, Subscriber::onHeldLong);
        }
        scanChannels(now);
    }

    private void expired(Subscriber s) {
        if (s.transport().streaming()) {
            if (s.isEnded()) {
                return;
            }
            Channel ch = s.channel;
            String cname = ch == null ? "" : ch.name;
            if (s.send(Message.control(Messages.noop(cname, s.noopSeq++, ch == null ? null : broker.epoch(ch))))) {
                stats.addNoop();
                timers.add(s, broker.now() + pollingTimeoutMillis);
                if (s.isEnded()) {
                    // it ended while the noop was written (client gone, channel closed): whoever ended it
                    // removed its timer before this add, so take the new one out again
                    timers.remove(s);
                }
            } else {
                broker.unlinkFromChannel(s);
                broker.dropSlow(s);
            }
            return;
        }
        if (!s.claim()) {
            return; // a publish or a departure got there first
        }
        Channel ch = s.channel;
        String cname = ch == null ? "" : ch.name;
        String epoch = ch == null ? null : broker.epoch(ch);
        broker.unlinkFromChannel(s);
        stats.addNoop();
        if (s.sendDeferringEnd(Message.control(Messages.noop(cname, s.noopSeq, epoch)))) {
            noopsToEnd.add(s);
        }
    }

    /** Scans a slice of the slot table for channels to expire; a full pass every ~2 s at most. */
    private void scanChannels(int now) {
        int hw = table.highWater();
        if (hw == 0) {
            return;
        }
        int chunk = Math.max(1024, hw / 20);
        for (int k = 0; k < chunk && k < hw; k++) {
            if (scanCursor >= hw) {
                scanCursor = 0;
            }
            Channel ch = table.slot(scanCursor++);
            if (ch == null) {
                continue;
            }
            boolean remove = false;
            synchronized (ch) {
                assert LockOrder.enter(ch);
                try {
                    if (!ch.removed && ch.subscriberCount() == 0 && now - ch.lastActive >= ch.timeoutMillis) {
                        broker.markRemovedLocked(ch);
                        remove = true;
                    } else {
                        // icomet repeats "1 cname" every channel_timeout while the channel lives
                        presence.repeatLocked(ch, now, channelTimeoutMillis);
                    }
                } finally {
                    assert LockOrder.exit(ch);
                }
            }
            if (remove) {
                table.remove(ch);
            }
        }
    }
}
