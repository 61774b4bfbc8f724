package io.jcomet.bench;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

/**
 * The loss and order accounting: a subscriber that missed, repeated, reordered or was told it lost a
 * message must never be reported as "no loss", and a run that checked nothing must not either.
 */
class SeqAccountTest {

    private static SeqAccount fed(int start, int... seqs) {
        SeqAccount a = new SeqAccount(start);
        for (int s : seqs) {
            a.onData(s);
        }
        return a;
    }

    private static LossReport report(SeqAccount.Verdict... vs) {
        LossReport r = new LossReport();
        for (SeqAccount.Verdict v : vs) {
            r.add(v);
        }
        return r;
    }

    @Test
    void completeInOrderStreamIsClean() {
        SeqAccount a = fed(1, 1, 2, 3, 4, 5);
        SeqAccount.Verdict v = a.verify(1, 5);
        assertTrue(v.clean());
        assertEquals(5, v.received());
        assertEquals(6, a.expected(), "next poll asks for last + 1");
        assertTrue(report(v).noLoss());
    }

    @Test
    void missingSeqIsLoss() {
        SeqAccount.Verdict v = fed(1, 1, 2, 4, 5).verify(1, 5);
        assertFalse(v.clean());
        assertEquals(1, v.missing());
        assertEquals(0, v.outOfOrder());
        LossReport r = report(v);
        assertFalse(r.noLoss());
        assertEquals(1, r.missing);
    }

    @Test
    void missingTailIsLossEvenIfEverythingReceivedWasInOrder() {
        SeqAccount.Verdict v = fed(1, 1, 2, 3).verify(1, 5);
        assertEquals(2, v.missing());
        assertFalse(report(v).noLoss());
    }

    @Test
    void subscriberThatReceivedNothingIsLoss() {
        SeqAccount.Verdict v = new SeqAccount(1).verify(1, 50);
        assertEquals(50, v.missing());
        assertFalse(report(v).noLoss());
    }

    @Test
    void duplicateIsCountedAndNotClean() {
        SeqAccount.Verdict v = fed(1, 1, 2, 2, 3).verify(1, 3);
        assertEquals(1, v.duplicates());
        assertEquals(0, v.missing());
        assertEquals(3, v.received(), "a duplicate does not count as a second delivery");
        assertFalse(v.clean());
        assertFalse(report(v).noLoss());
    }

    @Test
    void duplicateCannotHideAMissingSeq() {
        // 4 messages received for 4 published, but seq 3 is missing and 2 came twice
        SeqAccount.Verdict v = fed(1, 1, 2, 2, 4).verify(1, 4);
        assertEquals(1, v.missing());
        assertEquals(1, v.duplicates());
        assertFalse(report(v).noLoss());
    }

    @Test
    void reorderingIsCountedSeparately() {
        SeqAccount a = fed(1, 1, 3, 2, 4);
        SeqAccount.Verdict v = a.verify(1, 4);
        assertEquals(1, v.outOfOrder());
        assertEquals(0, v.missing());
        assertEquals(0, v.duplicates());
        assertEquals(5, a.expected(), "a late seq does not move the cursor back");
        assertFalse(v.clean());
        assertFalse(report(v).noLoss());
    }

    @Test
    void gapMessageIsServerReportedLossNotDelivery() {
        SeqAccount a = new SeqAccount(1);
        a.onData(1);
        a.onGap(2, 4);
        a.onData(5);
        a.onData(6);
        assertEquals(7, a.expected());
        SeqAccount.Verdict v = a.verify(1, 6);
        assertEquals(3, v.gapLost());
        assertEquals(0, v.missing());
        assertEquals(3, v.received());
        assertFalse(v.clean());
        LossReport r = report(v);
        assertFalse(r.noLoss());
        assertEquals(3, r.gapLost);
    }

    @Test
    void nextSeqBeforeDataMovesTheStartAfterDataIsAnAnomaly() {
        SeqAccount a = new SeqAccount(1);
        a.onNextSeq(11); // channel existed already: start at 11
        assertEquals(11, a.expected());
        a.onData(11);
        a.onData(12);
        assertTrue(a.verify(11, 12).clean());
        a.onNextSeq(1); // server forgot the channel
        SeqAccount.Verdict v = a.verify(11, 12);
        assertEquals(1, v.resets());
        assertFalse(v.clean());
    }

    @Test
    void seqsOutsideThePublishedRangeAreUnexpected() {
        SeqAccount.Verdict v = fed(1, 1, 2, 3, 4).verify(1, 3);
        assertEquals(1, v.unexpected());
        assertFalse(report(v).noLoss());
        SeqAccount before = fed(5, 4, 5);
        assertEquals(1, before.verify(5, 5).unexpected());
    }

    @Test
    void seqsWrapAroundLikeIcomet() {
        int start = Integer.MAX_VALUE - 1;
        SeqAccount a = fed(start, start, start + 1, start + 2, start + 3);
        assertTrue(a.verify(start, start + 3).clean());
    }

    @Test
    void emptyRunIsNotVerified() {
        LossReport r = new LossReport();
        assertFalse(r.noLoss(), "no subscribers checked proves nothing");
        LossReport nothingPublished = report(new SeqAccount(1).verify(1, 0));
        assertFalse(nothingPublished.noLoss(), "nothing published proves nothing");
        assertTrue(nothingPublished.verdictText().startsWith("NOT VERIFIED"));
    }

    @Test
    void oneBadSubscriberAmongManyFailsTheRun() {
        LossReport r = new LossReport();
        for (int i = 0; i < 99; i++) {
            r.add(fed(1, 1, 2, 3).verify(1, 3));
        }
        r.add(fed(1, 1, 3).verify(1, 3));
        assertEquals(100, r.subscribers);
        assertEquals(99, r.subscribersClean);
        assertFalse(r.noLoss());
        assertEquals("FAILED", r.verdictText());
    }
}
