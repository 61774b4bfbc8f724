package io.jcomet.config;

import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.function.Function;

/**
 * jcomet's settings, typed and validated. Names follow icomet.conf where icomet has the option
 * ({@code auth}, {@code max_channels}, {@code max_subscribers_per_channel}, {@code channel_buffer_size},
 * {@code channel_timeout}, {@code polling_timeout}); the rest are jcomet's limits.
 *
 * <p>Built once at start from the merged raw key/value map ({@link ConfigSources} decides where values
 * come from); invalid values fail the start with a {@link ConfigException} naming key and value.
 * Immutable, so any thread may read it.
 */
public final class JcometConfig {

    /** Every key with its default and a one-line meaning; also the documentation's source. */
    public static final Map<String, String[]> KEYS;

    static {
        Map<String, String[]> k = new LinkedHashMap<>();
        k.put("auth", new String[] {"none", "none: anyone may subscribe; token: a subscriber must present the token /sign returned"});
        k.put("max_channels", new String[] {"1000000", "channels that may exist at once (the preallocated slot table); past it 429"});
        k.put("max_subscribers_per_channel", new String[] {"16", "held subscribers per channel (icomet's default); past it 429"});
        k.put("channel_buffer_size", new String[] {"10", "messages kept per channel for subscribers that come back with an older seq"});
        k.put("channel_timeout", new String[] {"30", "seconds a channel with no subscriber and no publish lives on"});
        k.put("polling_timeout", new String[] {"30", "seconds a held subscriber waits before it is sent a noop"});
        k.put("admin_host", new String[] {"127.0.0.1", "address of the admin connector (used by the embedded launcher)"});
        k.put("admin_port", new String[] {"8000", "requests that arrive on this local port are admin requests; all other ports are front"});
        k.put("admin_allow", new String[] {"127.0.0.1", "comma-separated addresses (a full address matches only itself) or CIDR ranges (192.168.0.0/16) allowed to call the admin API, or all"});
        k.put("admin_deny", new String[] {"all", "comma-separated addresses or CIDR ranges refused, or all (everyone not allowed); both lists empty admits everyone, as icomet"});
        k.put("front_host", new String[] {"0.0.0.0", "address of the front connectors (embedded launcher)"});
        k.put("front_port", new String[] {"8100", "first front port (embedded launcher)"});
        k.put("front_count", new String[] {"100", "number of consecutive front ports (embedded launcher)"});
        k.put("max_message_size", new String[] {"65536", "largest accepted content, in bytes of UTF-8; past it 413"});
        k.put("max_batch_lines", new String[] {"1000", "messages one admin /batch request may carry; past it 413 and nothing is published"});
        k.put("max_batch_bytes", new String[] {"1048576", "bytes of body one admin /batch request may carry; past it 413 and nothing is published"});
        k.put("max_cname_length", new String[] {"64", "longest accepted channel name, in bytes of UTF-8"});
        k.put("max_pending_bytes", new String[] {"262144", "output a stream/SSE/iframe subscriber may have unsent before it is dropped"});
        k.put("cors_allow_origin", new String[] {"*", "Access-Control-Allow-Origin on front responses (empty: no header)"});
        k.put("front_stats", new String[] {"false", "serve read-only counters at /stats on the front ports (recomputed at most once a second)"});
        k.put("admin_reserved_channels", new String[] {"10%", "channel slots only the admin API may fill (a count, or a share of max_channels like 10%): subscribers cannot lock publishers out"});
        k.put("max_held_per_client", new String[] {"1000", "subscriptions one client address may hold at once, every transport (a WebSocket sub counts as one); past it 429 + Retry-After, on WebSocket an error frame (0: no limit)"});
        k.put("max_new_channels_per_client", new String[] {"100", "channels one client address may cause to be created per second by subscribing; past it 429 + Retry-After (0: no limit)"});
        k.put("ws_max_sockets_per_client", new String[] {"200", "WebSockets (/ws) one client address may have open at once; past it the new socket is closed with 1008 (0: no limit)"});
        k.put("memory_budget_percent", new String[] {"85", "percent of the maximum heap in use (after a collection) above which new subscriptions and WebSockets are refused: HTTP 503 + Retry-After, WebSocket 1013 (0: no budget)"});
        k.put("client_limits_exempt", new String[] {"127.0.0.1", "comma-separated addresses or CIDR ranges the per-client limits do not apply to (a local proxy that does not send X-Forwarded-For, benchmarks)"});
        k.put("trusted_proxies", new String[] {"", "comma-separated addresses or CIDR ranges of reverse proxies whose X-Forwarded-For names the client for the per-client limits (empty: the header is ignored)"});
        // connection level (the Jetty launcher, jetty-base and jetty:run; docs/DEPLOY.md "Front door")
        k.put("request_head_timeout_ms", new String[] {"10000", "a request head (request line and headers) must arrive whole within this many ms of the connection opening (first request; on https, a TLS handshake must end within it and the first head then gets as long again) or of its first byte (later requests), however slowly it trickles; else the connection is closed, counted as head_timeout (0: off)"});
        k.put("max_connections_per_client", new String[] {"1000", "open TCP connections one client address may have on the front ports and, separately, on the admin port; past it a new connection is closed at once, counted as connections_per_client (client_limits_exempt are not capped; 0: no limit)"});
        k.put("admin_fd_reserve", new String[] {"512", "open files the front connectors leave free for the admin port, logs and Redis: past the open-file limit minus the files open at start minus this, a new front connection is closed at once, counted as front_fd_limit (0: no reserve)"});
        k.put("admin_inline", new String[] {"true", "Jetty: the admin API's short requests without a body (/push, /pub, /sign, /close, /clear, /check) are handled on the admin connector's selector thread, as icomet's event loop does, instead of being handed to a pool thread: about half the server CPU per /push (docs/BENCHMARKS.md, Publish); other requests still go to the pool, and an answer is never written with a blocking write, so a back end that stops reading holds up only its own connection. With engine=redis the same requests are answered when Redis answers, without a thread waiting. false: every admin request to the pool"});
        k.put("detect_disconnects", new String[] {"true", "watch held connections for the client closing and free them (Jetty HTTP/1; see detect_disconnects_after_ms; false: only writes and polling_timeout notice)"});
        k.put("detect_disconnects_after_ms", new String[] {"2000", "watch a held request for its client closing once it has been held this long (ms; 0: from the start): a busy channel's subscribers, answered sooner, never pay for the watch, and a vanished client is noticed within this plus 0.1 s"});
        k.put("demo", new String[] {"false", "serve the chat demo at /demo/chat/* (development only; never on a public server)"});
        k.put("ws_max_channels", new String[] {"16", "channels one WebSocket (/ws) may subscribe to at once; past it an error frame"});
        k.put("ws_max_frame_bytes", new String[] {"4096", "largest text frame a WebSocket client may send; past it the socket is closed (1009)"});
        k.put("ws_max_frames_per_second", new String[] {"20", "frames a WebSocket client may send per second (burst of as many); past it an error frame"});
        k.put("ws_allowed_origins", new String[] {"*", "comma-separated Origins allowed to open /ws (* = any: safe, since jcomet reads no cookie or other ambient credential; no Origin header = not a browser, allowed); others 403"});
        k.put("ws_ping_interval", new String[] {"30", "seconds between WebSocket pings; a socket that has not answered one ping (a pong echoing its payload) by the next is closed (0 = no pings)"});
        k.put("idempotency_window", new String[] {"60", "seconds a publish's idempotency_key is remembered per channel: a /push or /pub with the same key on the same channel within it answers the first publish's seq and publishes nothing"});
        k.put("max_idempotency_keys", new String[] {"100000", "engine=memory: idempotency keys remembered at once on this node; past it a keyed publish answers 429"});
        // multi-node: see docs/DEPLOY.md, "Several nodes over Redis"
        k.put("engine", new String[] {"memory", "memory: this node alone; redis: channels shared by every node on the same Redis"});
        k.put("redis_uri", new String[] {"redis://127.0.0.1:6379", "engine=redis: comma-separated Lettuce URIs (redis://[user:password@]host:port[/db], rediss:// for TLS, redis-sentinel://...); with redis_cluster=true the cluster's seed nodes"});
        k.put("redis_cluster", new String[] {"false", "engine=redis: true when redis_uri names Redis Cluster nodes (sharded PUB/SUB per channel)"});
        k.put("redis_timeout", new String[] {"2000", "engine=redis: milliseconds a Redis command may take; past it (or while Redis is down) a publish answers 503"});
        k.put("redis_key_prefix", new String[] {"jcomet:", "engine=redis: prefix of every key and PUB/SUB channel (several jcomet services on one Redis use different prefixes)"});
        k.put("redis_delivery_threads", new String[] {"2", "engine=redis: threads that deliver messages from Redis to this node's subscribers (one channel always on the same thread, in seq order)"});
        k.put("redis_delivery_queue", new String[] {"10000", "engine=redis: live messages from Redis waiting for one delivery thread; past it a message is dropped (counted as redis_delivery_overflow) and its channel re-read from the Redis stream, so subscribers still get it in order"});
        KEYS = Collections.unmodifiableMap(k);
    }

