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
 * <p>Keys: KEYS[1] the meta hash (seq = last assigned seq, epoch, token, ttl in ms, rid = the
 * Redis incarnation that last proved the epoch), KEYS[2] the stream (entry id {@code <seq>-0},
 * fields k = kind letter, c = content), capped at channel_buffer_size. A missing meta hash means the
 * channel's data is gone (expired, flushed, failover without persistence): the next script that
 * needs it starts a new epoch (the candidate the node sends) and drops any stale stream.
 *
 * <p><b>Continuity across failovers.</b> A replica promoted to master (Sentinel, Cluster) may lag
 * the old master: its seq can be behind seqs already delivered. So every script that assigns or
 * reads a seq checks that the server running it is the one that wrote the channel's meta hash
 * ({@code rid} = the server's {@code run_id} and {@code master_replid}: a restart changes the first,
 * a promotion the second). When it is not, continuity cannot be proven and the channel starts a new
 * epoch, exactly as when its data is gone: subscribers are told of a restart instead of silently
 * dropping "already seen" seqs. A failover that lost nothing costs one needless new epoch.
 *
 * <p>Messages on the channel's shard PUB/SUB channel: {@code kind \n seq \n epoch \n content},
 * kind d (data), b (broadcast), c (closed; seq = next seq), x (buffer cleared), t (token made).
 */
final class Scripts {
    private Scripts() {}

    /** This server's incarnation: run_id (changes on restart) and master_replid (changes on promotion). */
    private static final String RID =
            "local rid = string.match(redis.call('INFO', 'server'), 'run_id:(%w+)') .. '.'\n"
            + "  .. string.match(redis.call('INFO', 'replication'), 'master_replid:(%w+)')\n";

    private static final String ENSURE_EPOCH = RID
            + "local em = redis.call('HMGET', KEYS[1], 'epoch', 'rid')\n"
            + "local epoch = em[1]\n"
            + "if not epoch or em[2] ~= rid then\n"
            + "  epoch = ARGV[1]\n"
            + "  redis.call('DEL', KEYS[2])\n"
            + "  redis.call('HSET', KEYS[1], 'epoch', epoch, 'seq', 0, 'rid', rid)\n"
            + "end\n";

    /**
     * KEYS[3]: the publish's de-duplication key (same hash tag). ARGV: epoch candidate, kind letter,
     * content, maxlen, default ttl ms, shard channel, de-duplication window ms ('0': none). Returns
     * {seq, epoch, 0}; or, when KEYS[3] names a publish made within the window, that publish's
     * {seq, epoch, 1} and nothing is published again (an idempotent retry, a broadcast heard by
     * several nodes).
     */
    static final Script PUBLISH = new Script(
            "if ARGV[7] ~= '0' then\n"
            + "  local prev = redis.call('GET', KEYS[3])\n"
            + "  if prev then\n"
            + "    local sp = string.find(prev, ' ', 1, true)\n"
            + "    return {tonumber(string.sub(prev, 1, sp - 1)), string.sub(prev, sp + 1), 1}\n"
            + "  end\n"
            + "end\n"
            + ENSURE_EPOCH
            + "local seq = redis.call('HINCRBY', KEYS[1], 'seq', 1)\n"
            + "redis.call('XADD', KEYS[2], 'MAXLEN', ARGV[4], seq .. '-0', 'k', ARGV[2], 'c', ARGV[3])\n"
            + "local ttl = redis.call('HGET', KEYS[1], 'ttl') or ARGV[5]\n"
            + "redis.call('PEXPIRE', KEYS[1], ttl)\n"
            + "redis.call('PEXPIRE', KEYS[2], ttl)\n"
            + "if ARGV[7] ~= '0' then redis.call('SET', KEYS[3], seq .. ' ' .. epoch, 'PX', ARGV[7]) end\n"
            + "redis.call('SPUBLISH', ARGV[6], ARGV[2] .. '\\n' .. seq .. '\\n' .. epoch .. '\\n' .. ARGV[3])\n"
            + "return {seq, epoch, 0}\n");

