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
 * Redis incarnation that last proved the epoch), KEYS[2] the buffer: a list of entries
 * {@code "<seq> <kind letter><content>"}, oldest first, capped at channel_buffer_size (RPUSH then
 * LTRIM). It always holds consecutive seqs ending at the meta hash's seq (a publish appends the seq
 * it assigns, a clear or a new epoch empties it), so a seq's entry is found by its distance from the
 * end. A list costs Redis a fraction of what a stream does for a few small entries (a stream's
 * first node is a 4 KB listpack; see docs/DEPLOY.md for the figures). A missing meta hash means the
 * channel's data is gone (expired, flushed, failover without persistence): the next script that
 * needs it starts a new epoch (the candidate the node sends) and drops any stale buffer.
 *
 * <p><b>Continuity across failovers.</b> A replica promoted to master (Sentinel, Cluster) may lag
 * the old master: its seq can be behind seqs already delivered. So every script that assigns or
 * reads a seq checks that the server running it is the one that wrote the channel's meta hash
 * ({@code rid} = the server's {@code master_replid}, drawn anew by a master at every start and
 * by a replica when it is promoted). When it is not, continuity cannot be proven and the channel starts a new
 * epoch, exactly as when its data is gone: subscribers are told of a restart instead of silently
 * dropping "already seen" seqs. A failover that lost nothing costs one needless new epoch.
 *
 * <p>Messages on the channel's shard PUB/SUB channel: {@code kind \n seq \n epoch \n content},
 * kind d (data), b (broadcast), c (closed; seq = next seq), x (buffer cleared), t (token made).
 */
final class Scripts {
    private Scripts() {}

    /**
     * This server's incarnation: its master_replid, which a master draws anew whenever it starts
     * (empty, or from its RDB or AOF: it restores a stored replication id only as a replica) and
     * whenever a replica is promoted. Read with {@code INFO replication} and found by plain search:
     * the {@code server} section (run_id) cost ~3.5 us more per call (docs/BENCHMARKS.md).
     * {@code sameRid} also accepts the form earlier versions stored, {@code <run_id>.<master_replid>}:
     * its replid proves the same incarnation, so nodes of both versions on one Redis keep one epoch
     * (an old node sees a new node's rid as another incarnation, and starts at most one new epoch).
     */
    private static final String RID =
            "local info = redis.call('INFO', 'replication')\n"
            + "local rp = string.find(info, 'master_replid:', 1, true)\n"
            + "local rid = string.sub(info, rp + 14, rp + 53)\n"
            + "local function sameRid(stored)\n"
            + "  return stored == rid or (stored and string.sub(stored, -41) == '.' .. rid)\n"
            + "end\n";

    /**
     * Sets {@code epoch} (and {@code m}, the HMGET of epoch, rid and the fields named): the channel's
     * epoch, or a new one (ARGV[1]) when its meta hash is missing or another incarnation wrote it.
     */
    private static String ensureEpoch(String... fields) {
        StringBuilder f = new StringBuilder();
        for (String field : fields) {
            f.append(", '").append(field).append('\'');
        }
        return RID
                + "local m = redis.call('HMGET', KEYS[1], 'epoch', 'rid'" + f + ")\n"
                + "local epoch = m[1]\n"
                + "if not epoch or not sameRid(m[2]) then\n"
                + "  epoch = ARGV[1]\n"
                + "  redis.call('DEL', KEYS[2])\n"
                + "  redis.call('HSET', KEYS[1], 'epoch', epoch, 'seq', 0, 'rid', rid)\n"
                + "end\n";
    }

