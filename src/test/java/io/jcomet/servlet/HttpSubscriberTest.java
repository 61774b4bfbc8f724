package io.jcomet.servlet;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.jcomet.config.JcometConfig;
import io.jcomet.core.Broker;
import io.jcomet.core.Message;
import io.jcomet.protocol.Framing;
import io.jcomet.protocol.Transport;
import jakarta.servlet.AsyncContext;
import jakarta.servlet.AsyncEvent;
import jakarta.servlet.ServletOutputStream;
import jakarta.servlet.WriteListener;
import jakarta.servlet.http.HttpServletResponse;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.lang.reflect.Proxy;
import java.nio.charset.StandardCharsets;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * Every state change of {@link HttpSubscriber}, driven by a scripted output stream (no sockets):
 * the test says when the container is ready for more and when a write fails.
 */
class HttpSubscriberTest {
    private final Broker broker = new Broker(JcometConfig.from(Map.of("max_pending_bytes", "1024")));

    @AfterEach
    void close() {
        broker.close();
    }

    /** A non-blocking output whose readiness and failures the test scripts. */
    static final class ScriptedOut extends ServletOutputStream {
        final ByteArrayOutputStream written = new ByteArrayOutputStream();
        boolean ready = true;
        boolean fail;
        int flushes;
        WriteListener listener;

        @Override
        public boolean isReady() {
            return ready;
        }

        @Override
        public void setWriteListener(WriteListener l) {
            listener = l;
        }

        @Override
        public void write(int b) throws IOException {
            write(new byte[] {(byte) b}, 0, 1);
        }

        @Override
        public void write(byte[] b, int off, int len) throws IOException {
            if (fail) {
                throw new IOException("connection reset");
            }
            if (!ready) {
                throw new IllegalStateException("write while not ready");
            }
            written.write(b, off, len);
        }

        @Override
        public void flush() {
            flushes++;
        }

        String text() {
            return written.toString(StandardCharsets.UTF_8);
        }
    }

    private final ScriptedOut out = new ScriptedOut();
    private int completes;
    private int contentLength = -1;
    private AsyncContext ctx;

    private HttpSubscriber subscriber(Transport t, Framing f) {
        HttpServletResponse resp = (HttpServletResponse) Proxy.newProxyInstance(getClass().getClassLoader(),
                new Class<?>[] {HttpServletResponse.class}, (p, m, a) -> {
                    switch (m.getName()) {
                        case "isCommitted":
                            return false;
                        case "setContentLength":
                            contentLength = (Integer) a[0];
                            return null;
                        default:
                            return null;
                    }
                });
        ctx = (AsyncContext) Proxy.newProxyInstance(getClass().getClassLoader(),
                new Class<?>[] {AsyncContext.class}, (p, m, a) -> {
                    switch (m.getName()) {
                        case "getResponse":
                            return resp;
                        case "getRequest":
                            return null;
                        case "complete":
                            completes++;
                            return null;
                        default:
                            return null;
                    }
                });
        HttpSubscriber s = new HttpSubscriber(broker, f, ctx, out, 0);
        assertEquals(t, s.transport(), "the framing names its transport");
        s.start();
        return s;
    }

    private static Message data(int seq, String content) {
        return new Message(Message.Kind.DATA, seq, ("{\"seq\":" + seq + ",\"content\":\"" + content + "\"}").getBytes(StandardCharsets.UTF_8));
    }

    @Test
    void openToDoneWhenALongPollAnswerGoesOutAtOnce() {
        HttpSubscriber s = subscriber(Transport.POLL, Framing.longPoll(null));
        assertEquals(HttpSubscriber.State.OPEN, s.state());
        assertTrue(s.send(data(1, "a")));
        assertEquals("{\"seq\":1,\"content\":\"a\"}\n", out.text());
        assertEquals(out.written.size(), contentLength);
        assertEquals(HttpSubscriber.State.DONE, s.state());
        assertEquals(1, completes);
    }

    @Test
    void openToClosingToDoneWhenTheSocketTakesTheAnswerLater() {
        HttpSubscriber s = subscriber(Transport.POLL, Framing.longPoll(null));
        out.ready = false;
        assertTrue(s.send(data(1, "a")));
        assertEquals(HttpSubscriber.State.CLOSING, s.state(), "queued, not completed");
        assertEquals(0, out.written.size());
        assertEquals(0, completes);
        out.ready = true;
        s.onWritePossible();
        assertEquals("{\"seq\":1,\"content\":\"a\"}\n", out.text());
        assertEquals(HttpSubscriber.State.DONE, s.state());
        assertEquals(1, completes);
    }

    @Test
    void aFanOutAnswerGoesOutAtOnceButTheResponseEndsOnlyAtEndDeferred() {
        HttpSubscriber s = subscriber(Transport.POLL, Framing.longPoll(null));
        assertTrue(s.sendDeferringEnd(data(1, "a")));
        assertEquals("{\"seq\":1,\"content\":\"a\"}\n", out.text(), "the client has its whole answer");
        assertEquals(out.written.size(), contentLength);
        assertEquals(HttpSubscriber.State.CLOSING, s.state());
        assertEquals(0, completes, "ending waits for the broker");
        s.endDeferred();
        assertEquals(HttpSubscriber.State.DONE, s.state());
        assertEquals(1, completes);
        s.endDeferred();
        assertEquals(1, completes, "a second end changes nothing");
    }

