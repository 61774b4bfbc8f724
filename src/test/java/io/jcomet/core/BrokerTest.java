package io.jcomet.core;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import io.jcomet.protocol.Transport;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.Iterator;
import java.util.List;
import java.util.Set;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;

/**
 * The broker's semantics without HTTP: seq, replay, gap, limits, table recycling, expiry, timers.
 * Every answer is parsed as JSON and checked field by field, as a client reads it; time is a test
 * clock and the sweeper runs only when the test calls {@link Broker#sweepOnce}.
 */
class BrokerTest extends ClockedBrokerTest {
    private final AtomicLong nanos = new AtomicLong(5_000_000_000L);

    private static Broker.SubscribeRequest req(String cname, int seq) {
        return new Broker.SubscribeRequest(cname, seq, null, null);
    }

    private static Set<String> fields(JsonNode m) {
        Set<String> out = new HashSet<>();
        for (Iterator<String> it = m.fieldNames(); it.hasNext();) {
            out.add(it.next());
        }
        return out;
    }

    /** A published message as a client reads it: exactly these fields, with these values. */
    private static void assertData(JsonNode m, String cname, long seq, String epoch, String content) {
        assertEquals(Set.of("type", "cname", "seq", "epoch", "content"), fields(m), m.toString());
        assertEquals("data", m.get("type").asText(), m.toString());
        assertEquals(cname, m.get("cname").asText(), m.toString());
        assertEquals(seq, m.get("seq").asLong(), m.toString());
        assertEquals(epoch, m.get("epoch").asText(), m.toString());
        assertEquals(content, m.get("content").asText(), m.toString());
    }

    /** next_seq: where to ask from, in which epoch; its content is empty. */
    private static void assertNextSeq(JsonNode m, String cname, long seq, String epoch) {
        assertEquals("next_seq", m.get("type").asText(), m.toString());
        assertEquals(cname, m.get("cname").asText(), m.toString());
        assertEquals(seq, m.get("seq").asLong(), m.toString());
        assertEquals("", m.get("content").asText(), m.toString());
        assertEquals(epoch, m.get("epoch").asText(), m.toString());
    }

    /** icomet's refusals: the status as the type, seq 0 and the reason as content. */
    private static void assertStatus(JsonNode m, String type, String cname, String content) {
        assertEquals(type, m.get("type").asText(), m.toString());
        assertEquals(cname, m.get("cname").asText(), m.toString());
        assertEquals(0, m.get("seq").asLong(), m.toString());
        assertEquals(content, m.get("content").asText(), m.toString());
    }

    @Test
    void heldLongPollGetsThePublishedMessage() {
        Broker b = broker();
        RecordingSubscriber s = RecordingSubscriber.poll();
        b.subscribe(s, req("c", 1));
        assertTrue(s.sent().isEmpty());
        assertEquals(1, b.subscribers("c"));
        assertEquals(1, b.publish("c", "hi \"there\"\n"));
        assertEquals(1, s.sent().size());
        assertData(s.lastJson(), "c", 1, b.epochOf("c"), "hi \"there\"\n");
        assertTrue(s.ended);
        assertEquals(0, b.subscribers("c"));
        assertEquals(0, b.stats().held(Transport.POLL));
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
        List<JsonNode> got = s.json();
        assertEquals(2, got.size(), got.toString());
        assertData(got.get(0), "c", 2, b.epochOf("c"), "m2");
        assertData(got.get(1), "c", 3, b.epochOf("c"), "m3");
        assertTrue(s.ended);
        assertEquals(2, b.stats().delivered(), "replayed messages count as delivered, one by one");
    }

    @Test
    void seqZeroOrAheadGetsNextSeq() {
        Broker b = broker();
        b.publish("c", "x");
        RecordingSubscriber zero = RecordingSubscriber.poll();
        b.subscribe(zero, req("c", 0));
        assertEquals(1, zero.sent().size());
        assertNextSeq(zero.lastJson(), "c", 2, b.epochOf("c"));
        RecordingSubscriber ahead = RecordingSubscriber.poll();
        b.subscribe(ahead, req("c", 50));
        assertNextSeq(ahead.lastJson(), "c", 2, b.epochOf("c"));
        assertTrue(zero.ended && ahead.ended, "answered at once, not held");
        assertEquals(0, b.subscribers("c"));
    }