    public enum Auth { NONE, TOKEN }

    private final Auth auth;
    private final int maxChannels;
    private final int maxSubscribersPerChannel;
    private final int channelBufferSize;
    private final int channelTimeoutSeconds;
    private final int pollingTimeoutSeconds;
    private final String adminHost;
    private final int adminPort;
    private final AddressMatcher adminAllow;
    private final AddressMatcher adminDeny;
    private final String frontHost;
    private final int frontPort;
    private final int frontCount;
    private final int maxMessageSize;
    private final int maxBatchLines;
    private final int maxBatchBytes;
    private final int maxCnameLength;
    private final int maxPendingBytes;
    private final String corsAllowOrigin;
    private final boolean frontStats;
    private final int adminReservedChannels;
    private final int maxHeldPerClient;
    private final int maxNewChannelsPerClient;
    private final int wsMaxSocketsPerClient;
    private final int memoryBudgetPercent;
    private final AddressMatcher clientLimitsExempt;
    private final AddressMatcher trustedProxies;
    private final int requestHeadTimeoutMillis;
    private final int maxConnectionsPerClient;
    private final int adminFdReserve;
    private final boolean demo;
    private final boolean adminInline;
    private final boolean detectDisconnects;
    private final int detectDisconnectsAfterMillis;
    private final int wsMaxChannels;
    private final int wsMaxFrameBytes;
    private final int wsMaxFramesPerSecond;
    private final List<String> wsAllowedOrigins;
    private final int wsPingIntervalSeconds;
    private final String engine;
    private final List<String> redisUris;
    private final boolean redisCluster;
    private final int redisTimeoutMillis;
    private final int idempotencyWindowSeconds;
    private final int maxIdempotencyKeys;
    private final String redisKeyPrefix;
    private final int redisDeliveryThreads;
    private final int redisDeliveryQueue;
    private final Map<String, String> values;