    @Test
    void aDeferredAnswerEndsWhenItIsBothWrittenAndReleasedInEitherOrder() {
        HttpSubscriber first = subscriber(Transport.POLL, Framing.longPoll(null));
        out.ready = false;
        assertTrue(first.sendDeferringEnd(data(1, "a")));
        first.endDeferred();
        assertEquals(HttpSubscriber.State.CLOSING, first.state(), "released, but the bytes still wait for the socket");
        assertEquals(0, completes);
        out.ready = true;
        first.onWritePossible();
        assertEquals(HttpSubscriber.State.DONE, first.state());
        assertEquals(1, completes);

        completes = 0;
        out.written.reset();
        HttpSubscriber second = subscriber(Transport.POLL, Framing.longPoll(null));
        out.ready = false;
        assertTrue(second.sendDeferringEnd(data(2, "b")));
        out.ready = true;
        second.onWritePossible();
        assertEquals("{\"seq\":2,\"content\":\"b\"}\n", out.text());
        assertEquals(HttpSubscriber.State.CLOSING, second.state(), "written, but not released yet");
        assertEquals(0, completes);
        second.endDeferred();
        assertEquals(HttpSubscriber.State.DONE, second.state());
        assertEquals(1, completes);
    }

    @Test
    void aClientLostBetweenTheAnswerAndItsEndIsCompletedAtOnceAndOnlyOnce() {
        HttpSubscriber s = subscriber(Transport.POLL, Framing.longPoll(null));
        assertTrue(s.sendDeferringEnd(data(1, "a")));
        s.onError(new AsyncEvent(ctx, new IOException("reset")));
        assertEquals(HttpSubscriber.State.DONE, s.state());
        assertEquals(1, completes);
        s.endDeferred();
        assertEquals(1, completes);
        assertFalse(s.sendDeferringEnd(data(2, "b")), "nothing is taken once done");
    }

    @Test
    void aStreamIgnoresTheDeferralItStaysOpen() {
        HttpSubscriber s = subscriber(Transport.STREAM, Framing.stream());
        assertTrue(s.sendDeferringEnd(data(1, "a")));
        assertEquals("{\"seq\":1,\"content\":\"a\"}\n", out.text());
        s.endDeferred();
        assertEquals(HttpSubscriber.State.OPEN, s.state());
        assertEquals(0, completes);
    }

    @Test
    void aStreamIsOnlyWrittenOnFlushInOfferOrderAndKeepsOrderWhileNotReady() {
        HttpSubscriber s = subscriber(Transport.STREAM, Framing.stream());
        assertTrue(s.offer(data(1, "a")));
        assertTrue(s.offer(data(2, "b")));
        assertEquals(0, out.written.size(), "offer only queues (it runs under the channel lock)");
        s.flush();
        assertEquals("{\"seq\":1,\"content\":\"a\"}\n{\"seq\":2,\"content\":\"b\"}\n", out.text());
        out.ready = false;
        assertTrue(s.send(data(3, "c")));
        assertTrue(s.offer(data(4, "d")));
        s.flush();
        out.ready = true;
        s.onWritePossible();
        assertTrue(out.text().endsWith("{\"seq\":3,\"content\":\"c\"}\n{\"seq\":4,\"content\":\"d\"}\n"), out.text());
        assertEquals(HttpSubscriber.State.OPEN, s.state());
        assertEquals(0, completes);
    }

    @Test
    void aStreamThatStopsReadingIsRefusedPastMaxPendingBytes() {
        HttpSubscriber s = subscriber(Transport.STREAM, Framing.stream());
        out.ready = false;
        int taken = 0;
        String content = "x".repeat(250); // a 274-byte line
        while (taken < 100 && s.offer(data(taken + 1, content))) {
            taken++;
        }
        assertEquals(3, taken, "three lines fit max_pending_bytes=1024, a fourth would not");
        assertFalse(s.clientGone(), "slow, not gone: counted as dropped, not as a disconnect");
        s.end(null); // the broker drops it
        assertEquals(HttpSubscriber.State.CLOSING, s.state(), "completes once what is queued went out");
    }

    @Test
    void openToGoneToDoneWhenAWriteFails() {
        HttpSubscriber s = subscriber(Transport.STREAM, Framing.stream());
        out.fail = true;
        assertTrue(s.offer(data(1, "a")));
        s.flush();
        assertEquals(HttpSubscriber.State.DONE, s.state());
        assertTrue(s.clientGone());
        assertEquals(1, completes);
        assertFalse(s.offer(data(2, "b")), "nothing is taken after the client went away");
    }

    @Test
    void aContainerTimeoutOrErrorEndsTheSubscriberAsGone() {
        HttpSubscriber s = subscriber(Transport.POLL, Framing.longPoll(null));
        s.onTimeout(new AsyncEvent(ctx, new IOException("timeout")));
        assertEquals(HttpSubscriber.State.DONE, s.state());
        assertTrue(s.clientGone());
        assertEquals(1, completes);
        s.onError(new AsyncEvent(ctx, new IOException("again")));
        assertEquals(1, completes, "a second report changes nothing");
    }

    @Test
    void ourOwnCompletionIsNotReportedBackAsAGoneClient() {
        HttpSubscriber s = subscriber(Transport.POLL, Framing.longPoll(null));
        s.send(data(1, "a"));
        s.onComplete(new AsyncEvent(ctx));
        assertFalse(s.clientGone());
        assertEquals(1, completes);
    }

    @Test
    void theContainerEndingAHeldRequestFirstIsAGoneClient() {
        HttpSubscriber s = subscriber(Transport.SSE, Framing.sse());
        s.onComplete(new AsyncEvent(ctx));
        assertTrue(s.clientGone());
        assertEquals(HttpSubscriber.State.DONE, s.state());
    }
}
