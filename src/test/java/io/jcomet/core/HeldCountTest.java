package io.jcomet.core;

import static org.junit.jupiter.api.Assertions.assertEquals;

import io.jcomet.config.JcometConfig;
import io.jcomet.protocol.Transport;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CountDownLatch;
import org.junit.jupiter.api.Test;

/**
 * The held counts /info and the metrics report come back to zero whichever way subscribers leave:
 * the channel counts them as it links, unlinks and detaches, nobody else.
 */
class HeldCountTest {
    private static Broker broker() {
        return new Broker(JcometConfig.from(Map.of("max_subscribers_per_channel", "100")));
    }

    private static long held(Broker b) {
        long n = 0;
        for (Transport t : Transport.values()) {
            n += b.stats().held(t);
        }
        return n;
    }

    private static List<RecordingSubscriber> hold(Broker b, String cname, Transport... ts) {
        List<RecordingSubscriber> out = new ArrayList<>();
        for (Transport t : ts) {
            RecordingSubscriber s = new RecordingSubscriber(t);
            b.subscribe(s, new Broker.SubscribeRequest(cname, 1, null, null));
            out.add(s);
        }
        return out;
    }

    @Test
    void everyWayOfLeavingUncountsTheSubscriber() {
        try (Broker b = broker()) {
            b.publish("c", "x"); // the channel exists; seq 1 taken
            List<RecordingSubscriber> subs = hold(b, "c", Transport.POLL, Transport.POLL, Transport.STREAM, Transport.SSE,
                    Transport.IFRAME, Transport.WS);
            assertEquals(4, held(b), "streams held; the long-polls were answered next_seq at once");
            assertEquals(1, b.stats().held(Transport.STREAM));
            assertEquals(1, b.stats().held(Transport.WS));

            RecordingSubscriber p1 = new RecordingSubscriber(Transport.POLL);
            RecordingSubscriber p2 = new RecordingSubscriber(Transport.POLL);
            b.subscribe(p1, new Broker.SubscribeRequest("c", 2, null, null));
            b.subscribe(p2, new Broker.SubscribeRequest("c", 2, null, null));
            assertEquals(2, b.stats().held(Transport.POLL));
            b.publish("c", "y"); // answers both long-polls
            assertEquals(0, b.stats().held(Transport.POLL), "delivered long-polls are no longer held");

            subs.get(2).onClientGone(b); // the stream's client went away
            assertEquals(0, b.stats().held(Transport.STREAM));
            subs.get(5).unsubscribe(b); // ws unsub
            assertEquals(0, b.stats().held(Transport.WS));
            assertEquals(1, b.stats().disconnected(), "only the departure is a disconnect, not the unsub");

            b.close("c"); // the rest (sse, iframe) end with close
            assertEquals(0, held(b));
        }
    }

    @Test
    void aStreamTooSlowForAPublishIsUncountedAndCountedAsDropped() {
        try (Broker b = broker()) {
            b.publish("c", "x");
            RecordingSubscriber slow = hold(b, "c", Transport.STREAM).get(0);
            slow.acceptMore = false;
            b.publish("c", "y");
            assertEquals(0, b.stats().held(Transport.STREAM));
            assertEquals(1, b.stats().droppedSlow());
        }
    }

    @Test
    void closingTwiceAtOnceEndsEachSubscriberOnceAndTellsListenersOnce() throws Exception {
        Broker b = broker();
        java.util.concurrent.atomic.AtomicInteger closedTold = new java.util.concurrent.atomic.AtomicInteger();
        b.addPresenceListener(new PresenceListener() {
            @Override
            public void presence(String cname, boolean online) {}

            @Override
            public void brokerClosed() {
                closedTold.incrementAndGet();
            }
        });
        b.publish("c", "x");
        List<RecordingSubscriber> streams = hold(b, "c", Transport.STREAM, Transport.SSE, Transport.WS);
        CountDownLatch go = new CountDownLatch(1);
        Thread t = new Thread(() -> {
            try {
                go.await();
            } catch (InterruptedException e) {
                return;
            }
            b.close();
        });
        t.start();
        go.countDown();
        b.close();
        t.join(5000);
        assertEquals(0, held(b));
        assertEquals(1, closedTold.get(), "a listener is told once, however many threads close");
        for (RecordingSubscriber s : streams) {
            assertEquals(1, s.sent().stream().filter(m -> m.contains("\"type\":\"reconnect\"")).count(), s.sent().toString());
        }
    }
}
