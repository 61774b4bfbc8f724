package io.jcomet.core;

import io.jcomet.config.JcometConfig;
import java.util.HashMap;
import java.util.Map;
import java.util.concurrent.atomic.AtomicLong;

/**
 * A broker on a test clock with no sweeper thread, for tests outside the core package: time moves
 * only when the test calls {@link #advanceMillis}, which then runs one sweeper pass.
 */
public final class TestClockBroker implements AutoCloseable {
    private final AtomicLong nanos = new AtomicLong(1_000_000_000L);
    private final Subscriber[] scratch = new Subscriber[64];
    public final Broker broker;

    /** {@code kv}: configuration keys and values, in pairs. */
    public TestClockBroker(String... kv) {
        this(Map.of(), kv);
    }

    /** {@code defaults}, with {@code kv} (keys and values in pairs) over them. */
    public TestClockBroker(Map<String, String> defaults, String... kv) {
        Map<String, String> m = new HashMap<>(defaults);
        for (int i = 0; i < kv.length; i += 2) {
            m.put(kv[i], kv[i + 1]);
        }
        broker = new Broker(JcometConfig.from(m), nanos::get, false);
    }

    /** Moves the clock on and runs one sweeper pass. */
    public void advanceMillis(long ms) {
        nanos.addAndGet(ms * 1_000_000L);
        broker.sweepOnce(scratch);
    }

    /** Moves the clock on without a sweeper pass. */
    public void advanceClockOnly(long ms) {
        nanos.addAndGet(ms * 1_000_000L);
    }

    /** Subscribers in the broker's timer lists. */
    public int timersQueued() {
        return broker.timersQueued();
    }

    @Override
    public void close() {
        broker.close();
    }
}
