package io.jcomet.bench;

import java.util.BitSet;

/**
 * Loss and order accounting of ONE subscriber: which data seqs of its channel it received, in
 * which order, and what the server said about the rest.
 *
 * <p>Every received seq is recorded in a bit set (relative to the seq the subscriber started
 * from), so the final {@link #verify(int, int)} against the range the publisher actually got
 * acknowledged does not trust the receive path's own bookkeeping: a seq that never arrived is
 * missing whatever the cursor says, a seq that arrives twice is a duplicate, a seq that arrives
 * after a later one is out of order, a seq the server declared lost with a {@code gap} message is
 * counted as server-reported loss, never as received.
 *
 * <p>Threads: written by the selector thread that owns the subscriber's connection; read by the
 * scenario thread only after that selector thread has stopped (thread join = happens-before).
 */
final class SeqAccount {

    /** Seq the subscriber started from (seq=1 on a fresh channel, or what next_seq said). */
    private int base;
    /** Next seq the subscriber expects (all seqs below it were received or skipped). */
    private int expected;
    private final BitSet received = new BitSet();
    private final BitSet gapped = new BitSet();

    long receivedCount;
    long duplicates;
    long outOfOrder;
    /** Seqs that arrived before the seq the subscriber started from: it never asked for them. */
    long unexpected;
    /** next_seq answers that disagreed with the cursor after data had been received. */
    long resets;
    long gapMessages;
    long gapSeqs;

    SeqAccount(int startSeq) {
        base = startSeq;
        expected = startSeq;
    }

    /** The next seq to ask for (last received + 1). */
    int expected() {
        return expected;
    }

    int base() {
        return base;
    }

    /** A {@code next_seq} answer: before any data it moves the start; after, it is an anomaly. */
    void onNextSeq(int seq) {
        if (receivedCount == 0 && gapMessages == 0) {
            base = seq;
            expected = seq;
        } else if (seq != expected) {
            resets++;
            if (seq - expected > 0) {
                expected = seq;
            }
        }
    }

    /** A data (or broadcast) message with this seq arrived. */
    void onData(int seq) {
        int off = seq - base;
        if (off < 0) {
            unexpected++;
            return;
        }
        if (received.get(off)) {
            duplicates++;
            return;
        }
        received.set(off);
        receivedCount++;
        if (seq - expected < 0) {
            outOfOrder++; // arrived after a later seq had already been taken
        } else {
            expected = seq + 1;
        }
    }

    /** The server said seqs from..to (inclusive) are lost for this subscriber. */
    void onGap(int from, int to) {
        gapMessages++;
        if (to - from < 0) {
            return;
        }
        for (int s = from; s - to <= 0; s++) {
            int off = s - base;
            if (off >= 0 && !received.get(off) && !gapped.get(off)) {
                gapped.set(off);
                gapSeqs++;
            }
            if (s == Integer.MAX_VALUE) {
                break;
            }
        }
        if (to + 1 - expected > 0) {
            expected = to + 1;
        }
    }

    /** Outcome of comparing what was received with the acknowledged range first..last. */
    record Verdict(long expectedCount, long received, long missing, long duplicates, long outOfOrder,
                   long gapLost, long unexpected, long resets) {

        /** True only when every acknowledged seq arrived exactly once, in order, and nothing else did. */
        boolean clean() {
            return missing == 0 && duplicates == 0 && outOfOrder == 0 && gapLost == 0 && unexpected == 0
                    && resets == 0 && received == expectedCount;
        }
    }

    /**
     * Compares against the seqs the publisher got acknowledged for this channel, first..last
     * inclusive (last &lt; first: nothing was published). Seqs received outside the range count as
     * unexpected.
     */
    Verdict verify(int first, int last) {
        long expectedCount = last - first < 0 ? 0 : (long) (last - first) + 1;
        long inRange = 0;
        long missing = 0;
        long gapLost = 0;
        for (long k = 0; k < expectedCount; k++) {
            int off = (int) (first + k) - base;
            if (off >= 0 && received.get(off)) {
                inRange++;
            } else if (off >= 0 && gapped.get(off)) {
                gapLost++;
            } else {
                missing++;
            }
        }
        long outside = receivedCount - inRange;
        return new Verdict(expectedCount, inRange, missing, duplicates, outOfOrder, gapLost,
                unexpected + outside, resets);
    }
}
