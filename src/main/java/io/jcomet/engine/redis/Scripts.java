package io.jcomet.engine.redis;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;

/**
 * The Lua scripts that keep one channel consistent in Redis. Every script touches only the
 * channel's two keys, which share a hash tag (see {@link RedisEngine#keys}), so each runs atomically
 * on the one shard that owns the channel, and its SPUBLISH goes out on that shard too.
 *
 * <p>Keys: KEYS[1] the meta hash (seq = last assigned seq, epoch, token, ttl in ms),
 * KEYS[2] the stream (entry id {@code <seq>-0}, fields k = kind letter, c = content), capped at
 * channel_buffer_size. A missing meta hash means the channel's data is gone (expired, flushed,
 * failover without persistence): the next script that needs it starts a new epoch (the candidate
 * the node sends) and drops any stale stream.
 *
 * <p>Messages on the channel's shard PUB/SUB channel: {@code kind \n seq \n epoch \n content},
 * kind d (data), b (broadcast), c (closed; seq = next seq), x (buffer cleared), t (token made).
 */
final class Scripts {
    private Scripts() {}

    private static final String ENSURE_EPOCH =
            "local epoch = redis.call('HGET', KEYS[1], 'epoch')\n"
            + "if not epoch then\n"
            + "  epoch = ARGV[1]\n"
            + "  redis.call('DEL', KEYS[2])\n"
            + "  redis.call('HSET', KEYS[1], 'epoch', epoch, 'seq', 0)\n"
            + "end\n";

    /** ARGV: epoch candidate, kind letter, content, maxlen, default ttl ms, shard channel, broadcast id or ''. Returns {seq, epoch}. */
    static final Script PUBLISH = new Script(ENSURE_EPOCH
            + "if ARGV[7] ~= '' then\n"
            + "  if redis.call('HGET', KEYS[1], 'bid') == ARGV[7] then return {-1, epoch} end\n"
            + "  redis.call('HSET', KEYS[1], 'bid', ARGV[7])\n"
            + "end\n"
            + "local seq = redis.call('HINCRBY', KEYS[1], 'seq', 1)\n"
            + "redis.call('XADD', KEYS[2], 'MAXLEN', ARGV[4], seq .. '-0', 'k', ARGV[2], 'c', ARGV[3])\n"
            + "local ttl = redis.call('HGET', KEYS[1], 'ttl') or ARGV[5]\n"
            + "redis.call('PEXPIRE', KEYS[1], ttl)\n"
            + "redis.call('PEXPIRE', KEYS[2], ttl)\n"
            + "redis.call('SPUBLISH', ARGV[6], ARGV[2] .. '\\n' .. seq .. '\\n' .. epoch .. '\\n' .. ARGV[3])\n"
            + "return {seq, epoch}\n");

    /**
     * ARGV: epoch candidate, create (1/0), default ttl ms. Returns false when the channel does not exist
     * and create is 0, else {epoch, seq, token, ttl, stream entries}.
     */
    static final Script ATTACH = new Script(
            "if ARGV[2] == '0' and redis.call('EXISTS', KEYS[1]) == 0 then return false end\n"
            + ENSURE_EPOCH
            + "local m = redis.call('HMGET', KEYS[1], 'seq', 'token', 'ttl')\n"
            + "redis.call('PEXPIRE', KEYS[1], m[3] or ARGV[3])\n"
            + "if redis.call('EXISTS', KEYS[2]) == 1 then redis.call('PEXPIRE', KEYS[2], m[3] or ARGV[3]) end\n"
            + "return {epoch, m[1], m[2] or '', m[3] or '', redis.call('XRANGE', KEYS[2], '-', '+')}\n");

    /** ARGV: first seq wanted. Returns the stream entries from it on (a missed publication's fill). */
    static final Script RANGE = new Script(
            "return redis.call('XRANGE', KEYS[2], ARGV[1] .. '-0', '+')\n");

    /** ARGV: epoch candidate, token candidate, ttl ms, shard channel. Returns {seq, token}. */
    static final Script SIGN = new Script(ENSURE_EPOCH
            + "local made = redis.call('HSETNX', KEYS[1], 'token', ARGV[2])\n"
            + "redis.call('HSET', KEYS[1], 'ttl', ARGV[3])\n"
            + "redis.call('PEXPIRE', KEYS[1], ARGV[3])\n"
            + "redis.call('PEXPIRE', KEYS[2], ARGV[3])\n"
            + "if made == 1 then redis.call('SPUBLISH', ARGV[4], 't\\n0\\n' .. epoch .. '\\n') end\n"
            + "return redis.call('HMGET', KEYS[1], 'seq', 'token')\n");

    /** ARGV: shard channel. Deletes the channel; returns the next seq, or -1 when it did not exist. */
    static final Script CLOSE = new Script(
            "local m = redis.call('HMGET', KEYS[1], 'epoch', 'seq')\n"
            + "if not m[1] then return -1 end\n"
            + "redis.call('DEL', KEYS[1], KEYS[2])\n"
            + "local next = tonumber(m[2]) + 1\n"
            + "redis.call('SPUBLISH', ARGV[1], 'c\\n' .. next .. '\\n' .. m[1] .. '\\n')\n"
            + "return next\n");

    /** ARGV: shard channel. Drops the buffer; returns the next seq, or -1 when the channel does not exist. */
    static final Script CLEAR = new Script(
            "local m = redis.call('HMGET', KEYS[1], 'epoch', 'seq')\n"
            + "if not m[1] then return -1 end\n"
            + "redis.call('DEL', KEYS[2])\n"
            + "redis.call('SPUBLISH', ARGV[1], 'x\\n0\\n' .. m[1] .. '\\n')\n"
            + "return tonumber(m[2]) + 1\n");

    /** ARGV: default ttl ms. Keeps a channel this node still serves from expiring in Redis. */
    static final Script TOUCH = new Script(
            "local ttl = redis.call('HGET', KEYS[1], 'ttl') or ARGV[1]\n"
            + "if redis.call('PEXPIRE', KEYS[1], ttl) == 1 then redis.call('PEXPIRE', KEYS[2], ttl) end\n"
            + "return 1\n");

    /**
     * KEYS[1]: the channel's presence hash (node id -> 1). ARGV: node id, 1/0, presence channel, cname,
     * ttl ms. Publishes {@code 1|0 \n cname} cluster-wide when the first node goes online or the last
     * goes offline, so /psub reports a channel once for the cluster.
     */
    static final Script PRESENCE = new Script(
            "if ARGV[2] == '1' then\n"
            + "  redis.call('HSET', KEYS[1], ARGV[1], 1)\n"
            + "  redis.call('PEXPIRE', KEYS[1], ARGV[5])\n"
            + "  if redis.call('HLEN', KEYS[1]) == 1 then redis.call('PUBLISH', ARGV[3], '1\\n' .. ARGV[4]) end\n"
            + "elseif redis.call('HDEL', KEYS[1], ARGV[1]) == 1 and redis.call('HLEN', KEYS[1]) == 0 then\n"
            + "  redis.call('PUBLISH', ARGV[3], '0\\n' .. ARGV[4])\n"
            + "end\n"
            + "return 1\n");

    /** A script and its SHA-1, so the node sends the hash and falls back to the text on NOSCRIPT. */
    record Script(String text, String sha) {
        Script(String text) {
            this(text, sha1(text));
        }

        private static String sha1(String s) {
            try {
                return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-1").digest(s.getBytes(StandardCharsets.UTF_8)));
            } catch (NoSuchAlgorithmException e) {
                throw new IllegalStateException(e);
            }
        }
    }
}
