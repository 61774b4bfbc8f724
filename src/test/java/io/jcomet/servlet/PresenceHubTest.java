package io.jcomet.servlet;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.jcomet.core.Broker;
import io.jcomet.core.TestClockBroker;
import io.jcomet.protocol.Transport;
import jakarta.servlet.AsyncContext;
import jakarta.servlet.AsyncEvent;
import jakarta.servlet.AsyncListener;
import jakarta.servlet.http.HttpServletRequest;
import jakarta.servlet.http.HttpServletResponse;
import java.io.IOException;
import java.lang.reflect.Proxy;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * Admin {@code /psub}: what a presence listener reads, line by line, as channels are created,
 * live on and are freed (on a test clock), and what is left when a listener goes away.
 */
class PresenceHubTest {
    private final TestClockBroker clock = new TestClockBroker("channel_timeout", "5", "polling_timeout", "30");
    private final Broker broker = clock.broker;
    private final PresenceHub hub = new PresenceHub(broker);

    @AfterEach
    void close() {
        clock.close();
    }

    /** One /psub request over a scripted async context that calls its listeners as a container does. */
    final class Listener {
        final HttpWire.Out out = new HttpWire.Out(); // the /psub response's non-blocking output
        final List<AsyncListener> listeners = new ArrayList<>();
        int completions;
        AsyncContext ctx;

        Listener() throws IOException {
            HttpServletResponse resp = (HttpServletResponse) Proxy.newProxyInstance(getClass().getClassLoader(),
                    new Class<?>[] {HttpServletResponse.class}, (p, m, a) -> switch (m.getName()) {
                        case "isCommitted" -> false;
                        case "getOutputStream" -> out;
                        default -> null;
                    });
            ctx = (AsyncContext) Proxy.newProxyInstance(getClass().getClassLoader(), new Class<?>[] {AsyncContext.class},
                    (p, m, a) -> {
                        switch (m.getName()) {
                            case "getResponse":
                                return resp;
                            case "addListener":
                                listeners.add((AsyncListener) a[0]);
                                return null;
                            case "complete":
                                completions++;
                                if (!out.completed) {
                                    out.completed = true;
                                    for (AsyncListener l : List.copyOf(listeners)) {
                                        l.onComplete(new AsyncEvent(ctx));
                                    }
                                }
                                return null;
                            default:
                                return null;
                        }
                    });
            HttpServletRequest req = (HttpServletRequest) Proxy.newProxyInstance(getClass().getClassLoader(),
                    new Class<?>[] {HttpServletRequest.class}, (p, m, a) -> m.getName().equals("startAsync") ? ctx : null);
            hub.subscribe(req);
        }

        List<String> lines() {
            String text = out.text();
            assertTrue(text.isEmpty() || text.endsWith("\n"), "whole lines only: " + text);
            return text.isEmpty() ? List.of() : Arrays.asList(text.split("\n"));
        }

        /** The container saw the connection fail (reset, idle timeout): it tells every listener. */
        void containerError() throws IOException {
            for (AsyncListener l : List.copyOf(listeners)) {
                l.onError(new AsyncEvent(ctx, new IOException("connection reset by peer")));
            }
        }
    }

    @Test
    void aListenerReadsOneLineWhenAChannelIsCreatedAndOneWhenItIsFreed() throws IOException {
        Listener l = new Listener();
        assertEquals(1, hub.count());
        assertEquals(1, broker.stats().held(Transport.PSUB));
        broker.publish("pushed", "x");
        broker.sign("signed", 0);
        broker.publish("pushed", "y");
        assertEquals(List.of("1 pushed", "1 signed"), l.lines(), "once per creation, not per operation");
        broker.close("pushed");
        assertEquals(List.of("1 pushed", "1 signed", "0 pushed"), l.lines());
        assertEquals(0, l.completions, "the stream stays open");
    }

    @Test
    void aLiveChannelIsRepeatedEveryChannelTimeoutAndReportedFreedWhenItExpires() throws IOException {
        Listener l = new Listener();
        broker.sign("c", 12); // lives 12 s without activity; channel_timeout is 5 s
        assertEquals(List.of("1 c"), l.lines());
        clock.advanceMillis(4_999);
        assertEquals(List.of("1 c"), l.lines(), "not before channel_timeout");
        clock.advanceMillis(1);
        assertEquals(List.of("1 c", "1 c"), l.lines(), "repeated at channel_timeout");
        clock.advanceMillis(5_000);
        assertEquals(List.of("1 c", "1 c", "1 c"), l.lines());
        clock.advanceMillis(1_999);
        assertEquals(3, l.lines().size());
        clock.advanceMillis(1);
        assertEquals(List.of("1 c", "1 c", "1 c", "0 c"), l.lines(), "freed at its expiry (12 s), not repeated");
        clock.advanceMillis(60_000);
        assertEquals(4, l.lines().size(), "nothing about a freed channel");
    }

    @Test
    void aChannelASubscriberMadeIsReportedWhileHeldAndFreedAfterItsSubscriberLeft() throws IOException {
        Listener l = new Listener();
        HttpWire sub = HttpWire.stream();
        sub.subscribe(broker, "room", 1);
        assertEquals(List.of("1 room"), l.lines());
        sub.clientLeaves();
        clock.advanceMillis(999);
        assertEquals(List.of("1 room"), l.lines(), "kept a moment, as for a long-poll between two requests");
        clock.advanceMillis(1);
        assertEquals(List.of("1 room", "0 room"), l.lines());
    }

    @Test
    void aListenerWhoseWriteFailsIsDroppedAndTheOthersGoOn() throws IOException {
        Listener gone = new Listener();
        Listener stays = new Listener();
        assertEquals(2, broker.stats().held(Transport.PSUB));
        gone.out.failing = true;
        broker.publish("a", "x");
        assertEquals(1, hub.count());
        assertEquals(1, broker.stats().held(Transport.PSUB), "the failed listener is no longer counted");
        assertEquals(1, gone.completions, "its response completed once");
        broker.publish("b", "x");
        assertEquals(List.of("1 a", "1 b"), stays.lines());
        assertEquals(List.of(), gone.lines());
    }

    @Test
    void aListenerTheContainerReportsGoneIsReleasedAtOnceNotAtTheNextEvent() throws IOException {
        Listener l = new Listener();
        l.containerError(); // nothing happens on the server after this: no event would find it gone
        assertEquals(0, hub.count(), "the hub let it go");
        assertEquals(0, broker.stats().held(Transport.PSUB));
        assertEquals(1, l.completions);
        broker.publish("a", "x");
        assertEquals(List.of(), l.lines());
    }

    @Test
    void closingTheBrokerEndsEveryListener() throws IOException {
        Listener a = new Listener();
        Listener b = new Listener();
        broker.publish("c", "x");
        broker.close();
        assertEquals(1, a.completions);
        assertEquals(1, b.completions);
        assertEquals(0, hub.count());
        assertEquals(0, broker.stats().held(Transport.PSUB));
        assertEquals(List.of("1 c"), a.lines());
    }
}
