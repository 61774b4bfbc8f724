package io.jcomet.core;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.jcomet.config.JcometConfig;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/** The broker's semantics without HTTP: seq, replay, gap, limits, table recycling, expiry, timers. */
class BrokerTest {
    private Broker broker;

    private Broker broker(String... kv) {
        Map<String, String> m = new HashMap<>();
        for (int i = 0; i < kv.length; i += 2) {
            m.put(kv[i], kv[i + 1]);
        }
        broker = new Broker(JcometConfig.from(m));
        return broker;
    }

    @AfterEach
    void close() {
        if (broker != null) {
            broker.close();
        }
    }

    private static Broker.SubscribeRequest req(String cname, int seq) {
        return new Broker.SubscribeRequest(cname, seq, null, null);
    }

    @Test
    void heldLongPollGetsThePublishedMessage() {
        Broker b = broker();
        RecordingSubscriber s = RecordingSubscriber.poll();
        b.subscribe(s, req("c", 1));
        assertTrue(s.sent().isEmpty());
        assertEquals(1, b.subscribers("c"));
        assertEquals(1, b.publish("c", "hi"));
        assertEquals(List.of("{\"type\":\"data\",\"cname\":\"c\",\"seq\":1,\"epoch\":\"" + b.epochOf("c") + "\",\"content\":\"hi\"}"), s.sent());
        assertEquals(0, b.subscribers("c"));
        assertEquals(0, b.timersQueued(), "the delivered subscriber left the timer list");
    }

    @Test
    void olderSeqReplaysTheBufferAsOneAnswer() {
        Broker b = broker();
        for (int i = 1; i <= 3; i++) {
            b.publish("c", "m" + i);
        }
        RecordingSubscriber s = RecordingSubscriber.poll();
        b.subscribe(s, req("c", 2));
        assertEquals(2, s.sent().size());
        assertTrue(s.sent().get(0).contains("\"seq\":2"));
        assertTrue(s.sent().get(1).contains("\"seq\":3"));
        assertTrue(s.ended);
        assertEquals(2, b.stats().delivered(), "replayed messages count as delivered, one by one");
    }

    @Test
    void seqZeroOrAheadGetsNextSeq() {
        Broker b = broker();
        b.publish("c", "x");
        RecordingSubscriber zero = RecordingSubscriber.poll();
        b.subscribe(zero, req("c", 0));
        assertTrue(zero.last().startsWith("{\"type\":\"next_seq\",\"cname\":\"c\",\"seq\":2,\"content\":\"\",\"epoch\":"), zero.last());
        RecordingSubscriber ahead = RecordingSubscriber.poll();
        b.subscribe(ahead, req("c", 50));
        assertTrue(ahead.last().contains("\"type\":\"next_seq\"") && ahead.last().contains("\"seq\":2"));
    }

    @Test
    void seqOlderThanTheBufferIsReportedAsAGapBeforeTheReplay() {
        Broker b = broker("channel_buffer_size", "3");
        for (int i = 1; i <= 10; i++) {
            b.publish("c", "m" + i);
        }
        RecordingSubscriber s = RecordingSubscriber.poll();
        b.subscribe(s, new Broker.SubscribeRequest("c", 2, null, "")); // a jcomet client: epoch present
        List<String> got = s.sent();
        assertEquals(4, got.size(), got.toString());
        assertTrue(got.get(0).startsWith("{\"type\":\"gap\",\"cname\":\"c\",\"from\":2,\"to\":7,"), got.get(0));
        assertTrue(got.get(1).contains("\"seq\":8"));
        assertTrue(got.get(3).contains("\"seq\":10"));
    }

