package io.jcomet.core;

import static io.jcomet.core.ReplayPlan.NONE;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

/** What an arriving subscriber is sent, as numbers: no channel, no lock, no socket. */
class ReplayPlanTest {
    private static final boolean SAME = true;
    private static final boolean OTHER_EPOCH = false;
    private static final boolean JCOMET = true;
    private static final boolean ICOMET = false;
    private static final boolean POLL = false;
    private static final boolean STREAM = true;

    private static void assertPlan(ReplayPlan p, int nextSeq, int gapFrom, int gapLastLost, int replayFrom) {
        assertEquals(nextSeq, p.nextSeq(), "next_seq");
        assertEquals(gapFrom, p.gapFrom(), "gap from");
        assertEquals(gapLastLost, p.gapLastLost(), "gap's last lost seq");
        assertEquals(replayFrom, p.replayFrom(), "replay from");
    }

    @Test
    void whereIsTheChannelIsAnsweredWithItsNextSeq() {
        // channel at next 11, buffer 6..10
        ReplayPlan poll = ReplayPlan.of(0, SAME, JCOMET, 11, 5, 6, POLL, false);
        assertPlan(poll, 11, NONE, NONE, NONE);
        assertTrue(poll.answersAtOnce(1), "a long-poll gets it at once");
        ReplayPlan stream = ReplayPlan.of(0, SAME, JCOMET, 11, 5, 6, STREAM, false);
        assertPlan(stream, 11, NONE, NONE, NONE);
        assertFalse(stream.answersAtOnce(1), "a stream is told and held");
    }

    @Test
    void aSeqPastTheChannelIsPointedBackAtItsNextSeq() {
        assertPlan(ReplayPlan.of(50, SAME, ICOMET, 11, 5, 6, POLL, false), 11, NONE, NONE, NONE);
    }

    @Test
    void aClientAtTheNextSeqGetsNothingAndIsHeld() {
        ReplayPlan p = ReplayPlan.of(11, SAME, JCOMET, 11, 5, 6, POLL, false);
        assertPlan(p, NONE, NONE, NONE, NONE);
        assertFalse(p.answersAtOnce(0));
    }

    @Test
    void aClientBehindWithinTheBufferGetsTheRestWithoutGap() {
        ReplayPlan p = ReplayPlan.of(8, SAME, JCOMET, 11, 5, 6, POLL, false);
        assertPlan(p, NONE, NONE, NONE, 8);
        assertTrue(p.answersAtOnce(3));
        assertEquals(3, p.sent(3), "a long-poll takes all three at once");
    }

    @Test
    void aJcometClientBehindTheBufferIsToldTheGapFirst() {
        assertPlan(ReplayPlan.of(2, SAME, JCOMET, 11, 5, 6, POLL, false), NONE, 2, 5, 2);
    }

    @Test
    void anIcometClientBehindTheBufferGetsWhatIsBufferedWithoutGap() {
        assertPlan(ReplayPlan.of(2, SAME, ICOMET, 11, 5, 6, POLL, false), NONE, NONE, NONE, 2);
    }

    @Test
    void afterAClearAJcometClientIsToldTheGapAndAnIcometClientIsHeld() {
        // buffer emptied by /clear: next 11, nothing buffered
        ReplayPlan jcomet = ReplayPlan.of(7, SAME, JCOMET, 11, 0, 0, POLL, false);
        assertPlan(jcomet, NONE, 7, 10, NONE);
        assertTrue(jcomet.answersAtOnce(1));
        ReplayPlan icomet = ReplayPlan.of(7, SAME, ICOMET, 11, 0, 0, POLL, false);
        assertPlan(icomet, NONE, NONE, NONE, NONE);
        assertFalse(icomet.answersAtOnce(0), "held until the next message");
    }

    @Test
    void anotherEpochPointsALongPollAtTheOldestBufferedMessage() {
        ReplayPlan p = ReplayPlan.of(40, OTHER_EPOCH, JCOMET, 11, 5, 6, POLL, false);
        assertPlan(p, 6, NONE, NONE, NONE);
        assertTrue(p.answersAtOnce(1));
    }

    @Test
    void anotherEpochGivesAStreamTheOldestThenEveryBufferedMessage() {
        assertPlan(ReplayPlan.of(40, OTHER_EPOCH, JCOMET, 11, 5, 6, STREAM, false), 6, NONE, NONE, 6);
    }

    @Test
    void anotherEpochWithNothingBufferedPointsAtTheNextSeq() {
        assertPlan(ReplayPlan.of(3, OTHER_EPOCH, JCOMET, 11, 0, 0, STREAM, false), 11, NONE, NONE, NONE);
    }

    @Test
    void aOneMessageLongPollTakesTheOldestOnly() {
        ReplayPlan p = ReplayPlan.of(2, SAME, JCOMET, 11, 5, 6, POLL, true);
        assertEquals(1, p.sent(6), "the gap alone; it comes back for the messages");
        ReplayPlan stream = ReplayPlan.of(2, SAME, JCOMET, 11, 5, 6, STREAM, true);
        assertEquals(6, stream.sent(6), "a stream takes everything");
    }

    @Test
    void seqsAreComparedAcrossTheWrapAndTheGapNeverNamesSeqZero() {
        // the channel wrapped: next 5, buffer 1..4; a client at 0xfffffff0 (unsigned) is behind it
        int asked = 0xfffffff0;
        ReplayPlan p = ReplayPlan.of(asked, SAME, JCOMET, 5, 4, 1, POLL, false);
        assertPlan(p, NONE, asked, -1, asked); // the last lost seq before 1 is 0xffffffff: 0 is skipped
        // a client at seq 3 of the same channel is within the buffer
        assertPlan(ReplayPlan.of(3, SAME, JCOMET, 5, 4, 1, POLL, false), NONE, NONE, NONE, 3);
    }
}
