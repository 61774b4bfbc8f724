package io.jcomet.core;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import io.jcomet.config.JcometConfig;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/** engine=memory: a publisher's retry with the same idempotency key publishes once within the window. */
class IdempotencyTest {
    private final AtomicLong nanos = new AtomicLong(1_000_000_000L);
    private Broker broker;

    private Broker broker(String... kv) {
        Map<String, String> m = new java.util.HashMap<>();
        for (int i = 0; i < kv.length; i += 2) {
            m.put(kv[i], kv[i + 1]);
        }
        broker = new Broker(JcometConfig.from(m), nanos::get, false);
        return broker;
    }

    @AfterEach
    void close() {
        if (broker != null) {
            broker.close();
        }
    }

    @Test
    void aRetryWithinTheWindowAnswersTheFirstSeqAndPublishesNothing() {
        Broker b = broker("idempotency_window", "10");
        assertEquals(1, b.publish("c", "a", Message.Kind.DATA, "k1"));
        assertEquals(1, b.publish("c", "a", Message.Kind.DATA, "k1"));
        assertEquals(2, b.publish("c", "b", Message.Kind.DATA, "k2"));
        assertEquals(3, b.publish("c", "plain", Message.Kind.DATA, null));
        assertEquals(1, b.publish("other", "a", Message.Kind.DATA, "k1"), "a key belongs to its channel");
        assertEquals(4, b.stats().published());

        nanos.addAndGet(TimeUnit.SECONDS.toNanos(11)); // past the window: the key is forgotten
        assertEquals(4, b.publish("c", "a", Message.Kind.DATA, "k1"));
    }

    @Test
    void pastMaxIdempotencyKeysAKeyedPublishIsRefusedAndCounted() {
        Broker b = broker("max_idempotency_keys", "2");
        b.publish("c", "a", Message.Kind.DATA, "k1");
        b.publish("c", "b", Message.Kind.DATA, "k2");
        CometException e = assertThrows(CometException.class, () -> b.publish("c", "x", Message.Kind.DATA, "k3"));
        assertEquals(429, e.status());
        assertEquals(1, b.stats().rejected(Stats.Reject.TOO_MANY_IDEMPOTENCY_KEYS));
        assertEquals(1, b.publish("c", "a", Message.Kind.DATA, "k1"), "remembered keys still answer");
        assertEquals(3, b.publish("c", "plain", Message.Kind.DATA, null), "unkeyed publishes are not limited");
    }

    @Test
    void aFailedFirstPublishLeavesTheKeyFreeForTheRetry() {
        Broker b = broker("max_channels", "1");
        b.publish("full", "x", Message.Kind.DATA, null);
        CometException e = assertThrows(CometException.class, () -> b.publish("c", "m", Message.Kind.DATA, "k1"));
        assertEquals(429, e.status(), "the table is full: not published");
        b.close("full");
        assertEquals(1, b.publish("c", "m", Message.Kind.DATA, "k1"), "the retry publishes");
        assertEquals(1, b.publish("c", "m", Message.Kind.DATA, "k1"), "once");
    }
}