    @Test
    void seqOlderThanTheBufferIsReportedAsAGapBeforeTheReplay() {
        Broker b = broker("channel_buffer_size", "3");
        for (int i = 1; i <= 10; i++) {
            b.publish("c", "m" + i);
        }
        RecordingSubscriber s = RecordingSubscriber.poll();
        b.subscribe(s, new Broker.SubscribeRequest("c", 2, null, "")); // a jcomet client: epoch present
        List<JsonNode> got = s.json();
        assertEquals(4, got.size(), got.toString());
        JsonNode gap = got.get(0);
        assertEquals("gap", gap.get("type").asText(), gap.toString());
        assertEquals("c", gap.get("cname").asText());
        assertEquals(2, gap.get("from").asLong(), "the first seq the client asked for");
        assertEquals(7, gap.get("to").asLong(), "the last seq no longer buffered");
        assertEquals(b.epochOf("c"), gap.get("epoch").asText());
        for (int i = 1; i <= 3; i++) {
            assertData(got.get(i), "c", 7 + i, b.epochOf("c"), "m" + (7 + i));
        }
    }

    @Test
    void anIcometClientBehindTheBufferGetsWhatIsBufferedWithoutGap() {
        Broker b = broker("channel_buffer_size", "3");
        for (int i = 1; i <= 10; i++) {
            b.publish("c", "m" + i);
        }
        RecordingSubscriber batch = RecordingSubscriber.poll();
        b.subscribe(batch, req("c", 2)); // no epoch: an icomet client, which has no gap message
        assertEquals(List.of("data", "data", "data"), batch.types());
        assertData(batch.json().get(0), "c", 8, b.epochOf("c"), "m8");
        assertData(batch.json().get(2), "c", 10, b.epochOf("c"), "m10");
        RecordingSubscriber jsonp = RecordingSubscriber.poll();
        b.subscribe(jsonp, new Broker.SubscribeRequest("c", 2, null, null, true));
        assertEquals(1, jsonp.sent().size(), "icomet.js's JSONP long-poll gets one message, never an array");
        assertData(jsonp.lastJson(), "c", 8, b.epochOf("c"), "m8");
    }

