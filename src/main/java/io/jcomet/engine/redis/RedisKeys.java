package io.jcomet.engine.redis;

import io.jcomet.core.Engine.Stored;
import io.jcomet.core.Message;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;

/**
 * Where a channel lives in Redis and in what form (docs/DEPLOY.md, "What lives where"). All of a
 * channel's keys share the hash tag {@code {<cname>}}, so on Redis Cluster they live on one shard
 * with the channel's shard PUB/SUB channel:
 *
 * <ul>
 * <li>{@code <prefix>{<cname>}}: the shard PUB/SUB channel ({@link #base});</li>
 * <li>{@code ...:m}: the meta hash (seq, epoch, token, ttl, rid), {@code ...:b}: the buffer list
 * ({@link #keys}), entries {@code "<seq> <kind letter><content>"} ({@link #entry});</li>
 * <li>{@code ...:p}: the presence hash, {@code ...:i:u:<key>}: a user's idempotency key
 * ({@link #idempotencyKey}), {@code ...:i:b:<id>}: a broadcast id.</li>
 * </ul>
 *
 * Plus a few per-service names under the prefix ({@link #broadcastChannel}, ...). Immutable; any thread.
 */
final class RedisKeys {
    final String prefix;
    /** PUB/SUB channels every node hears (shard channels on Redis Cluster). */
    final String broadcastChannel;
    final String presenceChannel;
    final String askChannel;
    /** Nodes alive: a sorted set of node ids scored by their last heartbeat. */
    final String nodesKey;
    /** The cluster's channels: a sorted set of names scored by when each expires unless used again. */
    final String channelsKey;
    /** Held for a second by the node that checks the channels set's expired entries. */
    final String recountKey;

    RedisKeys(String prefix) {
        this.prefix = prefix;
        this.broadcastChannel = prefix + "broadcast";
        this.presenceChannel = prefix + "presence";
        this.askChannel = prefix + "ask";
        this.nodesKey = prefix + "nodes";
        this.channelsKey = prefix + "channels";
        this.recountKey = prefix + "channels-recount";
    }

    /** Where the node {@code nodeId} hears the answers to the questions it asked every node. */
    String replyChannel(String nodeId) {
        return prefix + "reply:" + nodeId;
    }

    /** {@code prefix{cname}}: the channel's shard PUB/SUB channel and, with :m and :b, its keys (one hash tag). */
    static String base(String prefix, String cname) {
        StringBuilder b = new StringBuilder(prefix.length() + cname.length() + 2).append(prefix).append('{');
        for (int i = 0; i < cname.length(); i++) {
            char c = cname.charAt(i);
            // braces would change the hash tag, and % is the escape
            if (c == '{' || c == '}' || c == '%') {
                b.append('%').append(Character.forDigit(c >> 4, 16)).append(Character.forDigit(c & 15, 16));
            } else {
                b.append(c);
            }
        }
        return b.append('}').toString();
    }

    /** The channel's meta hash and its buffer list (see {@link Scripts}). */
    static String[] keys(String base) {
        return new String[] {base + ":m", base + ":b"};
    }

    /** A user's idempotency key: its own key in the channel's hash tag, so the script may touch it. */
    static String idempotencyKey(String base, String key) {
        return base + ":i:u:" + key;
    }

    /** The channel name in a shard channel name, or null if it is not one of ours. */
    static String cnameOf(String prefix, String shardChannel) {
        if (!shardChannel.startsWith(prefix) || shardChannel.length() < prefix.length() + 2
                || shardChannel.charAt(prefix.length()) != '{' || !shardChannel.endsWith("}")) {
            return null;
        }
        String enc = shardChannel.substring(prefix.length() + 1, shardChannel.length() - 1);
        if (enc.indexOf('%') < 0) {
            return enc;
        }
        StringBuilder b = new StringBuilder(enc.length());
        for (int i = 0; i < enc.length(); i++) {
            char c = enc.charAt(i);
            if (c == '%' && i + 2 < enc.length()) {
                b.append((char) Integer.parseInt(enc.substring(i + 1, i + 3), 16));
                i += 2;
            } else {
                b.append(c);
            }
        }
        return b.toString();
    }

    /** Buffer entries as the scripts return them: {@code "<seq> <kind letter><content>"}, oldest first. */
    static List<Stored> entries(Object raw) {
        if (!(raw instanceof List<?> list) || list.isEmpty()) {
            return Collections.emptyList();
        }
        List<Stored> out = new ArrayList<>(list.size());
        for (Object o : list) {
            out.add(entry((String) o));
        }
        return out;
    }

    static Stored entry(String e) {
        int sp = e.indexOf(' ');
        int seq = (int) Long.parseLong(e.substring(0, sp));
        Message.Kind kind = sp + 1 < e.length() && e.charAt(sp + 1) == 'b' ? Message.Kind.BROADCAST : Message.Kind.DATA;
        return new Stored(seq, kind, sp + 2 <= e.length() ? e.substring(sp + 2) : "");
    }
}