    @Test
    void anIcometClientBehindTheBufferGetsWhatIsBufferedWithoutGap() {
        Broker b = broker("channel_buffer_size", "3");
        for (int i = 1; i <= 10; i++) {
            b.publish("c", "m" + i);
        }
        RecordingSubscriber batch = RecordingSubscriber.poll();
        b.subscribe(batch, req("c", 2)); // no epoch: an icomet client, which has no gap message
        assertEquals(3, batch.sent().size(), batch.sent().toString());
        assertTrue(batch.sent().get(0).contains("\"seq\":8"), batch.sent().toString());
        RecordingSubscriber jsonp = RecordingSubscriber.poll();
        b.subscribe(jsonp, new Broker.SubscribeRequest("c", 2, null, null, true));
        assertEquals(1, jsonp.sent().size(), "icomet.js's JSONP long-poll gets one message, never an array");
        assertTrue(jsonp.sent().get(0).contains("\"seq\":8"), jsonp.sent().toString());
    }

    @Test
    void afterClearAnIcometClientAskingAnOlderSeqIsHeldAndMovedOnByTheNextMessage() {
        Broker b = broker();
        b.publish("c", "a");
        b.publish("c", "b");
        b.clear("c");
        RecordingSubscriber s = RecordingSubscriber.poll();
        b.subscribe(s, new Broker.SubscribeRequest("c", 2, null, null, true));
        assertTrue(s.sent().isEmpty(), "no lone gap that icomet.js would ignore and ask again for: " + s.sent());
        assertEquals(1, b.subscribers("c"));
        b.publish("c", "c");
        assertEquals(1, s.sent().size());
        assertTrue(s.last().contains("\"seq\":3") && s.last().contains("\"content\":\"c\""), s.last());
        RecordingSubscriber jc = RecordingSubscriber.poll();
        b.subscribe(jc, new Broker.SubscribeRequest("c", 1, null, ""));
        assertTrue(jc.sent().get(0).startsWith("{\"type\":\"gap\",\"cname\":\"c\",\"from\":1,\"to\":2,"), "a jcomet client is told: " + jc.sent());
    }

    @Test
    void signAnswersTheOldestBufferedSeqAndCheckReportsExistingChannels() {
        Broker b = broker("channel_buffer_size", "3");
        assertFalse(b.online("c"));
        assertEquals(1, b.sign("c", 0).seq(), "an empty channel: the next seq");
        assertTrue(b.online("c"), "a signed channel exists without any subscriber");
        for (int i = 1; i <= 5; i++) {
            b.publish("c", "m" + i);
        }
        assertEquals(3, b.sign("c", 0).seq(), "messages 3..5 are buffered");
        assertEquals(30, b.sign("c", 0).expiresSeconds(), "0: channel_timeout");
        b.close("c");
        assertFalse(b.online("c"));
    }

    @Test
    void presenceReportsCreationRepeatsWhileTheChannelLivesAndReportsItsEnd() throws Exception {
        Broker b = broker("channel_timeout", "1", "polling_timeout", "1");
        List<String> events = new java.util.concurrent.CopyOnWriteArrayList<>();
        b.addPresenceListener((cname, online) -> events.add((online ? "1 " : "0 ") + cname));
        b.sign("signed", 60);
        b.publish("pushed", "x");
        b.subscribe(RecordingSubscriber.poll(), req("asked", 0)); // "where is it?" creates nothing
        b.subscribe(RecordingSubscriber.poll(), req("subbed", 1)); // held: the subscriber made it
        assertEquals(List.of("1 signed", "1 pushed", "1 subbed"), events, "creation by sign, push and a held sub");
        b.publish("pushed", "y");
        assertEquals(3, events.size(), "once per creation, not per operation");
        // the sweeper repeats "1 signed" every channel_timeout (1 s) and frees the others after it
        long deadline = System.nanoTime() + 5_000_000_000L;
        while (!(events.contains("0 pushed") && events.contains("0 subbed")
                && events.stream().filter("1 signed"::equals).count() >= 2)) {
            assertTrue(System.nanoTime() < deadline, "presence after 5 s: " + events);
            Thread.sleep(20);
        }
        assertFalse(events.contains("0 signed"), "a signed channel with expires 60 lives on: " + events);
        b.close("signed");
        assertEquals("0 signed", events.get(events.size() - 1));
    }

