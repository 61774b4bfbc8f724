package io.jcomet.jetty;

import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import org.eclipse.jetty.util.thread.Scheduler;

/**
 * One connection's request-head deadline: armed while a head is awaited, disarmed when the head
 * is whole, and on expiry it runs the connection's close. Exactly one of the two wins: a head
 * completed as its deadline fires is either handled (the disarm won, the expiry does nothing) or
 * refused (the expiry won and closed the connection; {@link #disarm} then says so, and the caller
 * must not handle the request). An expiry scheduled for an earlier head never acts on a later one.
 *
 * <p>Threads: {@link #arm} and {@link #disarm} run on the thread that parses the connection (one
 * at a time), {@link #disarm} also on the thread that closes it; the expiry runs on the
 * connector's scheduler thread. The state changes only by compare-and-set.
 */
final class HeadDeadline {
    /** Schedules a task; {@code Scheduler.schedule} in milliseconds, a fake in tests. */
    @FunctionalInterface
    interface Timer {
        Scheduler.Task schedule(Runnable task, long millis);
    }

    /** The state once the deadline fired: no later arm or disarm changes it. */
    private static final Object EXPIRED = new Object();
    private static final VarHandle STATE;

    static {
        try {
            STATE = MethodHandles.lookup().findVarHandle(HeadDeadline.class, "state", Object.class);
        } catch (ReflectiveOperationException e) {
            throw new ExceptionInInitializerError(e);
        }
    }

    private final Timer timer;
    private final Runnable onExpiry;
    /** null (nothing awaited), an {@link Armed}, or {@link #EXPIRED}. */
    @SuppressWarnings("unused") // through STATE
    private volatile Object state;

    HeadDeadline(Timer timer, Runnable onExpiry) {
        this.timer = timer;
        this.onExpiry = onExpiry;
    }

    /** Whether a deadline is running or has fired: a head that begins now needs no new one. */
    boolean isSet() {
        return state != null;
    }

    /** Whether the deadline fired (the connection was closed by it). */
    boolean hasExpired() {
        return state == EXPIRED;
    }

    /** Starts a deadline {@code millis} from now, unless one runs or has fired. */
    void arm(long millis) {
        Armed a = new Armed();
        if (STATE.compareAndSet(this, null, a)) {
            a.task = timer.schedule(a, millis);
        }
    }

    /**
     * Stops the running deadline. False when it has already fired: the connection is being
     * closed and the head that just completed must not be handled.
     */
    boolean disarm() {
        if (state instanceof Armed a && STATE.compareAndSet(this, a, null)) {
            Scheduler.Task t = a.task;
            if (t != null) { // null only if the schedule call has not returned yet: the expiry then finds nothing to do
                t.cancel();
            }
            return true;
        }
        return state != EXPIRED;
    }

    /** One armed deadline; its expiry acts only if it is still the armed one. */
    private final class Armed implements Runnable {
        volatile Scheduler.Task task;

        @Override
        public void run() {
            if (STATE.compareAndSet(HeadDeadline.this, this, EXPIRED)) {
                onExpiry.run();
            }
        }
    }
}
