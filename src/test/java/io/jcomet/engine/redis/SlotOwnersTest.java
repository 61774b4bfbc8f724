package io.jcomet.engine.redis;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.lettuce.core.RedisURI;
import io.lettuce.core.cluster.models.partitions.RedisClusterNode;
import io.lettuce.core.cluster.models.partitions.RedisClusterNode.NodeFlag;
import java.util.ArrayList;
import java.util.BitSet;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.Test;

/** Which slots a topology change moves, and so which channels a node subscribes again. No Redis. */
class SlotOwnersTest {
    private static final int THIRD = SlotOwners.SLOTS / 3;

    private static RedisClusterNode master(String id, int port, int from, int to) {
        List<Integer> slots = new ArrayList<>();
        for (int s = from; s < to; s++) {
            slots.add(s);
        }
        return new RedisClusterNode(RedisURI.create("redis://127.0.0.1:" + port), id, true, null, 0, 0, 0, slots,
                Set.of(NodeFlag.UPSTREAM));
    }

    private static RedisClusterNode replica(String id, int port, String of) {
        return new RedisClusterNode(RedisURI.create("redis://127.0.0.1:" + port), id, true, of, 0, 0, 0, List.of(),
                Set.of(NodeFlag.REPLICA));
    }

    /** Three masters, A B C, each with a replica. */
    private static List<RedisClusterNode> threeByTwo() {
        return List.of(master("A", 7000, 0, THIRD), master("B", 7001, THIRD, 2 * THIRD),
                master("C", 7002, 2 * THIRD, SlotOwners.SLOTS),
                replica("a", 7003, "A"), replica("b", 7004, "B"), replica("c", 7005, "C"));
    }

    private static BitSet moved(List<RedisClusterNode> before, List<RedisClusterNode> after) {
        return SlotOwners.of(before).movedIn(SlotOwners.of(after));
    }

    @Test
    void theSameTopologyMovesNothing() {
        assertTrue(moved(threeByTwo(), threeByTwo()).isEmpty());
    }

    @Test
    void aMasterFailedOverMovesItsSlotsAndOnlyThose() {
        List<RedisClusterNode> after = List.of(master("A", 7000, 0, THIRD),
                new RedisClusterNode(RedisURI.create("redis://127.0.0.1:7001"), "B", false, null, 0, 0, 0, List.of(),
                        Set.of(NodeFlag.UPSTREAM, NodeFlag.FAIL)),
                master("C", 7002, 2 * THIRD, SlotOwners.SLOTS),
                replica("a", 7003, "A"), master("b", 7004, THIRD, 2 * THIRD), replica("c", 7005, "C"));
        BitSet m = moved(threeByTwo(), after);
        assertEquals(THIRD, m.cardinality(), "B's third of the slots moved to its replica");
        assertEquals(THIRD, m.nextSetBit(0));
        assertEquals(2 * THIRD - 1, m.previousSetBit(SlotOwners.SLOTS - 1));
    }

    @Test
    void aMasterMarkedFailingKeepsItsSlotsUntilItsReplicaTakesOver() {
        List<RedisClusterNode> failing = new ArrayList<>(threeByTwo());
        failing.set(1, new RedisClusterNode(RedisURI.create("redis://127.0.0.1:7001"), "B", false, null, 0, 0, 0,
                master("B", 7001, THIRD, 2 * THIRD).getSlots(), Set.of(NodeFlag.UPSTREAM, NodeFlag.FAIL)));
        assertTrue(moved(threeByTwo(), failing).isEmpty(), "no node serves B's slots yet other than B: nothing to move to");
    }

    @Test
    void aReplicaAddedMovesNothing() {
        List<RedisClusterNode> after = new ArrayList<>(threeByTwo());
        after.add(replica("a2", 7006, "A"));
        assertTrue(moved(threeByTwo(), after).isEmpty());
    }

    @Test
    void aMasterAtAnotherAddressOrWithAnotherIdIsAnotherOwner() {
        List<RedisClusterNode> movedPort = new ArrayList<>(threeByTwo());
        movedPort.set(2, master("C", 7102, 2 * THIRD, SlotOwners.SLOTS));
        assertEquals(SlotOwners.SLOTS - 2 * THIRD, moved(threeByTwo(), movedPort).cardinality());

        List<RedisClusterNode> newId = new ArrayList<>(threeByTwo());
        newId.set(0, master("A-restarted-empty", 7000, 0, THIRD));
        assertEquals(THIRD, moved(threeByTwo(), newId).cardinality());
    }

    @Test
    void slotsMigratedBetweenMastersMoveAndAnUnservedSlotIsAlwaysTriedAgain() {
        List<RedisClusterNode> resharded = List.of(master("A", 7000, 0, THIRD + 100),
                master("B", 7001, THIRD + 100, 2 * THIRD), master("C", 7002, 2 * THIRD, SlotOwners.SLOTS - 1));
        BitSet m = moved(threeByTwo(), resharded);
        assertEquals(101, m.cardinality(), "100 slots from B to A, and the last slot nobody serves");
        assertTrue(m.get(THIRD) && m.get(THIRD + 99) && !m.get(THIRD + 100) && m.get(SlotOwners.SLOTS - 1));
        assertTrue(moved(resharded, resharded).get(SlotOwners.SLOTS - 1), "still unserved: subscribe again next time too");
    }

    @Test
    void aChannelsSlotIsRedisHashSlotOfItsTag() {
        assertEquals(12182, SlotOwners.slotOf("foo"), "CLUSTER KEYSLOT foo");
        assertEquals(SlotOwners.slotOf("foo"), SlotOwners.slotOf("jcomet:{foo}"), "the hash tag decides");
    }
}
