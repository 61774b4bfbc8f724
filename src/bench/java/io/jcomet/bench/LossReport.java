package io.jcomet.bench;

import java.util.LinkedHashMap;
import java.util.Map;

/**
 * Sum of the per-subscriber {@link SeqAccount.Verdict}s of a run. A run is "no loss" only if every
 * subscriber's verdict is clean AND the total received equals the total expected AND something was
 * expected at all (a run that published nothing or whose subscribers were never checked proves
 * nothing and is reported as not verified).
 *
 * <p>Threads: filled and read by the scenario thread.
 */
final class LossReport {

    long subscribers;
    long subscribersClean;
    long expected;
    long received;
    long missing;
    long duplicates;
    long outOfOrder;
    long gapLost;
    long unexpected;
    long resets;

    void add(SeqAccount.Verdict v) {
        subscribers++;
        if (v.clean()) {
            subscribersClean++;
        }
        expected += v.expectedCount();
        received += v.received();
        missing += v.missing();
        duplicates += v.duplicates();
        outOfOrder += v.outOfOrder();
        gapLost += v.gapLost();
        unexpected += v.unexpected();
        resets += v.resets();
    }

    boolean noLoss() {
        return subscribers > 0 && expected > 0 && subscribersClean == subscribers && received == expected
                && missing == 0 && duplicates == 0 && outOfOrder == 0 && gapLost == 0 && unexpected == 0
                && resets == 0;
    }

    String verdictText() {
        if (subscribers == 0 || expected == 0) {
            return "NOT VERIFIED (nothing expected)";
        }
        return noLoss() ? "OK: no loss, no duplicate, in order" : "FAILED";
    }

    Map<String, Object> toMap() {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("verdict", verdictText());
        m.put("no_loss", noLoss());
        m.put("subscribers_checked", subscribers);
        m.put("subscribers_clean", subscribersClean);
        m.put("expected_deliveries", expected);
        m.put("received", received);
        m.put("missing", missing);
        m.put("duplicates", duplicates);
        m.put("out_of_order", outOfOrder);
        m.put("gap_reported_lost", gapLost);
        m.put("unexpected", unexpected);
        m.put("next_seq_resets", resets);
        return m;
    }
}
