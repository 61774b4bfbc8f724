package io.jcomet.core;

/**
 * What a subscriber is sent when it arrives, decided from numbers alone: the seq it asks for, the
 * channel's next seq and oldest buffered seq, whether its epoch is the channel's, and what kind of
 * client it is. A pure function (no channel, no lock, no socket), so every case is unit-tested
 * apart; {@link Broker} turns the plan into messages under the channel's lock.
 *
 * <p>In the order they are sent:
 * <ol>
 * <li>{@code next_seq} ({@link #nextSeq}): the client asked where the channel is (seq 0), asked for
 * a seq the channel has not reached, or last saw another epoch (a restarted server, a re-created
 * channel: it is pointed at the oldest message still buffered, so it loses nothing more). A
 * long-poll gets this alone and comes back for the rest; a stream goes on with the replay.</li>
 * <li>{@code gap} ({@link #gapFrom} to {@link #gapLastLost}): the client is behind what the buffer
 * still holds. Only a jcomet client (one that sent an epoch, even empty) is told; icomet's clients
 * get what is buffered, as from icomet, or are held until the next message.</li>
 * <li>the buffered messages from {@link #replayFrom} on.</li>
 * </ol>
 * A long-poll is answered at once when this gives it anything ({@link #answersAtOnce}), and held
 * otherwise; a stream is offered it all, in order, and held.
 *
 * <p>Seqs wrap and skip 0 ({@link Seq}), so {@link #NONE} (0) marks a part that is not sent.
 */
record ReplayPlan(int nextSeq, int gapFrom, int gapLastLost, int replayFrom, boolean streaming, boolean oneMessage) {
    /** Not sent: 0 is never a message's seq. */
    static final int NONE = 0;

    /**
     * @param asked       the seq the client asked for (0: "where is the channel?")
     * @param sameEpoch   the client's epoch is the channel's (or it named none)
     * @param jcomet      a jcomet client (it sent an epoch parameter): only it understands {@code gap}
     * @param next        the channel's next seq
     * @param buffered    how many messages the channel's buffer holds
     * @param oldest      the oldest buffered seq (ignored when {@code buffered} is 0)
     * @param streaming   a stream (held, offered everything) rather than a long-poll (one answer)
     * @param oneMessage  a long-poll that takes one message at a time (icomet's JSONP)
     */
    static ReplayPlan of(int asked, boolean sameEpoch, boolean jcomet, int next, int buffered, int oldest,
            boolean streaming, boolean oneMessage) {
        int nextSeq = NONE;
        int from = asked;
        int oldestHeld = buffered > 0 ? oldest : next;
        if (!sameEpoch) {
            nextSeq = oldestHeld;
            from = oldestHeld;
        } else if (from == 0 || Seq.after(from, next)) {
            nextSeq = next;
            from = next;
        }
        if (nextSeq != NONE && !streaming) {
            return new ReplayPlan(nextSeq, NONE, NONE, NONE, false, oneMessage); // answered with where to start
        }
        int gapFrom = NONE;
        int gapLastLost = NONE;
        int replayFrom = NONE;
        if (Seq.diff(from, next) < 0) {
            // the client is behind: replay what the buffer holds, saying first what it no longer holds
            if (Seq.diff(from, oldestHeld) < 0 && jcomet) {
                gapFrom = from;
                gapLastLost = oldestHeld - 1 == 0 ? -1 : oldestHeld - 1; // seq 0 is never used
            }
            if (buffered > 0) {
                replayFrom = from;
            }
        }
        return new ReplayPlan(nextSeq, gapFrom, gapLastLost, replayFrom, streaming, oneMessage);
    }

    /** Of {@code count} planned messages, how many are sent (a one-message long-poll takes the first). */
    int sent(int count) {
        return oneMessage && !streaming && count > 1 ? 1 : count;
    }

    /** A long-poll with {@code count} messages to send is answered now; with none, and a stream always, is held. */
    boolean answersAtOnce(int count) {
        return !streaming && count > 0;
    }
}
