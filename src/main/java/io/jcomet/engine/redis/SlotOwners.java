package io.jcomet.engine.redis;

import io.lettuce.core.RedisURI;
import io.lettuce.core.cluster.SlotHash;
import io.lettuce.core.cluster.models.partitions.RedisClusterNode;
import java.util.BitSet;
import java.util.List;

/**
 * Which node serves each of Redis Cluster's 16,384 hash slots in one topology Lettuce reported, and
 * which slots changed hands between two topologies. A topology change re-subscribes only the
 * channels whose slot moved: the others' shard subscriptions sit on a node that still serves them,
 * and re-reading every channel a node listens to (a million at C1000K) after a replica joins or
 * one master of several fails over would be a thundering herd on the masters that did not change.
 *
 * <p>A node is named by its id and address: a master replaced under the same address (a restart
 * with a fresh node id) or moved to another address counts as a change. A slot no node lists
 * (not yet assigned, or dropped from a partial view) always counts as moved, so its channels are
 * tried again on every change until a node serves it. Immutable; built on Lettuce's event thread.
 */
final class SlotOwners {
    static final int SLOTS = SlotHash.SLOT_COUNT;

    /** The owner of each slot ({@code nodeId@host:port}), null where no node lists it. */
    private final String[] owner = new String[SLOTS];

    private SlotOwners() {}

    /** The slot owners in a topology: the nodes that list each slot (masters; replicas list none). */
    static SlotOwners of(List<RedisClusterNode> nodes) {
        SlotOwners o = new SlotOwners();
        for (RedisClusterNode n : nodes) {
            if (n.hasNoSlots()) {
                continue;
            }
            String name = name(n);
            n.forEachSlot(slot -> o.owner[slot] = name);
        }
        return o;
    }

    private static String name(RedisClusterNode n) {
        RedisURI uri = n.getUri();
        return n.getNodeId() + '@' + (uri == null ? "?" : uri.getHost() + ':' + uri.getPort());
    }

    /**
     * The slots whose owner in {@code after} is not their owner here, and the slots nothing serves
     * in {@code after} (subscribing those again retries them, in case an earlier attempt ran out).
     */
    BitSet movedIn(SlotOwners after) {
        BitSet moved = new BitSet(SLOTS);
        for (int s = 0; s < SLOTS; s++) {
            String b = after.owner[s];
            if (b == null || !b.equals(owner[s])) {
                moved.set(s);
            }
        }
        return moved;
    }

    /** The hash slot of a channel or key, as Redis computes it (the hash tag if any). */
    static int slotOf(String channel) {
        return SlotHash.getSlot(channel);
    }
}
