package io.jcomet.core;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

class MessageRingTest {
    private static Message m(int seq) {
        return new Message(Message.Kind.DATA, seq, new byte[0]);
    }

    @Test
    void keepsTheLastCapacityMessagesInOrder() {
        MessageRing r = new MessageRing(3);
        for (int s = 1; s <= 5; s++) {
            r.add(m(s));
        }
        assertEquals(3, r.size());
        assertEquals(3, r.oldestSeq());
        Message[] out = new Message[4];
        assertEquals(3, r.copyFrom(1, out, 0));
        assertEquals(3, out[0].seq());
        assertEquals(5, out[2].seq());
        assertEquals(2, r.copyFrom(4, out, 1));
        assertEquals(4, out[1].seq());
        assertEquals(0, r.copyFrom(6, out, 0));
    }

    @Test
    void seqComparisonSurvivesWrapAround() {
        int max = 0xFFFFFFFF; // 4294967295 unsigned
        assertTrue(Seq.after(1, max), "1 comes after 2^32-1");
        assertTrue(Seq.after(Integer.MIN_VALUE, Integer.MAX_VALUE));
        assertFalse(Seq.after(max, 1));
        MessageRing r = new MessageRing(4);
        r.add(m(-2)); r.add(m(-1)); r.add(m(1)); r.add(m(2)); // ..., 2^32-2, 2^32-1, (0 skipped), 1, 2
        Message[] out = new Message[4];
        assertEquals(3, r.copyFrom(-1, out, 0), "from 2^32-1 across the wrap");
        assertEquals(-1, out[0].seq());
        assertEquals(2, out[2].seq());
    }

    @Test
    void clearEmpties() {
        MessageRing r = new MessageRing(2);
        r.add(m(1));
        r.clear();
        assertTrue(r.isEmpty());
    }
}