    /** {@link #PUBLISH} to a channel that exists; false (nothing made, nothing sent) when it does not. */
    static final Script PUBLISH_IF_EXISTS = new Script(
            "if redis.call('EXISTS', KEYS[1]) == 0 then return false end\n" + PUBLISH.text());

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

    /**
     * ARGV: first seq wanted. Returns {epoch, stream entries from that seq on} (a missed publication's
     * fill), or false when the channel is gone; the caller uses the entries only if the epoch is
     * the one it fills.
     */
    static final Script RANGE = new Script(
            "local epoch = redis.call('HGET', KEYS[1], 'epoch')\n"
            + "if not epoch then return false end\n"
            + "return {epoch, redis.call('XRANGE', KEYS[2], ARGV[1] .. '-0', '+')}\n");

    /**
     * ARGV: epoch candidate, token candidate, ttl ms, shard channel. Returns {seq, token, id of the
     * oldest buffered entry or '', epoch} (the epoch is the candidate when this sign made the channel).
     */
    static final Script SIGN = new Script(ENSURE_EPOCH
            + "local made = redis.call('HSETNX', KEYS[1], 'token', ARGV[2])\n"
            + "redis.call('HSET', KEYS[1], 'ttl', ARGV[3])\n"
            + "redis.call('PEXPIRE', KEYS[1], ARGV[3])\n"
            + "redis.call('PEXPIRE', KEYS[2], ARGV[3])\n"
            + "if made == 1 then redis.call('SPUBLISH', ARGV[4], 't\\n0\\n' .. epoch .. '\\n') end\n"
            + "local m = redis.call('HMGET', KEYS[1], 'seq', 'token')\n"
            + "local first = redis.call('XRANGE', KEYS[2], '-', '+', 'COUNT', 1)\n"
            + "return {m[1], m[2], first[1] and first[1][1] or '', epoch}\n");

    /**
     * KEYS[3]: the channel's presence hash. ARGV: shard channel. Deletes the channel; returns {the
     * next seq, 1 when a node holds the channel (it reports it offline once it closed it) else 0},
     * or {-1, 0} when it did not exist.
     */
    static final Script CLOSE = new Script(
            "local m = redis.call('HMGET', KEYS[1], 'epoch', 'seq')\n"
            + "if not m[1] then return {-1, 0} end\n"
            + "redis.call('DEL', KEYS[1], KEYS[2])\n"
            + "local next = tonumber(m[2]) + 1\n"
            + "redis.call('SPUBLISH', ARGV[1], 'c\\n' .. next .. '\\n' .. m[1] .. '\\n')\n"
            + "return {next, redis.call('EXISTS', KEYS[3])}\n");

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
     * KEYS[1]: the channel's presence hash (node id -> 1), KEYS[2] and KEYS[3] the channel's meta hash
     * and stream. ARGV: node id, 1/0, ttl ms. Returns 1 when the first node went online or the last
     * went offline (the caller then tells every node, so /psub reports a channel once for the
     * cluster), 2 when the last went offline and the channel was deleted, else 0. A channel is
     * deleted when the last node goes offline from it and a subscriber made it and nothing was
     * published to it nor signed (seq 0, no token): as on one node, such a channel goes with its
     * last subscriber instead of living channel_timeout.
     */
    static final Script PRESENCE = new Script(
            "if ARGV[2] == '1' then\n"
            + "  redis.call('HSET', KEYS[1], ARGV[1], 1)\n"
            + "  redis.call('PEXPIRE', KEYS[1], ARGV[3])\n"
            + "  if redis.call('HLEN', KEYS[1]) == 1 then return 1 end\n"
            + "elseif redis.call('HDEL', KEYS[1], ARGV[1]) == 1 and redis.call('HLEN', KEYS[1]) == 0 then\n"
            + "  local m = redis.call('HMGET', KEYS[2], 'seq', 'token')\n"
            + "  if m[1] == '0' and not m[2] then\n"
            + "    redis.call('DEL', KEYS[2], KEYS[3])\n"
            + "    return 2\n"
            + "  end\n"
            + "  return 1\n"
            + "end\n"
            + "return 0\n");

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