    @Test
    void afterClearAnIcometClientAskingAnOlderSeqIsHeldAndMovedOnByTheNextMessage() {
        Broker b = broker();
        b.publish("c", "a");
        b.publish("c", "b");
        assertEquals(3, b.clear("c"), "clear answers the next seq");
        RecordingSubscriber s = RecordingSubscriber.poll();
        b.subscribe(s, new Broker.SubscribeRequest("c", 2, null, null, true));
        assertTrue(s.sent().isEmpty(), "no lone gap that icomet.js would ignore and ask again for: " + s.sent());
        assertEquals(1, b.subscribers("c"));
        b.publish("c", "c");
        assertEquals(1, s.sent().size());
        assertData(s.lastJson(), "c", 3, b.epochOf("c"), "c");
        RecordingSubscriber jc = RecordingSubscriber.poll();
        b.subscribe(jc, new Broker.SubscribeRequest("c", 1, null, ""));
        assertEquals(List.of("gap", "data"), jc.types(), "a jcomet client is told what it lost, then gets what is left");
        assertEquals(1, jc.json().get(0).get("from").asLong());
        assertEquals(2, jc.json().get(0).get("to").asLong());
        assertData(jc.json().get(1), "c", 3, b.epochOf("c"), "c");
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
    void presenceReportsCreationRepeatsWhileTheChannelLivesAndReportsItsEnd() {
        Broker b = broker("channel_timeout", "1", "polling_timeout", "1");
        List<String> events = new ArrayList<>();
        b.addPresenceListener((cname, online) -> events.add((online ? "1 " : "0 ") + cname));
        b.sign("signed", 60);
        b.publish("pushed", "x");
        b.subscribe(RecordingSubscriber.poll(), req("asked", 0)); // "where is it?" creates nothing
        b.subscribe(RecordingSubscriber.poll(), req("subbed", 1)); // held: the subscriber made it
        assertEquals(List.of("1 signed", "1 pushed", "1 subbed"), events, "creation by sign, push and a held sub");
        assertEquals(3, b.channels());
        b.publish("pushed", "y");
        assertEquals(3, events.size(), "once per creation, not per operation");

        advanceMillis(999);
        assertEquals(3, events.size(), "nothing before channel_timeout: " + events);
        events.clear();
        advanceMillis(1);
        // channel_timeout (1 s) later: live channels are repeated; the pushed one, idle since, is freed;
        // the subbed one lost its subscriber to the noop just now and lives on a second more
        assertEquals(Set.of("1 signed", "0 pushed", "1 subbed"), new HashSet<>(events));
        assertEquals(3, events.size(), events.toString());
        events.clear();
        advanceMillis(1000);
        assertEquals(Set.of("1 signed", "0 subbed"), new HashSet<>(events));
        assertEquals(1, b.channels());
        events.clear();
        advanceMillis(57_000);
        assertFalse(events.contains("0 signed"), "a signed channel with expires 60 lives on: " + events);
        b.close("signed");
        assertEquals("0 signed", events.get(events.size() - 1));
        assertEquals(0, b.channels());
    }

    @Test
    void anotherEpochIsPointedAtTheOldestSurvivingMessage() {
        Broker b = broker();
        b.publish("c", "a");
        b.publish("c", "b");
        RecordingSubscriber s = RecordingSubscriber.poll();
        b.subscribe(s, new Broker.SubscribeRequest("c", 9, null, "someoldepoch.1"));
        assertEquals(1, s.sent().size());
        assertNextSeq(s.lastJson(), "c", 1, b.epochOf("c"));
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
        assertData(s.lastJson(), "c", 4294967295L, b.epochOf("c"), "last before wrap");
        assertEquals(1, b.publish("c", "after wrap"), "0 is never a message seq");
        RecordingSubscriber r = RecordingSubscriber.poll();
        b.subscribe(r, req("c", -1));
        List<JsonNode> got = r.json();
        assertEquals(2, got.size(), "replay across the wrap: " + got);
        assertData(got.get(0), "c", 4294967295L, b.epochOf("c"), "last before wrap");
        assertData(got.get(1), "c", 1, b.epochOf("c"), "after wrap");
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
        assertStatus(refused.lastJson(), "429", "c", "Too many channels");
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
        assertStatus(third.lastJson(), "429", "c", "Too many subscribers");
        assertEquals(2, b.subscribers("c"), "the refused one is not held");
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
        List<JsonNode> got = s.json();
        assertEquals(6, got.size());
        assertEquals("next_seq", got.get(0).get("type").asText(), got.get(0).toString());
        assertEquals(1, got.get(0).get("seq").asLong(), "a new channel starts at 1");
        for (int i = 1; i <= 5; i++) {
            assertData(got.get(i), "c", i, b.epochOf("c"), "m" + i);
        }
        assertFalse(s.ended);
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
        assertEquals(0, b.stats().held(Transport.STREAM));
        assertEquals(1, b.stats().droppedSlow());
        assertEquals(0, b.stats().disconnected(), "slow is not gone");
    }

    @Test
    void closeSendsCloseAndFreesTheChannel() {
        Broker b = broker();
        b.publish("c", "x");
        String epoch = b.epochOf("c");
        RecordingSubscriber s = RecordingSubscriber.poll();
        b.subscribe(s, req("c", 2));
        assertEquals(2, b.close("c"), "close answers the next seq");
        JsonNode close = s.lastJson();
        assertEquals("close", close.get("type").asText(), close.toString());
        assertEquals("c", close.get("cname").asText());
        assertEquals(2, close.get("seq").asLong(), "the next seq, where a client would resume");
        assertEquals(epoch, close.get("epoch").asText());
        assertEquals(-1, b.subscribers("c"));
        assertEquals(-1, b.close("c"));
        assertEquals(0, b.stats().held(Transport.POLL));
    }

    @Test
    void tokenAuthRefusesMissingOrWrongTokens() {
        Broker b = broker("auth", "token");
        RecordingSubscriber unknown = RecordingSubscriber.poll();
        b.subscribe(unknown, req("c", 1));
        assertEquals(200, unknown.refusedStatus);
        assertStatus(unknown.lastJson(), "401", "c", "Token error"); // an unsigned channel is a token error, as in icomet
        Broker.Signed signed = b.sign("c", 60);
        assertTrue(signed.token().matches("[0-9a-f]{32}"), signed.token());
        RecordingSubscriber wrong = RecordingSubscriber.poll();
        b.subscribe(wrong, new Broker.SubscribeRequest("c", 1, "nope", null));
        assertEquals(200, wrong.refusedStatus);
        assertStatus(wrong.lastJson(), "401", "c", "Token error");
        RecordingSubscriber right = RecordingSubscriber.poll();
        b.subscribe(right, new Broker.SubscribeRequest("c", 1, signed.token(), null));
        assertEquals(0, right.refusedStatus);
        assertTrue(right.sent().isEmpty(), "held");
        assertEquals(1, b.subscribers("c"));
        assertEquals(2, b.stats().rejected(Stats.Reject.TOKEN));
    }

    @Test
    void aQuietLongPollGetsNoopAndTheChannelLivesChannelTimeoutAfterItsLastSubscriberLeft() {
        Broker b = broker("polling_timeout", "2", "channel_timeout", "5");
        b.publish("c", "x");
        RecordingSubscriber s = RecordingSubscriber.poll();
        b.subscribe(s, req("c", 2));
        advanceMillis(1_999);
        assertTrue(s.sent().isEmpty(), "held until polling_timeout");
        advanceMillis(1);
        JsonNode noop = s.lastJson();
        assertEquals("noop", noop.get("type").asText(), noop.toString());
        assertEquals("c", noop.get("cname").asText());
        assertEquals(0, noop.get("seq").asLong(), "a noop echoes the client's noop counter, not a message seq");
        assertEquals(b.epochOf("c"), noop.get("epoch").asText());
        assertEquals(1, b.stats().noops());
        assertEquals(0, b.subscribers("c"));
        advanceMillis(4_999);
        assertEquals(1, b.channels(), "channel_timeout (5 s) counts from the noop that ended the last subscriber");
        advanceMillis(1);
        assertEquals(0, b.channels(), "an idle channel without subscribers expires");
    }

    @Test
    void departedClientIsForgotten() {
        Broker b = broker();
        RecordingSubscriber s = RecordingSubscriber.poll();
        b.subscribe(s, req("c", 1));
        s.onClientGone(b);
        s.onClientGone(b); // reported twice (container and disconnect watch): counted once
        assertEquals(0, b.subscribers("c"));
        assertEquals(0, b.timersQueued());
        assertEquals(0, b.stats().held(Transport.POLL));
        assertEquals(1, b.stats().disconnected());
        b.publish("c", "x");
        assertTrue(s.sent().isEmpty(), "nothing is written to a departed client");
        assertEquals(0, b.stats().delivered());
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
        for (int i = 0; i < 5; i++) {
            RecordingSubscriber s = subs.get(i);
            assertTrue(s.ended);
            JsonNode bye = s.lastJson();
            assertEquals("reconnect", bye.get("type").asText(), bye.toString());
            assertEquals("c" + i, bye.get("cname").asText());
            assertEquals(Broker.MIN_RECONNECT_WINDOW_MS, bye.get("retry_ms").asInt());
        }
        assertEquals(0, b.subscribers());
        RecordingSubscriber late = RecordingSubscriber.poll();
        b.subscribe(late, req("c", 1));
        assertEquals("reconnect", late.lastJson().get("type").asText(), "a subscriber arriving after close is sent on too");
    }
}