    private JcometConfig(Map<String, String> v) {
        this.values = Collections.unmodifiableMap(v);
        String a = v.get("auth").toLowerCase(Locale.ROOT);
        if (!a.equals("none") && !a.equals("token")) {
            throw new ConfigException("auth", v.get("auth"), "must be none or token");
        }
        auth = a.equals("none") ? Auth.NONE : Auth.TOKEN;
        maxChannels = integer(v, "max_channels", 1, 50_000_000);
        maxSubscribersPerChannel = integer(v, "max_subscribers_per_channel", 1, 10_000_000);
        channelBufferSize = integer(v, "channel_buffer_size", 1, 100_000);
        channelTimeoutSeconds = integer(v, "channel_timeout", 1, 86_400 * 365);
        pollingTimeoutSeconds = integer(v, "polling_timeout", 1, 86_400);
        adminHost = v.get("admin_host");
        adminPort = integer(v, "admin_port", 0, 65535);
        adminAllow = addresses(v, "admin_allow");
        adminDeny = addresses(v, "admin_deny");
        frontHost = v.get("front_host");
        frontPort = integer(v, "front_port", 0, 65535);
        frontCount = integer(v, "front_count", 1, 1000);
        if (frontPort != 0 && frontPort + frontCount - 1 > 65535) {
            throw new ConfigException("front_count", v.get("front_count"), "front ports would end past 65535");
        }
        if (adminPort != 0 && frontPort != 0 && adminPort >= frontPort && adminPort < frontPort + frontCount) {
            // the admin API on a public port: whatever set it, refuse to start
            throw new ConfigException("admin_port", v.get("admin_port"), "must not be one of the front ports "
                    + frontPort + ".." + (frontPort + frontCount - 1));
        }
        maxMessageSize = integer(v, "max_message_size", 1, 64 << 20);
        maxBatchLines = integer(v, "max_batch_lines", 1, 1_000_000);
        maxBatchBytes = integer(v, "max_batch_bytes", 1, 256 << 20);
        maxCnameLength = integer(v, "max_cname_length", 1, 1024);
        maxPendingBytes = integer(v, "max_pending_bytes", 1024, 1 << 30);
        corsAllowOrigin = v.get("cors_allow_origin");
        if (corsAllowOrigin.chars().anyMatch(c -> c < 0x20 || c >= 0x7f)) {
            throw new ConfigException("cors_allow_origin", corsAllowOrigin, "must be printable ASCII");
        }
        frontStats = bool(v, "front_stats");
        String reserved = v.get("admin_reserved_channels");
        if (reserved.endsWith("%")) {
            Map<String, String> pct = Map.of("admin_reserved_channels", reserved.substring(0, reserved.length() - 1).trim());
            adminReservedChannels = (int) ((long) maxChannels * integer(pct, "admin_reserved_channels", 0, 100) / 100);
        } else {
            adminReservedChannels = integer(v, "admin_reserved_channels", 0, maxChannels);
        }
        maxHeldPerClient = integer(v, "max_held_per_client", 0, Integer.MAX_VALUE);
        maxNewChannelsPerClient = integer(v, "max_new_channels_per_client", 0, Integer.MAX_VALUE);
        wsMaxSocketsPerClient = integer(v, "ws_max_sockets_per_client", 0, Integer.MAX_VALUE);
        memoryBudgetPercent = integer(v, "memory_budget_percent", 0, 99);
        clientLimitsExempt = addresses(v, "client_limits_exempt");
        trustedProxies = addresses(v, "trusted_proxies");
        requestHeadTimeoutMillis = integer(v, "request_head_timeout_ms", 0, 3_600_000);
        maxConnectionsPerClient = integer(v, "max_connections_per_client", 0, 100_000_000);
        adminFdReserve = integer(v, "admin_fd_reserve", 0, 100_000_000);
        adminInline = bool(v, "admin_inline");
        demo = bool(v, "demo");
        detectDisconnects = bool(v, "detect_disconnects");
        detectDisconnectsAfterMillis = integer(v, "detect_disconnects_after_ms", 0, 3_600_000);
        wsMaxChannels = integer(v, "ws_max_channels", 1, 10_000);
        wsMaxFrameBytes = integer(v, "ws_max_frame_bytes", 256, 1 << 20);
        wsMaxFramesPerSecond = integer(v, "ws_max_frames_per_second", 1, 100_000);
        wsAllowedOrigins = origins(v, "ws_allowed_origins");
        wsPingIntervalSeconds = integer(v, "ws_ping_interval", 0, 86_400);
        engine = v.get("engine").toLowerCase(Locale.ROOT);
        if (!engine.equals("memory") && !engine.equals("redis")) {
            throw new ConfigException("engine", v.get("engine"), "must be memory or redis");
        }
        List<String> uris = new ArrayList<>();
        // a comma starts a new URI only before a scheme: a Sentinel URI lists its hosts with commas
        for (String u : v.get("redis_uri").trim().split("\\s*[,\\s]\\s*(?=[a-z][a-z+-]*://)")) {
            if (u.isEmpty()) {
                continue;
            }
            if (!u.matches("(redis|rediss|redis-sentinel|redis-socket)(\\+[a-z]+)?://.+")) {
                throw new ConfigException("redis_uri", v.get("redis_uri"), "entries must be Redis URIs such as redis://127.0.0.1:6379");
            }
            uris.add(u);
        }
        if (uris.isEmpty()) {
            throw new ConfigException("redis_uri", v.get("redis_uri"), "needs at least one Redis URI");
        }
        redisUris = List.copyOf(uris);
        redisCluster = bool(v, "redis_cluster");
        redisTimeoutMillis = integer(v, "redis_timeout", 50, 60_000);
        idempotencyWindowSeconds = integer(v, "idempotency_window", 1, 86_400);
        maxIdempotencyKeys = integer(v, "max_idempotency_keys", 1, 10_000_000);
        redisKeyPrefix = v.get("redis_key_prefix");
        if (redisKeyPrefix.chars().anyMatch(c -> c <= 0x20 || c >= 0x7f || c == '{' || c == '}')) {
            throw new ConfigException("redis_key_prefix", redisKeyPrefix, "must be printable ASCII without spaces or braces");
        }
        redisDeliveryThreads = integer(v, "redis_delivery_threads", 1, 64);
        redisDeliveryQueue = integer(v, "redis_delivery_queue", 1, 10_000_000);
    }

