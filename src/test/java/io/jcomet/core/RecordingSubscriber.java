package io.jcomet.core;

import com.fasterxml.jackson.databind.JsonNode;
import io.jcomet.protocol.Transport;
import io.jcomet.support.JsonFrames;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;

/** A subscriber that records what the broker sends it; no sockets. */
class RecordingSubscriber extends Subscriber {
    final Transport transport;
    final List<String> sent = new ArrayList<>();
    int refusedStatus;
    boolean ended;
    boolean acceptMore = true;

    RecordingSubscriber(Transport transport) {
        super(0);
        this.transport = transport;
    }

    static RecordingSubscriber poll() {
        return new RecordingSubscriber(Transport.POLL);
    }

    static RecordingSubscriber stream() {
        return new RecordingSubscriber(Transport.STREAM);
    }

    @Override
    public Transport transport() {
        return transport;
    }

    @Override
    protected synchronized boolean send(Message m) {
        if (!acceptMore) {
            return false;
        }
        sent.add(new String(m.json(), StandardCharsets.UTF_8));
        if (!transport.streaming()) {
            ended = true;
        }
        return true;
    }

    @Override
    protected synchronized boolean sendAll(Message[] ms, int count) {
        for (int i = 0; i < count; i++) {
            sent.add(new String(ms[i].json(), StandardCharsets.UTF_8));
        }
        if (!transport.streaming()) {
            ended = true;
        }
        return acceptMore;
    }

    @Override
    protected synchronized void refuse(int status, Message m) {
        refusedStatus = status;
        sent.add(new String(m.json(), StandardCharsets.UTF_8));
        ended = true;
    }

    @Override
    protected synchronized void end(Message last) {
        if (last != null) {
            sent.add(new String(last.json(), StandardCharsets.UTF_8));
        }
        ended = true;
    }

    synchronized List<String> sent() {
        return new ArrayList<>(sent);
    }

    synchronized String last() {
        return sent.isEmpty() ? null : sent.get(sent.size() - 1);
    }

    /** Every message sent, parsed (each must be valid JSON). */
    synchronized List<JsonNode> json() {
        List<JsonNode> out = new ArrayList<>();
        for (String m : sent) {
            out.add(JsonFrames.parse(m));
        }
        return out;
    }

    /** The last message sent, parsed; fails when nothing was sent. */
    synchronized JsonNode lastJson() {
        if (sent.isEmpty()) {
            throw new AssertionError("nothing was sent");
        }
        return JsonFrames.parse(sent.get(sent.size() - 1));
    }

    /** The types of the messages sent, in order. */
    synchronized List<String> types() {
        List<String> out = new ArrayList<>();
        for (String m : sent) {
            out.add(JsonFrames.type(JsonFrames.parse(m)));
        }
        return out;
    }
}
