package io.jcomet.bench;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.net.InetSocketAddress;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * What a subscriber's received messages do to its seq account, the pool's counters and the
 * latency figures, and what it does next (go on, retry later, stop). No sockets: the messages are
 * handed in as a decoder would.
 */
class DeliveryAccountingTest {

    private SubscriberPool pool;
    private DeliveryAccounting accounting;
    private PoolSubscriber sub;

    @BeforeEach
    void setUp() throws Exception {
        pool = new SubscriberPool(Options.parse(new String[] {"fanout --ports 1 --admin http://127.0.0.1:1"}), 1);
        accounting = new DeliveryAccounting(pool);
        sub = new PoolSubscriber(1, "c", 0, new InetSocketAddress("127.0.0.1", 1), null, null, 1, new LongPollDecoder());
    }

    @AfterEach
    void tearDown() throws Exception {
        pool.stop();
    }

    private static List<Map<String, Object>> msgs(String json) {
        return Json.messages(json);
    }

    @Test
    void dataIsAccountedCountedAndTimedFromItsSendTime() {
        long now = 5_000_000;
        int action = accounting.account(sub, msgs("[{\"type\":\"data\",\"seq\":1,\"content\":\"t=1000000 pad\"},"
                + "{\"type\":\"data\",\"seq\":2,\"content\":\"no time\"}]"), now, true);
        assertEquals(DeliveryAccounting.GO_ON, action);
        assertEquals(3, sub.acct.expected(), "the next poll asks for seq 3");
        assertEquals(2, sub.deliveries);
        assertEquals(2, pool.deliveries.get());
        assertEquals(now, pool.lastDeliveryNanos.get());
        assertEquals(1, accounting.latency.count(), "only the content with a send time gives a latency");
        assertEquals(4_000_000, accounting.latency.max(), 4_000_000 / 50.0);
        assertEquals(4_000_000L, accounting.lastPerMessage.get(DeliveryAccounting.messageKey(0, 1)));
    }

    @Test
    void everyMessageOfEveryChannelHasItsOwnKeyWithAWellSpreadHash() {
        java.util.Set<Long> keys = new java.util.HashSet<>();
        java.util.Set<Integer> hashes = new java.util.HashSet<>();
        for (int chan = 0; chan < 100; chan++) {
            for (int seq = 1; seq <= 1000; seq++) {
                long k = DeliveryAccounting.messageKey(chan, seq);
                keys.add(k);
                hashes.add(Long.hashCode(k));
            }
        }
        assertEquals(100_000, keys.size(), "one key per (channel, seq): a message's latency is never merged into another's");
        assertTrue(hashes.size() > 99_000, "hash codes spread (" + hashes.size() + " distinct of 100,000); the plain"
                + " chan << 32 | seq gives only chan ^ seq, 1,024 distinct values here");
    }

    @Test
    void noopAdvancesTheNoopSeqAndGapCountsTheSeqsDeclaredLost() {
        assertEquals(DeliveryAccounting.GO_ON, accounting.account(sub, msgs("{\"type\":\"noop\",\"seq\":4}"), 0, true));
        assertEquals(5, sub.noop);
        assertEquals(1, pool.noops.get());
        assertEquals(DeliveryAccounting.GO_ON,
                accounting.account(sub, msgs("{\"type\":\"gap\",\"from\":1,\"to\":3}"), 0, false));
        assertEquals(1, pool.gaps.get());
        assertEquals(3, pool.gapSeqs.get());
        assertEquals(4, sub.acct.expected(), "resumes after the gap");
    }

    @Test
    void aNextSeqThatDoesNotMoveTheCursorWaitsInsteadOfSpinning() {
        assertEquals(DeliveryAccounting.GO_ON,
                accounting.account(sub, msgs("{\"type\":\"next_seq\",\"seq\":6}"), 0, true));
        assertEquals(6, sub.acct.expected());
        assertEquals(DeliveryAccounting.RETRY_LATER,
                accounting.account(sub, msgs("{\"type\":\"next_seq\",\"seq\":6}"), 0, true));
        assertEquals(1L, pool.other.get("next_seq_repeated").get());
    }

    @Test
    void refusalsRetryLaterAndTheEndOfASubscriptionStops() {
        assertEquals(DeliveryAccounting.RETRY_LATER, accounting.account(sub, msgs("{\"type\":\"429\"}"), 0, true));
        assertEquals(DeliveryAccounting.RETRY_LATER, accounting.account(sub, msgs("{\"type\":\"reconnect\"}"), 0, false));
        assertEquals(DeliveryAccounting.STOP,
                accounting.account(sub, msgs("{\"type\":\"401\",\"content\":\"Token Error\"}"), 0, true));
        assertEquals(1L, pool.other.get("429").get());
        assertTrue(pool.firstErrorText.contains("'401' for c: Token Error"), pool.firstErrorText);
        assertEquals(2, pool.errorCount(), "429 and 401 are errors, reconnect is not");
    }

    @Test
    void aClientThatDropsAMessageOnPurposeLeavesAHoleInItsAccount() {
        SubscriberPool.testDropSeq = 2;
        try {
            PoolSubscriber zero = new PoolSubscriber(0, "c", 0, new InetSocketAddress("127.0.0.1", 1), null, null, 1,
                    new LongPollDecoder());
            accounting.account(zero, msgs("[{\"type\":\"data\",\"seq\":1},{\"type\":\"data\",\"seq\":2},"
                    + "{\"type\":\"data\",\"seq\":3}]"), 0, true);
            assertEquals(1, zero.acct.verify(1, 3).missing());
        } finally {
            SubscriberPool.testDropSeq = 0;
        }
    }
}