    /** Defaults only. */
    public static JcometConfig defaults() {
        return from(Map.of());
    }

    /**
     * Validates the raw settings over the defaults. Unknown keys are refused: a typo in a config file
     * must not silently leave a default in force.
     */
    public static JcometConfig from(Map<String, String> raw) {
        return from(raw, key -> null);
    }

    /**
     * Validates settings loaded from their sources: every error names the key, the value and where
     * the value was set, e.g. {@code invalid configuration: polling_timeout=abc: not an integer (from
     * environment variable JCOMET_POLLING_TIMEOUT)}, or {@code unknown configuration key(s):
     * chromedriver=/usr/bin/chromedriver (from environment variable JCOMET_CHROMEDRIVER)}.
     */
    public static JcometConfig from(ConfigSources.Loaded loaded) {
        try {
            return from(loaded.values(), loaded::origin);
        } catch (ConfigException e) {
            if (e.key() != null && loaded.origin(e.key()) != null) {
                throw loaded.invalid(e.key(), e.problem());
            }
            throw e;
        }
    }

    private static JcometConfig from(Map<String, String> raw, Function<String, String> originOf) {
        Map<String, String> v = new LinkedHashMap<>();
        KEYS.forEach((key, meta) -> v.put(key, meta[0]));
        List<String> unknown = new ArrayList<>();
        raw.forEach((key, value) -> {
            String k = key.trim().toLowerCase(Locale.ROOT);
            if (k.startsWith("jcomet.")) {
                k = k.substring("jcomet.".length());
            }
            if (!KEYS.containsKey(k)) {
                String origin = originOf.apply(key);
                unknown.add(key + "=" + value + (origin == null ? "" : " (from " + origin + ")"));
            } else {
                v.put(k, value == null ? "" : value.trim());
            }
        });
        if (!unknown.isEmpty()) {
            throw new ConfigException("unknown configuration key(s): " + String.join(", ", unknown)
                    + "; known keys: " + KEYS.keySet());
        }
        return new JcometConfig(v);
    }

