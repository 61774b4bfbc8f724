package io.jcomet.servlet;

import io.jcomet.core.Broker;
import io.jcomet.core.Message;
import io.jcomet.core.PresenceListener;
import io.jcomet.protocol.Framing;
import io.jcomet.protocol.Messages;
import io.jcomet.protocol.Transport;
import jakarta.servlet.AsyncContext;
import jakarta.servlet.AsyncEvent;
import jakarta.servlet.AsyncListener;
import jakarta.servlet.http.HttpServletRequest;
import jakarta.servlet.http.HttpServletResponse;
import java.io.IOException;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Admin {@code /psub}: endless chunked streams of presence lines, {@code 1 cname} when a channel
 * comes online and {@code 0 cname} when it goes offline.
 *
 * <p>The broker calls {@link #presence} under the channel's lock (so lines of one channel stay in
 * order); writing is non-blocking and bounded ({@link HttpSubscriber}), and a stream that cannot
 * keep up is dropped. The set of streams is concurrent: request threads add, any thread removes
 * (the broker's threads on a refused write, container threads through the request's
 * {@code AsyncListener} when the response ends), each stream once.
 */
final class PresenceHub implements PresenceListener {
    private final Broker broker;
    private final Set<HttpSubscriber> streams = ConcurrentHashMap.newKeySet();

    PresenceHub(Broker broker) {
        this.broker = broker;
        broker.addPresenceListener(this);
    }

    void subscribe(HttpServletRequest req) throws IOException {
        AsyncContext ctx = req.startAsync();
        ctx.setTimeout(0);
        HttpServletResponse r = (HttpServletResponse) ctx.getResponse();
        HttpSubscriber s = new HttpSubscriber(broker, Framing.plainLines(), ctx, r.getOutputStream(), 0);
        streams.add(s);
        broker.stats().addHeld(Transport.PSUB, 1);
        // however the response ends (a failed write, the container's error or timeout), the stream is
        // released then, not at the next presence event (which a quiet server may never have)
        ctx.addListener(new AsyncListener() {
            @Override
            public void onComplete(AsyncEvent e) {
                release(s);
            }

            @Override
            public void onError(AsyncEvent e) {
                release(s);
            }

            @Override
            public void onTimeout(AsyncEvent e) {
                release(s);
            }

            @Override
            public void onStartAsync(AsyncEvent e) {
            }
        });
        s.start();
        // watched from the start: a presence stream is written only when a channel comes or goes, so
        // without the watch a client that left would stay held (and counted) until the next line failed
        s.watchDisconnect();
    }

    /** Forgets {@code s} and ends its response; once, whoever calls it first. */
    private void release(HttpSubscriber s) {
        if (streams.remove(s)) {
            broker.stats().addHeld(Transport.PSUB, -1);
            s.end(null);
        }
    }

    int count() {
        return streams.size();
    }

    @Override
    public void presence(String cname, boolean online) {
        if (streams.isEmpty()) {
            return;
        }
        Message line = Message.control(Messages.utf8((online ? "1 " : "0 ") + cname));
        for (HttpSubscriber s : streams) {
            if (!s.send(line)) {
                release(s);
            }
        }
    }

    @Override
    public void brokerClosed() {
        close();
    }

    /** Ends every presence stream (web app stopping). */
    void close() {
        broker.removePresenceListener(this);
        for (HttpSubscriber s : streams) {
            release(s);
        }
    }
}
