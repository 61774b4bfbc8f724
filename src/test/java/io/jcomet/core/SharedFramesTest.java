package io.jcomet.core;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.jcomet.config.JcometConfig;
import io.jcomet.protocol.Framing;
import io.jcomet.protocol.Transport;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * The fan-out path: one publish is framed once per framing and every subscriber of that framing is
 * handed the same array; streams are only offered the message under the channel lock and written
 * (flushed) after it is released.
 */
class SharedFramesTest {
    private final Broker broker = new Broker(JcometConfig.from(Map.of()));

    @AfterEach
    void close() {
        broker.close();
    }

    /** Frames as the servlet layer does and records the arrays, and whether the channel lock was held. */
    static final class FramingSubscriber extends Subscriber {
        final Transport transport;
        final Framing framing;
        final List<byte[]> offered = new ArrayList<>();
        final List<byte[]> written = new ArrayList<>();
        boolean offeredUnderLock = true;
        boolean flushedOutsideLock = true;

        FramingSubscriber(Transport transport, Framing framing) {
            super(0);
            this.transport = transport;
            this.framing = framing;
        }

        @Override
        public Transport transport() {
            return transport;
        }

        @Override
        protected synchronized boolean offer(Message m) {
            offeredUnderLock &= channel != null && Thread.holdsLock(channel);
            offered.add(framing.frame(m));
            return true;
        }

        @Override
        protected synchronized void flush() {
            flushedOutsideLock &= channel == null || !Thread.holdsLock(channel);
            written.addAll(offered);
            offered.clear();
        }

        @Override
        protected synchronized boolean send(Message m) {
            written.add(framing.frame(m));
            return true;
        }

        @Override
        protected synchronized boolean sendAll(Message[] ms, int count) {
            written.add(framing.batch(ms, count));
            return true;
        }

        @Override
        protected void refuse(int status, Message m) {
            written.add(framing.frame(m));
        }

        @Override
        protected synchronized void end(Message last) {
            if (last != null) {
                written.add(framing.frame(last));
            }
        }
    }

    private FramingSubscriber held(Transport t, Framing f) {
        FramingSubscriber s = new FramingSubscriber(t, f);
        broker.subscribe(s, new Broker.SubscribeRequest("c", 1, null, null));
        return s;
    }

    @Test
    void everySubscriberOfAFramingGetsTheSameBytes() {
        broker.publish("c", "first"); // the channel exists and is published to: seq 1 taken
        List<FramingSubscriber> polls = new ArrayList<>();
        List<FramingSubscriber> streams = new ArrayList<>();
        List<FramingSubscriber> sses = new ArrayList<>();
        List<FramingSubscriber> jsonp = new ArrayList<>();
        for (int i = 0; i < 3; i++) {
            polls.add(new FramingSubscriber(Transport.POLL, Framing.longPoll(null)));
            streams.add(new FramingSubscriber(Transport.STREAM, Framing.stream()));
            sses.add(new FramingSubscriber(Transport.SSE, Framing.sse()));
            jsonp.add(new FramingSubscriber(Transport.POLL, Framing.longPoll("cb")));
        }
        for (List<FramingSubscriber> group : List.of(polls, streams, sses, jsonp)) {
            for (FramingSubscriber s : group) {
                broker.subscribe(s, new Broker.SubscribeRequest("c", 2, null, null));
            }
        }
        broker.publish("c", "hello");

        byte[] line = polls.get(0).written.get(0);
        assertEquals("{\"type\":\"data\",\"cname\":\"c\",\"seq\":2,\"epoch\":\"" + broker.epochOf("c") + "\",\"content\":\"hello\"}\n",
                new String(line, StandardCharsets.UTF_8));
        for (FramingSubscriber s : polls) {
            assertSame(line, s.written.get(0), "every plain long-poll answer is the same array");
        }
        for (FramingSubscriber s : streams) {
            assertEquals(1, s.written.size());
            assertSame(line, s.written.get(0), "a stream line is the long-poll answer's bytes: the same array");
        }
        byte[] event = sses.get(0).written.get(0);
        assertTrue(new String(event, StandardCharsets.UTF_8).startsWith("id: 2\ndata: {"));
        for (FramingSubscriber s : sses) {
            assertSame(event, s.written.get(0));
        }
        byte[] script = jsonp.get(0).written.get(0);
        assertTrue(new String(script, StandardCharsets.UTF_8).startsWith("cb({"));
        for (FramingSubscriber s : jsonp) {
            assertSame(script, s.written.get(0), "same callback name: same bytes");
        }
    }

    @Test
    void streamsAreOfferedUnderTheChannelLockAndWrittenAfterIt() {
        FramingSubscriber a = held(Transport.STREAM, Framing.stream());
        FramingSubscriber b = held(Transport.SSE, Framing.sse());
        broker.publish("c", "one");
        broker.publish("c", "two");
        for (FramingSubscriber s : List.of(a, b)) {
            assertTrue(s.offeredUnderLock, "offered in seq order under the channel lock");
            assertTrue(s.flushedOutsideLock, "no socket write while the channel is locked");
            assertTrue(s.offered.isEmpty(), "everything offered was flushed");
        }
        // the first answer is next_seq (subscribed with seq 1 to a new channel), then the two messages in order
        List<String> got = new ArrayList<>();
        for (byte[] w : a.written) {
            got.add(new String(w, StandardCharsets.UTF_8));
        }
        assertEquals(2, got.stream().filter(l -> l.contains("\"type\":\"data\"")).count(), got.toString());
        assertTrue(got.get(got.size() - 2).contains("\"content\":\"one\""));
        assertTrue(got.get(got.size() - 1).contains("\"content\":\"two\""));
    }
}