    private static int integer(Map<String, String> v, String key, int min, int max) {
        String s = v.get(key);
        long n;
        try {
            n = Long.parseLong(s.replace("_", ""));
        } catch (NumberFormatException e) {
            throw new ConfigException(key, s, "not an integer");
        }
        if (n < min || n > max) {
            throw new ConfigException(key, s, "must be between " + min + " and " + max);
        }
        return (int) n;
    }

    private static boolean bool(Map<String, String> v, String key) {
        String s = v.get(key).toLowerCase(Locale.ROOT);
        switch (s) {
            case "true": case "yes": case "on": case "1": return true;
            case "false": case "no": case "off": case "0": return false;
            default: throw new ConfigException(key, v.get(key), "must be true or false");
        }
    }

    private static List<String> origins(Map<String, String> v, String key) {
        List<String> out = new ArrayList<>();
        for (String o : v.get(key).split("[,\\s]+")) {
            if (o.isEmpty()) {
                continue;
            }
            if (!o.equals("*") && !o.matches("[a-zA-Z][a-zA-Z0-9+.-]*://[^/\\s]+")) {
                throw new ConfigException(key, v.get(key), "entries must be origins such as https://example.com or https://example.com:8443 (no path), or *");
            }
            out.add(o.equals("*") ? o : o.toLowerCase(Locale.ROOT));
        }
        return List.copyOf(out);
    }

