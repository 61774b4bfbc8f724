package io.jcomet.redis;

import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import com.fasterxml.jackson.databind.JsonNode;
import io.jcomet.support.TestServer;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * The promise a subscriber relies on through a failure: every acknowledged message is delivered
 * once, in publish order, or the subscriber is told it missed something (a {@code gap} message, or
 * a message of a new epoch: the restart signal). A publisher records what it published here; a
 * subscriber's messages are checked against it. Thread-safe (the publisher thread records).
 */
final class Continuity {
    /** Every content the publisher sent, in order, and whether Redis acknowledged it. */
    private final List<String> sent = Collections.synchronizedList(new ArrayList<>());
    private final Map<String, Boolean> acked = Collections.synchronizedMap(new HashMap<>());
    /** The body of the last 503 a publish got (diagnostics). */
    volatile String last503;

    /** Before the publish: its outcome may be unknown (a 503 after sending), so it may arrive. */
    void sending(String content) {
        if (acked.putIfAbsent(content, false) == null) {
            sent.add(content); // a retry of the same content keeps its first place
        }
    }

    void acknowledged(String content) {
        acked.put(content, true);
    }

    int acknowledgedCount() {
        synchronized (acked) {
            return (int) acked.values().stream().filter(b -> b).count();
        }
    }

    /** The last acknowledged content, or null. */
    String lastAcknowledged() {
        synchronized (sent) {
            for (int i = sent.size() - 1; i >= 0; i--) {
                if (Boolean.TRUE.equals(acked.get(sent.get(i)))) {
                    return sent.get(i);
                }
            }
        }
        return null;
    }

    /**
     * Checks one subscriber's messages (all JSON objects it got, in order) for the channel.
     * Fails on a duplicate, a message out of order, a seq jump in one epoch without a gap message,
     * or an acknowledged message missing without a signal where it should have been. Returns the
     * number of signals (gap messages and epoch changes) seen.
     */
    int check(String who, List<JsonNode> messages) {
        List<String> order;
        synchronized (sent) {
            order = new ArrayList<>(sent);
        }
        Map<String, Integer> index = new HashMap<>();
        for (int i = 0; i < order.size(); i++) {
            index.put(order.get(i), i);
        }
        int last = -1;
        String epoch = null;
        long seq = 0;
        boolean signal = false;
        int signals = 0;
        for (JsonNode m : messages) {
            String type = m.path("type").asText();
            if (type.equals("gap")) {
                signal = true;
                signals++;
                continue;
            }
            if (!type.equals("data")) {
                continue;
            }
            String content = m.path("content").asText();
            Integer at = index.get(content);
            if (at == null) {
                continue; // not this publisher's
            }
            String e = m.path("epoch").asText();
            long s = m.path("seq").asLong();
            if (at <= last) {
                fail(who + ": " + content + " delivered " + (at == last ? "twice" : "out of order") + " (after " + order.get(last) + "): " + m);
            }
            if (epoch != null && !e.equals(epoch)) {
                signal = true;
                signals++;
            } else if (epoch != null && s != seq + 1 && !signal) {
                fail(who + ": seq " + seq + " then " + s + " in epoch " + e + " without a gap message");
            }
            for (int i = last + 1; i < at; i++) {
                if (Boolean.TRUE.equals(acked.get(order.get(i))) && !signal) {
                    fail(who + ": acknowledged " + order.get(i) + " silently missing (got " + content + " next, seq " + s
                            + ", epoch " + e + ", same epoch as before)");
                }
            }
            last = at;
            epoch = e;
            seq = s;
            signal = false;
        }
        for (int i = last + 1; i < order.size(); i++) {
            assertTrue(!Boolean.TRUE.equals(acked.get(order.get(i))), who + ": acknowledged " + order.get(i) + " never delivered");
        }
        return signals;
    }

    /** Publishes {@code content} through {@code node}; true when acknowledged (200). */
    boolean push(TestServer node, String cname, String content, String idempotencyKey) throws Exception {
        sending(content);
        TestServer.Response r = node.admin("/push?cname=" + cname + "&content=" + content
                + (idempotencyKey == null ? "" : "&idempotency_key=" + idempotencyKey));
        if (r.status() == 200) {
            acknowledged(content);
            return true;
        }
        if (r.status() != 503) {
            fail("push " + content + " answered " + r.status() + " " + r.body());
        }
        last503 = r.body();
        return false;
    }
}