    @Test
    void anotherEpochIsPointedAtTheOldestSurvivingMessage() {
        Broker b = broker();
        b.publish("c", "a");
        b.publish("c", "b");
        RecordingSubscriber s = RecordingSubscriber.poll();
        b.subscribe(s, new Broker.SubscribeRequest("c", 9, null, "someoldepoch.1"));
        assertTrue(s.last().contains("\"type\":\"next_seq\"") && s.last().contains("\"seq\":1,"), s.last());
    }

    @Test
    void sequenceNumbersWrapAndSkipZero() {
        Broker b = broker();
        b.publish("c", "first");
        Channel ch = b.tableForTest().get("c");
        synchronized (ch) {
            ch.nextSeq = -1; // 2^32 - 1, as if 4 billion messages had gone by
            ch.ring.clear();
        }
        RecordingSubscriber s = RecordingSubscriber.poll();
        b.subscribe(s, req("c", -1));
        assertEquals(-1, b.publish("c", "last before wrap"));
        assertTrue(s.last().contains("\"seq\":4294967295"), s.last());
        assertEquals(1, b.publish("c", "after wrap"), "0 is never a message seq");
        RecordingSubscriber r = RecordingSubscriber.poll();
        b.subscribe(r, req("c", -1));
        assertEquals(2, r.sent().size(), "replay across the wrap: " + r.sent());
        assertTrue(r.sent().get(1).contains("\"seq\":1,"));
    }

    @Test
    void channelTableIsBoundedAndRecyclesSlots() {
        Broker b = broker("max_channels", "2");
        b.publish("a", "x");
        b.publish("b", "x");
        CometException e = assertThrows(CometException.class, () -> b.publish("c", "x"));
        assertEquals(429, e.status());
        RecordingSubscriber refused = RecordingSubscriber.poll();
        b.subscribe(refused, req("c", 1));
        assertEquals(200, refused.refusedStatus, "icomet's protocol types travel as HTTP 200");
        assertTrue(refused.last().startsWith("{\"type\":\"429\""), refused.last());
        assertTrue(refused.last().contains("Too many channels"));
        assertEquals(2, b.close("a"));
        assertEquals(1, b.publish("c", "x"), "the freed slot is reused");
        assertEquals(2, b.channels());
        assertEquals(2, b.stats().rejected(Stats.Reject.TOO_MANY_CHANNELS), "both refusals counted");
    }

    @Test
    void subscribersPerChannelAreBounded() {
        Broker b = broker("max_subscribers_per_channel", "2");
        b.subscribe(RecordingSubscriber.poll(), req("c", 1));
        b.subscribe(RecordingSubscriber.stream(), req("c", 1));
        RecordingSubscriber third = RecordingSubscriber.poll();
        b.subscribe(third, req("c", 1));
        assertEquals(200, third.refusedStatus);
        assertTrue(third.last().startsWith("{\"type\":\"429\""), third.last());
        assertTrue(third.last().contains("Too many subscribers"));
        assertEquals(1, b.stats().rejected(Stats.Reject.TOO_MANY_SUBSCRIBERS));
    }

    @Test
    void streamsStayAndReceiveEveryMessageInOrder() {
        Broker b = broker();
        RecordingSubscriber s = RecordingSubscriber.stream();
        b.subscribe(s, req("c", 0));
        for (int i = 1; i <= 5; i++) {
            b.publish("c", "m" + i);
        }
        List<String> got = s.sent();
        assertEquals(6, got.size());
        assertTrue(got.get(0).contains("next_seq"));
        for (int i = 1; i <= 5; i++) {
            assertTrue(got.get(i).contains("\"seq\":" + i + ","), got.get(i));
        }
        assertEquals(1, b.subscribers("c"));
    }

