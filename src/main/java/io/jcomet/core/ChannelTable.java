package io.jcomet.core;

import java.util.concurrent.ConcurrentHashMap;

/**
 * The fixed-capacity channel table: one preallocated array of {@code max_channels} slots, a stack of
 * free slot numbers, and a name index. Lookups are lock-free ({@link ConcurrentHashMap#get});
 * creating and removing a channel take this table's monitor, which guards {@code slots},
 * {@code free}, {@code freeTop} and {@code highWater}. The array and the stack are allocated at
 * start (2 x 4 bytes per slot: 8 MB for a million), channels themselves on demand, and a freed
 * slot is reused by the next channel.
 *
 * <p>Channels asked for by the front (a subscriber) may fill the table only up to {@code frontLimit};
 * the rest is kept for channels the admin API creates, so anonymous subscribers cannot lock the
 * back end out of publishing.
 *
 * <p>The incarnation counter is a {@code long} (never wraps in practice) and printed unsigned.
 *
 * <p>Lock order: the table's lock is never taken with a channel's held, nor the reverse (checked by
 * {@link LockOrder} under {@code -ea}).
 *
 * <p>The sweeper reads {@code slots} without the lock to scan for expired channels; it then takes
 * the channel's own lock and checks {@code removed}, so a stale read is harmless.
 */
final class ChannelTable {
    private final Channel[] slots;
    private final int[] free;
    private int freeTop;
    private volatile int highWater;
    private final ConcurrentHashMap<String, Channel> byName = new ConcurrentHashMap<>();
    private final int frontLimit;
    private int used;          // guarded by this
    private long incarnations; // guarded by this

    ChannelTable(int capacity) {
        this(capacity, 0);
    }

    ChannelTable(int capacity, int reservedForAdmin) {
        this.slots = new Channel[capacity];
        this.free = new int[capacity];
        this.frontLimit = Math.max(0, capacity - reservedForAdmin);
    }

    /** Test hook: continue counting incarnations from {@code n}. */
    synchronized void incarnationsFrom(long n) {
        incarnations = n;
    }

    int capacity() {
        return slots.length;
    }

    int size() {
        return byName.size();
    }

    Channel get(String name) {
        return byName.get(name);
    }

    /** Returns the channel, creating it if needed; null when the table is full. */
    Channel getOrCreate(String name, int timeoutMillis, int now) {
        return getOrCreate(name, timeoutMillis, now, false);
    }

    /**
     * Returns the channel, creating it if needed; null when the table is full, or, for the front
     * ({@code front} true), when only the slots kept for the admin API are left.
     */
    Channel getOrCreate(String name, int timeoutMillis, int now, boolean front) {
        Channel c = byName.get(name);
        if (c != null) {
            return c;
        }
        synchronized (this) {
            assert LockOrder.enterTable();
            try {
                c = byName.get(name);
                if (c != null) {
                    return c;
                }
                if (front && used >= frontLimit) {
                    return null;
                }
                int slot;
                if (freeTop > 0) {
                    slot = free[--freeTop];
                } else if (highWater < slots.length) {
                    slot = highWater++;
                } else {
                    return null;
                }
                if (++incarnations == 0) {
                    incarnations = 1; // 0 is the epoch of "not created yet" (Broker)
                }
                c = new Channel(name, slot, incarnations, timeoutMillis, now);
                c.madeByFront = front;
                used++;
                slots[slot] = c;
                byName.put(name, c);
                return c;
            } finally {
                assert LockOrder.exitTable();
            }
        }
    }

    /** Frees the channel's slot; the caller has marked it removed under the channel's lock. */
    void remove(Channel c) {
        synchronized (this) {
            assert LockOrder.enterTable();
            try {
                if (slots[c.slot] == c) {
                    slots[c.slot] = null;
                    free[freeTop++] = c.slot;
                    used--;
                    byName.remove(c.name, c);
                }
            } finally {
                assert LockOrder.exitTable();
            }
        }
    }

    /** Slots in use are all below this index. */
    int highWater() {
        return highWater;
    }

    /** Racy read for scans; see the class comment. */
    Channel slot(int i) {
        return slots[i];
    }
}
