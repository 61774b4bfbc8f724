package io.jcomet.core;

import java.util.Map;
import org.junit.jupiter.api.AfterEach;

/**
 * Base of the core tests that run a broker on a test clock: no sweeper thread, time moves only
 * when the test calls {@link #advanceMillis}, which then runs one sweeper pass. A subclass names
 * its own default settings; each test may override them.
 */
abstract class ClockedBrokerTest {
    private TestClockBroker clock;

    /** Settings every broker of this test class gets unless the test says otherwise. */
    protected Map<String, String> defaults() {
        return Map.of();
    }

    /** A new broker with {@link #defaults()} and {@code kv} (keys and values in pairs) over them. */
    protected Broker broker(String... kv) {
        if (clock != null) {
            clock.close();
        }
        clock = new TestClockBroker(defaults(), kv);
        return clock.broker;
    }

    /** Moves the clock on and runs one sweeper pass. */
    protected void advanceMillis(long ms) {
        clock.advanceMillis(ms);
    }

    /** Moves the clock on without sweeping (a test that runs the sweep on a thread of its own). */
    protected void advanceClockOnly(long ms) {
        clock.advanceClockOnly(ms);
    }

    @AfterEach
    void closeBroker() {
        if (clock != null) {
            clock.close();
        }
    }
}