    /**
     * Appends one message (seq = the meta hash's incremented seq) to the buffer list KEYS[2] as
     * {@code "<seq> <kind letter><content>"}, keeps its last ARGV[4] entries, renews both keys'
     * expiry (the channel's ttl, m[3], or ARGV[5]) and SPUBLISHes it on ARGV[6]. Sets {@code seq}.
     */
    private static String append(String kind, String content) {
        return "local seq = redis.call('HINCRBY', KEYS[1], 'seq', 1)\n"
                + "if redis.call('RPUSH', KEYS[2], seq .. ' ' .. " + kind + " .. " + content + ") > tonumber(ARGV[4]) then\n"
                + "  redis.call('LTRIM', KEYS[2], -tonumber(ARGV[4]), -1)\n"
                + "end\n"
                + "local ttl = m[3] or ARGV[5]\n"
                + "redis.call('PEXPIRE', KEYS[1], ttl)\n"
                + "redis.call('PEXPIRE', KEYS[2], ttl)\n"
                + "redis.call('SPUBLISH', ARGV[6], " + kind + " .. '\\n' .. seq .. '\\n' .. epoch .. '\\n' .. " + content + ")\n";
    }

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
            + ensureEpoch("ttl")
            + append("ARGV[2]", "ARGV[3]")
            + "if ARGV[7] ~= '0' then redis.call('SET', KEYS[3], seq .. ' ' .. epoch, 'PX', ARGV[7]) end\n"
            + "return {seq, epoch, 0}\n");

    /**
     * Several messages, to one channel or several (on Redis Cluster all in one hash slot), in one
     * call: each channel's in order, each message exactly as {@link #PUBLISH} would publish it alone
     * (its own seq, buffer entry, SPUBLISH and idempotency key), one incarnation check for the call.
     * ARGV[1]: maxlen, ARGV[2]: default ttl ms, ARGV[3]: de-duplication window ms, ARGV[4]: the
     * number of channels; then per channel its epoch candidate, shard channel and message count,
     * followed by each message's kind letter, content and '1' when keyed else '0'. KEYS: per channel
     * its meta hash and buffer, then one de-duplication key per message (unused when not keyed).
     * Returns {seq, epoch, 1 when a retry else 0} per message, flat, in the order given.
     *
     * <p>A channel's new messages cost one HINCRBY, one RPUSH (and LTRIM) for all of them, then one
     * SPUBLISH each: the seqs they get, the buffer and what is sent are those of one PUBLISH per
     * message in order. A retry (its key found, or used by an earlier message of the same call)
     * takes no seq and answers the first publish's.
     */
    static final Script PUBLISH_MANY = new Script(
            RID
            + "local out = {}\n"
            + "local k, a = 1, 5\n"
            + "local maxlen = tonumber(ARGV[1])\n"
            + "for c = 1, tonumber(ARGV[4]) do\n"
            + "  local km, kb, shard, n = KEYS[k], KEYS[k + 1], ARGV[a + 1], tonumber(ARGV[a + 2])\n"
            + "  local m = redis.call('HMGET', km, 'epoch', 'rid', 'ttl')\n"
            + "  local epoch = m[1]\n"
            + "  if not epoch or not sameRid(m[2]) then\n"
            + "    epoch = ARGV[a]\n"
            + "    redis.call('DEL', kb)\n"
            + "    redis.call('HSET', km, 'epoch', epoch, 'seq', 0, 'rid', rid)\n"
            + "  end\n"
            + "  local ttl = m[3] or ARGV[2]\n"
            + "  k, a = k + 2, a + 3\n"
            // in order: each message is new (numbered 1..fresh), or a retry of one published before
            // (its stored 'seq epoch') or earlier in this call (minus its number)
            + "  local fresh, kinds, contents, dedup, seen, slot = 0, {}, {}, {}, {}, {}\n"
            + "  for j = 1, n do\n"
            + "    local kd = ARGV[a + 2] == '1' and KEYS[k]\n"
            + "    local prev = kd and (seen[kd] or redis.call('GET', kd))\n"
            + "    if prev then\n"
            + "      slot[j] = type(prev) == 'number' and -prev or prev\n"
            + "    else\n"
            + "      fresh = fresh + 1\n"
            + "      kinds[fresh], contents[fresh], dedup[fresh], slot[j] = ARGV[a], ARGV[a + 1], kd, fresh\n"
            + "      if kd then seen[kd] = fresh end\n"
            + "    end\n"
            + "    k, a = k + 1, a + 3\n"
            + "  end\n"
            // the new ones take the next seqs in order: one HINCRBY, one RPUSH (and LTRIM) for all
            + "  local base = 0\n"
            + "  if fresh > 0 then\n"
            + "    base = redis.call('HINCRBY', km, 'seq', fresh) - fresh\n"
            + "    local entries = {}\n"
            + "    for i = 1, fresh do entries[i] = (base + i) .. ' ' .. kinds[i] .. contents[i] end\n"
            + "    if redis.call('RPUSH', kb, unpack(entries)) > maxlen then\n"
            + "      redis.call('LTRIM', kb, -maxlen, -1)\n"
            + "    end\n"
            + "    for i = 1, fresh do\n"
            + "      redis.call('SPUBLISH', shard, kinds[i] .. '\\n' .. (base + i) .. '\\n' .. epoch .. '\\n' .. contents[i])\n"
            + "      if dedup[i] then redis.call('SET', dedup[i], (base + i) .. ' ' .. epoch, 'PX', ARGV[3]) end\n"
            + "    end\n"
            + "  end\n"
            + "  for j = 1, n do\n"
            + "    local s = slot[j]\n"
            + "    local o = #out\n"
            + "    if type(s) == 'string' then\n"
            + "      local sp = string.find(s, ' ', 1, true)\n"
            + "      out[o + 1], out[o + 2], out[o + 3] = tonumber(string.sub(s, 1, sp - 1)), string.sub(s, sp + 1), 1\n"
            + "    elseif s < 0 then\n"
            + "      out[o + 1], out[o + 2], out[o + 3] = base - s, epoch, 1\n"
            + "    else\n"
            + "      out[o + 1], out[o + 2], out[o + 3] = base + s, epoch, 0\n"
            + "    end\n"
            + "  end\n"
            + "  redis.call('PEXPIRE', km, ttl)\n"
            + "  redis.call('PEXPIRE', kb, ttl)\n"
            + "end\n"
            + "return out\n");

    /** {@link #PUBLISH} to a channel that exists; false (nothing made, nothing sent) when it does not. */
    static final Script PUBLISH_IF_EXISTS = new Script(
            "if redis.call('EXISTS', KEYS[1]) == 0 then return false end\n" + PUBLISH.text());

    /**
     * ARGV: epoch candidate, create (1/0), default ttl ms. Returns false when the channel does not exist
     * and create is 0, else {epoch, seq, token, ttl, buffer entries}.
     */
    static final Script ATTACH = new Script(
            "if ARGV[2] == '0' and redis.call('EXISTS', KEYS[1]) == 0 then return false end\n"
            + ensureEpoch()
            + "local s = redis.call('HMGET', KEYS[1], 'seq', 'token', 'ttl')\n"
            + "redis.call('PEXPIRE', KEYS[1], s[3] or ARGV[3])\n"
            + "if redis.call('EXISTS', KEYS[2]) == 1 then redis.call('PEXPIRE', KEYS[2], s[3] or ARGV[3]) end\n"
            + "return {epoch, s[1], s[2] or '', s[3] or '', redis.call('LRANGE', KEYS[2], 0, -1)}\n");

    /**
     * ARGV: first seq wanted. Returns {epoch, buffer entries from that seq on} (a missed
     * publication's fill), or false when the channel is gone; the caller uses the entries only if
     * the epoch is the one it fills. The buffer holds consecutive seqs ending at the meta hash's
     * seq, so the entries wanted are its last (seq - first + 1).
     */
    static final Script RANGE = new Script(
            "local m = redis.call('HMGET', KEYS[1], 'epoch', 'seq')\n"
            + "if not m[1] then return false end\n"
            + "local count = tonumber(m[2]) - tonumber(ARGV[1]) + 1\n"
            + "if count <= 0 then return {m[1], {}} end\n"
            + "return {m[1], redis.call('LRANGE', KEYS[2], -count, -1)}\n");

    /**
     * ARGV: epoch candidate, token candidate, ttl ms, shard channel. Returns {seq, token, the
     * oldest buffered entry or '', epoch} (the epoch is the candidate when this sign made the channel).
     */
    static final Script SIGN = new Script(ensureEpoch()
            + "local made = redis.call('HSETNX', KEYS[1], 'token', ARGV[2])\n"
            + "redis.call('HSET', KEYS[1], 'ttl', ARGV[3])\n"
            + "redis.call('PEXPIRE', KEYS[1], ARGV[3])\n"
            + "redis.call('PEXPIRE', KEYS[2], ARGV[3])\n"
            + "if made == 1 then redis.call('SPUBLISH', ARGV[4], 't\\n0\\n' .. epoch .. '\\n') end\n"
            + "local s = redis.call('HMGET', KEYS[1], 'seq', 'token')\n"
            + "return {s[1], s[2], redis.call('LINDEX', KEYS[2], 0) or '', epoch}\n");

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
     * and buffer. ARGV: node id, 1/0, ttl ms. Returns 1 when the first node went online or the last
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
