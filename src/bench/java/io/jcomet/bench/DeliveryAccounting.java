package io.jcomet.bench;

import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * What the messages a subscriber receives mean for its {@link SeqAccount}, for the pool's counters
 * and for the latency figures: data (seq accounted, latency from the send time in the content),
 * next_seq, noop, gap (seqs the server declared lost), and the refusals that make the subscriber
 * retry later or stop.
 *
 * <p>Threads: one instance per {@link Reactor}; {@link #account} runs on its thread. The latency
 * histogram and the per-message maxima are guarded by the histogram's lock, which the scenario
 * thread takes to merge or reset them.
 */
final class DeliveryAccounting {

    /** What the subscriber does next. */
    static final int GO_ON = 0;
    static final int RETRY_LATER = 1;
    static final int STOP = 2;

    private final SubscriberPool pool;
    final LogHistogram latency = new LogHistogram();
    /** {@link #messageKey} to the largest latency seen for that message; under latency's lock. */
    final Map<Long, Long> lastPerMessage = new HashMap<>();

    DeliveryAccounting(SubscriberPool pool) {
        this.pool = pool;
    }

    /**
     * Accounts the messages of one answer (long-poll, {@code poll}) or one line or frame (stream,
     * SSE, WebSocket) received at {@code now}; returns {@link #GO_ON}, {@link #RETRY_LATER} (429,
     * reconnect, a repeated next_seq) or {@link #STOP} (401, 404, close, error).
     */
    int account(PoolSubscriber s, List<Map<String, Object>> msgs, long now, boolean poll) {
        int action = GO_ON;
        for (Map<String, Object> m : msgs) {
            String type = Json.getString(m, "type");
            if (type == null) {
                pool.count("untyped");
                continue;
            }
            switch (type) {
                case "sub_ok", "unsub_ok" -> {
                    // --transport ws: the socket's answer to a subscription; its messages follow
                }
                case "data", "broadcast" -> {
                    int seq = (int) Json.getLong(m, "seq", Long.MIN_VALUE);
                    if (SubscriberPool.testDropSeq > 0 && seq == SubscriberPool.testDropSeq && s.id == 0) {
                        continue;
                    }
                    s.acct.onData(seq);
                    s.deliveries++;
                    s.failures = 0;
                    pool.deliveries.incrementAndGet();
                    pool.lastDeliveryNanos.accumulateAndGet(now, Math::max);
                    long t = sendTime(Json.getString(m, "content"));
                    if (t != 0) {
                        synchronized (latency) {
                            latency.record(now - t);
                            lastPerMessage.merge(messageKey(s.chan, seq), now - t, Math::max);
                        }
                    }
                }
                case "next_seq" -> {
                    pool.nextSeqs.incrementAndGet();
                    int asked = s.acct.expected();
                    s.acct.onNextSeq((int) Json.getLong(m, "seq", asked));
                    if (poll && msgs.size() == 1 && s.acct.expected() == asked) {
                        // the server keeps answering next_seq for the seq we ask: do not spin
                        pool.count("next_seq_repeated");
                        action = Math.max(action, RETRY_LATER);
                    }
                }
                case "noop" -> {
                    pool.noops.incrementAndGet();
                    s.noop = (int) Json.getLong(m, "seq", s.noop) + 1;
                    s.failures = 0;
                }
                case "gap" -> {
                    pool.gaps.incrementAndGet();
                    int from = (int) Json.getLong(m, "from", 0);
                    int to = (int) Json.getLong(m, "to", -1);
                    if (to - from >= 0) {
                        pool.gapSeqs.addAndGet((long) (to - from) + 1);
                    }
                    s.acct.onGap(from, to);
                }
                case "429", "reconnect" -> {
                    pool.count(type);
                    action = Math.max(action, RETRY_LATER);
                }
                default -> {
                    // 401, 404, close, error: this subscriber is finished
                    pool.count(type);
                    pool.noteError("'" + type + "' for " + s.cname + ": " + Json.getString(m, "content"));
                    action = STOP;
                }
            }
        }
        return action;
    }

    /**
     * One message's key in {@link #lastPerMessage}: its channel index and seq, multiplied by an odd
     * constant. The product is still one key per message (multiplying by an odd number is a
     * bijection on 64 bits), but its hash is spread: {@code Long.hashCode} of the plain
     * {@code chan << 32 | seq} is {@code chan ^ seq}, the same for many messages of a few channels,
     * which turned the map's bins into trees and took 13% of the client's Java samples in a
     * 1,000-subscriber batch run.
     */
    static long messageKey(int chan, int seq) {
        return (((long) chan << 32) | (seq & 0xffffffffL)) * 0x9E3779B97F4A7C15L;
    }

    /** The send timestamp of a content written as {@code t=<nanoTime>[ padding]}, or 0. */
    static long sendTime(String content) {
        if (content == null || !content.startsWith("t=")) {
            return 0;
        }
        long v = 0;
        int i = 2;
        boolean neg = false;
        if (i < content.length() && content.charAt(i) == '-') {
            neg = true;
            i++;
        }
        int start = i;
        while (i < content.length() && Character.isDigit(content.charAt(i)) && i - start < 19) {
            v = v * 10 + (content.charAt(i) - '0');
            i++;
        }
        if (i == start) {
            return 0;
        }
        return neg ? -v : v;
    }
}