    @Test
    void aStreamThatCannotTakeMoreIsDroppedAndCounted() {
        Broker b = broker();
        RecordingSubscriber s = RecordingSubscriber.stream();
        b.subscribe(s, req("c", 1));
        s.acceptMore = false;
        b.publish("c", "x");
        assertTrue(s.ended);
        assertEquals(0, b.subscribers("c"));
        assertEquals(1, b.stats().droppedSlow());
    }

    @Test
    void closeSendsCloseAndFreesTheChannel() {
        Broker b = broker();
        RecordingSubscriber s = RecordingSubscriber.poll();
        b.subscribe(s, req("c", 1));
        assertEquals(1, b.close("c"));
        assertTrue(s.last().startsWith("{\"type\":\"close\""), s.last());
        assertEquals(-1, b.subscribers("c"));
        assertEquals(-1, b.close("c"));
    }

    @Test
    void tokenAuthRefusesMissingOrWrongTokens() {
        Broker b = broker("auth", "token");
        RecordingSubscriber unknown = RecordingSubscriber.poll();
        b.subscribe(unknown, req("c", 1));
        assertEquals(200, unknown.refusedStatus);
        assertTrue(unknown.last().startsWith("{\"type\":\"401\""), "an unsigned channel is a token error, as in icomet: " + unknown.last());
        Broker.Signed signed = b.sign("c", 60);
        assertEquals(32, signed.token().length());
        RecordingSubscriber wrong = RecordingSubscriber.poll();
        b.subscribe(wrong, new Broker.SubscribeRequest("c", 1, "nope", null));
        assertEquals(200, wrong.refusedStatus);
        assertTrue(wrong.last().startsWith("{\"type\":\"401\""), wrong.last());
        RecordingSubscriber right = RecordingSubscriber.poll();
        b.subscribe(right, new Broker.SubscribeRequest("c", 1, signed.token(), null));
        assertEquals(0, right.refusedStatus);
        assertEquals(1, b.subscribers("c"));
    }

    @Test
    void sweeperSendsNoopAfterPollingTimeoutAndExpiresIdleChannels() throws Exception {
        Broker b = broker("polling_timeout", "1", "channel_timeout", "1");
        RecordingSubscriber s = RecordingSubscriber.poll();
        b.subscribe(s, new Broker.SubscribeRequest("c", 1, null, null));
        long deadline = System.nanoTime() + 5_000_000_000L;
        while (!s.ended && System.nanoTime() < deadline) {
            Thread.sleep(20);
        }
        assertTrue(s.last().startsWith("{\"type\":\"noop\""), String.valueOf(s.last()));
        while (b.channels() > 0 && System.nanoTime() < deadline) {
            Thread.sleep(20);
        }
        assertEquals(0, b.channels(), "an idle channel without subscribers expires");
    }

    @Test
    void departedClientIsForgotten() {
        Broker b = broker();
        RecordingSubscriber s = RecordingSubscriber.poll();
        b.subscribe(s, req("c", 1));
        s.onClientGone(b);
        assertEquals(0, b.subscribers("c"));
        assertEquals(0, b.timersQueued());
        b.publish("c", "x");
        assertTrue(s.sent().isEmpty(), "nothing is written to a departed client");
    }

    @Test
    void closingTheBrokerTellsEveryHeldClientToReconnect() {
        Broker b = broker();
        List<RecordingSubscriber> subs = new ArrayList<>();
        for (int i = 0; i < 5; i++) {
            RecordingSubscriber s = i % 2 == 0 ? RecordingSubscriber.poll() : RecordingSubscriber.stream();
            b.subscribe(s, req("c" + i, 1));
            subs.add(s);
        }
        b.close();
        for (RecordingSubscriber s : subs) {
            assertTrue(s.ended);
            assertTrue(s.last().startsWith("{\"type\":\"reconnect\""), s.last());
        }
        RecordingSubscriber late = RecordingSubscriber.poll();
        b.subscribe(late, req("c", 1));
        assertTrue(late.last().contains("reconnect"));
    }
}
