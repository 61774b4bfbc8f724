package io.jcomet.core;

import java.util.function.Consumer;

/**
 * The one timer for all held requests: instead of a scheduled task per request (what an
 * {@code AsyncContext} timeout or a {@code ScheduledExecutorService} would cost), held subscribers
 * are appended to FIFO lists in arrival order. Every subscriber waits the same
 * {@code polling_timeout}, so a list is also in deadline order and the sweeper only ever looks at
 * heads: O(expired) per tick, nothing per idle connection.
 *
 * <p>Lists are striped to spread lock contention between request threads; each stripe is guarded
 * by its own monitor. Links live in {@link Subscriber} (no node objects). Times are int
 * milliseconds from the broker's start, compared by signed difference (wrap-safe for 24 days of
 * difference, far beyond any timeout).
 *
 * <p>Each stripe also keeps a cursor for {@link #age}: the newest subscriber already reported as
 * held long. Being in deadline order, the list's not-yet-reported part is everything after it, so
 * a tick again costs O(newly aged), and no subscriber needs a second link.
 */
final class HeldTimers {
    private static final int STRIPES = 8;

    private final Stripe[] stripes = new Stripe[STRIPES];
    private int next; // round-robin stripe choice; a benign race only skews the spread

    private static final class Stripe {
        Subscriber head;
        Subscriber tail;
        /** Newest subscriber {@link #age} reported (null: none of the list yet). */
        Subscriber aged;
    }

    HeldTimers() {
        for (int i = 0; i < STRIPES; i++) {
            stripes[i] = new Stripe();
        }
    }

    void add(Subscriber s, int deadline) {
        int i = (next++ & (STRIPES - 1));
        Stripe st = stripes[i];
        synchronized (st) {
            s.deadline = deadline;
            s.timerStripe = (byte) i;
            s.timerNext = null;
            s.timerPrev = st.tail;
            if (st.tail == null) {
                st.head = s;
            } else {
                st.tail.timerNext = s;
            }
            st.tail = s;
        }
    }

    /** Removes {@code s} if it is queued; idempotent. */
    void remove(Subscriber s) {
        int i = s.timerStripe;
        if (i < 0) {
            return;
        }
        Stripe st = stripes[i];
        synchronized (st) {
            if (s.timerStripe != i) {
                return; // removed meanwhile
            }
            unlink(st, s);
        }
    }

    private static void unlink(Stripe st, Subscriber s) {
        if (st.aged == s) {
            st.aged = s.timerPrev; // everything before it was reported too
        }
        if (s.timerPrev == null) {
            st.head = s.timerNext;
        } else {
            s.timerPrev.timerNext = s.timerNext;
        }
        if (s.timerNext == null) {
            st.tail = s.timerPrev;
        } else {
            s.timerNext.timerPrev = s.timerPrev;
        }
        s.timerPrev = null;
        s.timerNext = null;
        s.timerStripe = -1;
    }

    /**
     * Unlinks every subscriber whose deadline is at or before {@code now} and hands it to
     * {@code expired} (outside the stripe lock). Returns how many.
     */
    int expire(int now, Subscriber[] scratch, Consumer<Subscriber> expired) {
        int total = 0;
        for (Stripe st : stripes) {
            while (true) {
                int n = 0;
                synchronized (st) {
                    while (n < scratch.length && st.head != null && now - st.head.deadline >= 0) {
                        Subscriber s = st.head;
                        unlink(st, s);
                        scratch[n++] = s;
                    }
                }
                for (int k = 0; k < n; k++) {
                    expired.accept(scratch[k]);
                    scratch[k] = null;
                }
                total += n;
                if (n < scratch.length) {
                    break;
                }
            }
        }
        return total;
    }

    /**
     * Hands every subscriber whose deadline is at or before {@code deadline}, and which was not
     * handed over before in its current place, to {@code aged} (outside the stripe lock). The broker
     * passes now + polling_timeout - age, i.e. "queued at least age ago". Returns how many.
     */
    int age(int deadline, Subscriber[] scratch, Consumer<Subscriber> aged) {
        int total = 0;
        for (Stripe st : stripes) {
            while (true) {
                int n = 0;
                synchronized (st) {
                    Subscriber s = st.aged == null ? st.head : st.aged.timerNext;
                    while (n < scratch.length && s != null && deadline - s.deadline >= 0) {
                        scratch[n++] = s;
                        st.aged = s;
                        s = s.timerNext;
                    }
                }
                for (int k = 0; k < n; k++) {
                    aged.accept(scratch[k]);
                    scratch[k] = null;
                }
                total += n;
                if (n < scratch.length) {
                    break;
                }
            }
        }
        return total;
    }

    /** Count of queued subscribers (walks the lists: tests and diagnostics only). */
    int size() {
        int n = 0;
        for (Stripe st : stripes) {
            synchronized (st) {
                for (Subscriber s = st.head; s != null; s = s.timerNext) {
                    n++;
                }
            }
        }
        return n;
    }
}
