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
 * <p>The sweeper reads {@code slots} without the lock to scan for expired channels; it then takes
 * the channel's own lock and checks {@code removed}, so a stale read is harmless.
 */
final class ChannelTable {
    private final Channel[] slots;
    private final int[] free;
    private int freeTop;
    private volatile int highWater;
    private final ConcurrentHashMap<String, Channel> byName = new ConcurrentHashMap<>();
    private int incarnations;

    ChannelTable(int capacity) {
        this.slots = new Channel[capacity];
        this.free = new int[capacity];
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
        Channel c = byName.get(name);
        if (c != null) {
            return c;
        }
        synchronized (this) {
            c = byName.get(name);
            if (c != null) {
                return c;
            }
            int slot;
            if (freeTop > 0) {
                slot = free[--freeTop];
            } else if (highWater < slots.length) {
                slot = highWater++;
            } else {
                return null;
            }
            c = new Channel(name, slot, ++incarnations, timeoutMillis, now);
            slots[slot] = c;
            byName.put(name, c);
            return c;
        }
    }

    /** Frees the channel's slot; the caller has marked it removed under the channel's lock. */
    void remove(Channel c) {
        synchronized (this) {
            if (slots[c.slot] == c) {
                slots[c.slot] = null;
                free[freeTop++] = c.slot;
                byName.remove(c.name, c);
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