    private static AddressMatcher addresses(Map<String, String> v, String key) {
        try {
            return AddressMatcher.parse(v.get(key));
        } catch (IllegalArgumentException e) {
            throw new ConfigException(key, v.get(key), "entries must be addresses (127.0.0.1, ::1), CIDR ranges (10.0.0.0/8) or all: " + e.getMessage());
        }
    }

    public Auth auth() { return auth; }
    public int maxChannels() { return maxChannels; }
    public int maxSubscribersPerChannel() { return maxSubscribersPerChannel; }
    public int channelBufferSize() { return channelBufferSize; }
    public int channelTimeoutSeconds() { return channelTimeoutSeconds; }
    public int pollingTimeoutSeconds() { return pollingTimeoutSeconds; }
    public String adminHost() { return adminHost; }
    public int adminPort() { return adminPort; }
    public AddressMatcher adminAllow() { return adminAllow; }
    public AddressMatcher adminDeny() { return adminDeny; }
    public String frontHost() { return frontHost; }
    public int frontPort() { return frontPort; }
    public int frontCount() { return frontCount; }
    public int maxMessageSize() { return maxMessageSize; }
    public int maxBatchLines() { return maxBatchLines; }
    public int maxBatchBytes() { return maxBatchBytes; }
    public int maxCnameLength() { return maxCnameLength; }
    public int maxPendingBytes() { return maxPendingBytes; }
    public String corsAllowOrigin() { return corsAllowOrigin; }
    public boolean frontStats() { return frontStats; }
    public int adminReservedChannels() { return adminReservedChannels; }
    public int maxHeldPerClient() { return maxHeldPerClient; }
    public int maxNewChannelsPerClient() { return maxNewChannelsPerClient; }
    public int wsMaxSocketsPerClient() { return wsMaxSocketsPerClient; }
    public int memoryBudgetPercent() { return memoryBudgetPercent; }
    /** Client addresses the per-address limits skip: {@code clientLimitsExempt().matches(ip)}. */
    public AddressMatcher clientLimitsExempt() { return clientLimitsExempt; }
    public AddressMatcher trustedProxies() { return trustedProxies; }
    public int requestHeadTimeoutMillis() { return requestHeadTimeoutMillis; }
    public int maxConnectionsPerClient() { return maxConnectionsPerClient; }
    public int adminFdReserve() { return adminFdReserve; }
    public boolean demo() { return demo; }
    public boolean adminInline() { return adminInline; }
    public boolean detectDisconnects() { return detectDisconnects; }
    public int detectDisconnectsAfterMillis() { return detectDisconnectsAfterMillis; }
    public int wsMaxChannels() { return wsMaxChannels; }
    public int wsMaxFrameBytes() { return wsMaxFrameBytes; }
    public int wsMaxFramesPerSecond() { return wsMaxFramesPerSecond; }
    /** Allowed Origin header values, lower case; {@code *} allows any. */
    public List<String> wsAllowedOrigins() { return wsAllowedOrigins; }
    public int wsPingIntervalSeconds() { return wsPingIntervalSeconds; }
    public String engine() { return engine; }
    public List<String> redisUris() { return redisUris; }
    public boolean redisCluster() { return redisCluster; }
    public int redisTimeoutMillis() { return redisTimeoutMillis; }
    public int idempotencyWindowSeconds() { return idempotencyWindowSeconds; }
    public int maxIdempotencyKeys() { return maxIdempotencyKeys; }
    public String redisKeyPrefix() { return redisKeyPrefix; }
    public int redisDeliveryThreads() { return redisDeliveryThreads; }
    public int redisDeliveryQueue() { return redisDeliveryQueue; }
    /** The effective value of every key, for the start-up log. */
    public Map<String, String> values() { return values; }
}
