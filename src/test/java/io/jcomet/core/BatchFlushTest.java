package io.jcomet.core;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.jcomet.config.JcometConfig;
import io.jcomet.protocol.Framing;
import io.jcomet.protocol.Transport;
import io.jcomet.support.JsonFrames;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * A /batch ({@link Broker#publishAll}) flushes each stream once for the whole batch: a channel
 * that gets ten of its messages has each of its streams written once, with the ten in seq order,
 * instead of once per message. Socketless: the streams count their writes.
 */
class BatchFlushTest {

    /** A stream that queues what it is offered (bounded as HttpSubscriber's queue is) and counts writes. */
    static class CountingStream extends Subscriber {
        final int maxPendingBytes;
        final List<byte[]> queued = new ArrayList<>();
        final List<String> received = new ArrayList<>();
        int pendingBytes;
        /** Flushes that had something to write: one socket write (and flush) each. */
        int writes;
        boolean ended;
        boolean flushedUnderLock;

        CountingStream(int maxPendingBytes) {
            super(0);
            this.maxPendingBytes = maxPendingBytes;
        }

        @Override
        public Transport transport() {
            return Transport.STREAM;
        }

        @Override
        protected synchronized boolean offer(Message m) {
            byte[] frame = Framing.stream().frame(m);
            if (pendingBytes > 0 && pendingBytes + frame.length > maxPendingBytes) {
                return false; // HttpSubscriber's rule: over max_pending_bytes, the stream is dropped
            }
            queued.add(frame);
            pendingBytes += frame.length;
            return true;
        }

        @Override
        protected synchronized void flush() {
            flushedUnderLock |= channel != null && Thread.holdsLock(channel);
            if (queued.isEmpty()) {
                return;
            }
            writes++;
            for (byte[] b : queued) {
                received.add(new String(b, StandardCharsets.UTF_8));
            }
            queued.clear();
            pendingBytes = 0;
        }

        @Override
        protected boolean send(Message m) {
            boolean taken = offer(m);
            flush();
            return taken;
        }

        @Override
        protected boolean sendAll(Message[] ms, int count) {
            return offerAllThenFlush(ms, count);
        }

        @Override
        protected synchronized void refuse(int status, Message m) {
            ended = true;
        }

        @Override
        protected synchronized void end(Message last) {
            ended = true;
        }

        synchronized List<String> contents() {
            List<String> out = new ArrayList<>();
            for (String line : received) {
                var json = JsonFrames.parse(line.trim());
                if ("data".equals(JsonFrames.type(json))) {
                    out.add(json.get("content").asText());
                }
            }
            return out;
        }

        synchronized int writesSoFar() {
            return writes;
        }
    }

    private static List<CountingStream> subscribe(Broker b, String cname, int n, int maxPendingBytes) {
        List<CountingStream> out = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            CountingStream s = new CountingStream(maxPendingBytes);
            b.subscribe(s, new Broker.SubscribeRequest(cname, 1, null, null));
            out.add(s);
        }
        return out;
    }

    private static List<Engine.Publish> batch(String[] cnames, int perChannel, String prefix) {
        List<Engine.Publish> out = new ArrayList<>();
        for (int i = 0; i < perChannel; i++) {
            for (String c : cnames) {
                out.add(new Engine.Publish(c, Message.Kind.DATA, prefix + c + "-" + i, null));
            }
        }
        return out;
    }

    @Test
    void aBatchWritesEachStreamOnceWithItsChannelsMessagesInOrder() {
        try (Broker b = new Broker(JcometConfig.from(Map.of()))) {
            List<CountingStream> a = subscribe(b, "a", 5, b.config().maxPendingBytes());
            List<CountingStream> c = subscribe(b, "c", 5, b.config().maxPendingBytes());
            int[] before = new int[10];
            for (int i = 0; i < 5; i++) {
                before[i] = a.get(i).writesSoFar();
                before[5 + i] = c.get(i).writesSoFar();
            }

            Object[] seqs = b.publishAll(batch(new String[] {"a", "c"}, 10, "m"));

            assertEquals(20, seqs.length);
            List<String> expectA = new ArrayList<>();
            List<String> expectC = new ArrayList<>();
            for (int i = 0; i < 10; i++) {
                expectA.add("ma-" + i);
                expectC.add("mc-" + i);
                assertEquals(i + 1, seqs[2 * i], "seqs as ten /push would give them");
            }
            for (int i = 0; i < 5; i++) {
                assertEquals(expectA, a.get(i).contents());
                assertEquals(expectC, c.get(i).contents());
                assertEquals(1, a.get(i).writesSoFar() - before[i], "one write for the batch's ten messages");
                assertEquals(1, c.get(i).writesSoFar() - before[5 + i], "one write for the batch's ten messages");
                assertFalse(a.get(i).flushedUnderLock, "no write while the channel is locked");
                assertFalse(a.get(i).ended);
            }

            // a /push after the batch is written at once, as always
            b.publish("a", "after");
            assertEquals("after", a.get(0).contents().get(10));
            assertEquals(1 + 1, a.get(0).writesSoFar() - before[0]);
        }
    }

    @Test
    void withoutABatchEachPublishIsItsOwnWrite() {
        try (Broker b = new Broker(JcometConfig.from(Map.of()))) {
            CountingStream s = subscribe(b, "a", 1, b.config().maxPendingBytes()).get(0);
            int before = s.writesSoFar();
            for (int i = 0; i < 10; i++) {
                b.publish("a", "m" + i);
            }
            assertEquals(10, s.writesSoFar() - before);
        }
    }

    /**
     * What a batch holds back counts against max_pending_bytes, so it flushes early rather than let a
     * stream that keeps up look slow: a batch larger than the limit (30 messages of about 230 bytes
     * against 4096) drops nobody and reaches everyone.
     */
    @Test
    void aBatchLargerThanMaxPendingBytesFlushesEarlyAndDropsNoStreamThatKeepsUp() {
        try (Broker b = new Broker(JcometConfig.from(Map.of("max_pending_bytes", "4096")))) {
            List<CountingStream> subs = subscribe(b, "a", 3, 4096);
            List<Engine.Publish> big = new ArrayList<>();
            List<String> expect = new ArrayList<>();
            for (int i = 0; i < 30; i++) {
                String content = i + "-" + "x".repeat(150);
                big.add(new Engine.Publish("a", Message.Kind.DATA, content, null));
                expect.add(content);
            }
            int before = subs.get(0).writesSoFar();

            b.publishAll(big);

            for (CountingStream s : subs) {
                assertFalse(s.ended, "not dropped as slow");
                assertEquals(expect, s.contents());
                assertEquals(0, b.stats().droppedSlow());
            }
            int writes = subs.get(0).writesSoFar() - before;
            assertTrue(writes > 1 && writes < 30, "early flushes, still fewer writes than messages: " + writes);
        }
    }

    /** A stream that really is behind (its queue is not drained) is still dropped within a batch. */
    @Test
    void aSlowStreamIsStillDroppedWithinABatch() {
        try (Broker b = new Broker(JcometConfig.from(Map.of("max_pending_bytes", "1024")))) {
            CountingStream keepsUp = subscribe(b, "a", 1, 1024).get(0);
            CountingStream stuck = new CountingStream(1024) {
                @Override
                protected synchronized void flush() {
                    // the client reads nothing: the queue only grows
                }
            };
            b.subscribe(stuck, new Broker.SubscribeRequest("a", 1, null, null));
            List<Engine.Publish> big = new ArrayList<>();
            for (int i = 0; i < 20; i++) {
                big.add(new Engine.Publish("a", Message.Kind.DATA, i + "-" + "x".repeat(150), null));
            }

            b.publishAll(big);

            assertTrue(stuck.ended, "over max_pending_bytes: dropped");
            assertEquals(1, b.stats().droppedSlow());
            assertFalse(keepsUp.ended);
            assertEquals(20, keepsUp.contents().size());
        }
    }
}
