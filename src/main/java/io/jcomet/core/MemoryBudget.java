package io.jcomet.core;

import java.lang.management.GarbageCollectorMXBean;
import java.lang.management.ManagementFactory;
import java.lang.management.MemoryPoolMXBean;
import java.lang.management.MemoryType;
import java.lang.management.MemoryUsage;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.logging.Logger;
import javax.management.Notification;
import javax.management.NotificationEmitter;
import javax.management.NotificationListener;
import javax.management.openmbean.CompositeData;

/**
 * {@code memory_budget_percent}: whether the heap is too full to take one more subscription or
 * socket. Measured without a collection per request: the JVM tells us, after every garbage
 * collection, how much heap was still in use ({@code com.sun.management} GC notifications); the
 * budget is short while that figure is above the percentage of the maximum heap. Each admission
 * reads one volatile flag.
 *
 * <p>Why after a collection: live data is what a new connection competes with; between two
 * collections "used" includes garbage and would refuse clients for nothing. A young collection's
 * figure still includes old garbage, so when it is above the budget a full collection is asked for
 * (at most once a second) and the last full collection's figure decides meanwhile. While the budget
 * is short a full collection is asked for at most every {@link #FORCED_GC_INTERVAL_NANOS}, because
 * an idle server collects nothing at all and the flag would otherwise outlive the load that set it.
 * The request that finds the budget short never runs a collection itself: a daemon thread does.
 *
 * <p>Where GC notifications are not offered, the heap's used figure is sampled at most every 100 ms
 * instead (conservative: it includes garbage).
 *
 * <p>Measured (WsMemoryBudgetIT, production JVM options at -Xmx256m): WebSockets with 7.9 KB
 * request heads and 16 subscriptions each are refused from about 6,000 sockets on (217 MB live);
 * without the budget the same attack leaves the JVM collecting without end, answering nothing.
 *
 * <p>Threads: the JVM's notification thread sets the after-GC figures; any thread reads
 * {@link #exhausted}; the forced collection runs on a short-lived daemon thread.
 */
public final class MemoryBudget {
    private static final Logger LOG = Logger.getLogger("io.jcomet");
    static final long FORCED_GC_INTERVAL_NANOS = 5_000_000_000L;

    private final long limitBytes;
    private final boolean notified;
    private final List<Runnable> unregister = new ArrayList<>();
    private volatile long afterGcBytes;
    /** Heap in use after the last full (major) collection: live data, no garbage. */
    private volatile long afterMajorBytes;
    private volatile boolean lastWasMajor;
    private volatile long lastForcedNanos = System.nanoTime() - FORCED_GC_INTERVAL_NANOS;
    private volatile long sampledAtNanos;

    /** {@code percent} of the maximum heap; 0 turns the budget off. */
    public MemoryBudget(int percent) {
        long max = Runtime.getRuntime().maxMemory();
        this.limitBytes = percent <= 0 || max == Long.MAX_VALUE ? Long.MAX_VALUE : max / 100 * percent;
        this.notified = limitBytes != Long.MAX_VALUE && listen();
    }

    private boolean listen() {
        try {
            NotificationListener l = this::onGc;
            for (GarbageCollectorMXBean gc : ManagementFactory.getGarbageCollectorMXBeans()) {
                if (gc instanceof NotificationEmitter) {
                    NotificationEmitter e = (NotificationEmitter) gc;
                    e.addNotificationListener(l, null, null);
                    unregister.add(() -> {
                        try {
                            e.removeNotificationListener(l);
                        } catch (javax.management.ListenerNotFoundException ignored) {
                            // already gone
                        }
                    });
                }
            }
            return !unregister.isEmpty();
        } catch (RuntimeException | LinkageError e) {
            LOG.info("jcomet: no GC notifications (" + e + "); memory_budget_percent samples heap use instead");
            return false;
        }
    }

    private void onGc(Notification n, Object handback) {
        if (!"com.sun.management.gc.notification".equals(n.getType()) || !(n.getUserData() instanceof CompositeData)) {
            return;
        }
        try {
            CompositeData info = (CompositeData) ((CompositeData) n.getUserData()).get("gcInfo");
            @SuppressWarnings("unchecked")
            java.util.Collection<CompositeData> after = (java.util.Collection<CompositeData>) ((javax.management.openmbean.TabularData) info.get("memoryUsageAfterGc")).values();
            long used = 0;
            for (CompositeData row : after) {
                String pool = (String) row.get("key");
                if (isHeap(pool)) {
                    used += MemoryUsage.from((CompositeData) row.get("value")).getUsed();
                }
            }
            boolean major = String.valueOf(((CompositeData) n.getUserData()).get("gcAction")).contains("major");
            if (major) {
                afterMajorBytes = used;
            }
            lastWasMajor = major;
            afterGcBytes = used;
        } catch (RuntimeException e) {
            // an unexpected layout: keep the last figure
        }
    }

    private static volatile Map<String, Boolean> heapPools;

    private static boolean isHeap(String pool) {
        Map<String, Boolean> m = heapPools;
        if (m == null) {
            Map<String, Boolean> mm = new java.util.HashMap<>();
            for (MemoryPoolMXBean p : ManagementFactory.getMemoryPoolMXBeans()) {
                mm.put(p.getName(), p.getType() == MemoryType.HEAP);
            }
            heapPools = m = mm;
        }
        return m.getOrDefault(pool, false);
    }

    /**
     * True while live heap is above the budget. Any thread; cheap (volatile reads). A young
     * collection's figure includes old garbage, so it only says "maybe": then a full collection is
     * asked for (off this thread) and the last full collection's figure decides meanwhile.
     */
    public boolean exhausted() {
        if (limitBytes == Long.MAX_VALUE) {
            return false;
        }
        if (!notified) {
            long now = System.nanoTime();
            if (now - sampledAtNanos > 100_000_000L) {
                sampledAtNanos = now;
                afterGcBytes = ManagementFactory.getMemoryMXBean().getHeapMemoryUsage().getUsed();
            }
            if (afterGcBytes <= limitBytes) {
                return false;
            }
            collect(FORCED_GC_INTERVAL_NANOS);
            return true;
        }
        if (afterGcBytes <= limitBytes) {
            return false; // even counting garbage, within the budget
        }
        if (lastWasMajor) {
            collect(FORCED_GC_INTERVAL_NANOS); // an idle server collects nothing: look again now and then
            return true;
        }
        collect(FORCED_GC_INTERVAL_NANOS / 5); // old garbage or live data? a full collection tells
        return afterMajorBytes > limitBytes;
    }

    /** A full collection tells what is really live: at most once per {@code interval}, off the caller's thread. */
    private void collect(long interval) {
        long now = System.nanoTime();
        long last = lastForcedNanos;
        if (now - last < interval) {
            return;
        }
        synchronized (this) {
            if (lastForcedNanos != last) {
                return;
            }
            lastForcedNanos = now;
        }
        Thread t = new Thread(() -> {
            System.gc();
            if (!notified) {
                afterGcBytes = ManagementFactory.getMemoryMXBean().getHeapMemoryUsage().getUsed();
            }
        }, "jcomet-memory-check");
        t.setDaemon(true);
        t.start();
    }

    /** Heap in use after the last collection (bytes), as the budget sees it. */
    public long afterGcBytes() {
        return afterGcBytes;
    }

    /** The budget in bytes ({@link Long#MAX_VALUE}: off). */
    public long limitBytes() {
        return limitBytes;
    }

    /** Stops listening (the broker closes). */
    public void close() {
        unregister.forEach(Runnable::run);
    }
}
