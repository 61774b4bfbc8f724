package io.jcomet.launcher;

import java.util.List;

/**
 * The Jetty tuning jcomet ships, each value once with its reason. The embedded launcher reads the
 * constants; {@code io.jcomet.deploy.JettyFiles} (src/test) writes the same settings, reasons as
 * comments, into jetty-base's {@code start.d/*.ini} and the Jetty XML of {@code mvn jetty:run}, and
 * {@code JettyFilesTest} fails when a committed file differs from what it generates. Change a value
 * here, regenerate, and the three places move together (docs/TUNING.md explains the figures).
 *
 * <p>The connection-level front door ({@code io.jcomet.jetty.FrontDoor}: request-head deadline,
 * connections per client address, open files kept for the admin port) is added to the server in the
 * same three places, the launcher here, and the XML that {@code FrontConnectorsXml} generates for
 * jetty-base and {@code mvn jetty:run}; its limits are jcomet settings
 * ({@code request_head_timeout_ms}, {@code max_connections_per_client}, {@code admin_fd_reserve}),
 * read from the same sources as the web app reads them.
 *
 * <p>Thread-pool and connector counts are not tuning but sizing: jetty-base's pool is sized for its
 * 101 connectors ({@link #BASE_MAX_THREADS}), the launcher's for its {@code --front-count}.
 *
 * <p>Constants only; any thread.
 */
public final class JettyTuning {
    private JettyTuning() {}

    /** One setting as Jetty names it ({@code HttpConfiguration} property, ini key suffix), its value and why. */
    public record Setting(String name, Object value, String why) {}

    /** A group of settings and the prefix of their keys in jetty-base's ini files. */
    public record Section(String iniPrefix, List<Setting> settings) {}

    // ------------------------------------------------------------ HttpConfiguration (every connector)

    public static final int INPUT_BUFFER_SIZE = 4096;
    public static final int REQUEST_HEADER_SIZE = 8192;
    public static final int RESPONSE_HEADER_SIZE = 2048;
    public static final int MAX_RESPONSE_HEADER_SIZE = 4096;
    public static final int OUTPUT_BUFFER_SIZE = 3072;
    public static final int OUTPUT_AGGREGATION_SIZE = 1;
    public static final boolean SEND_SERVER_VERSION = false;
    public static final boolean SEND_DATE_HEADER = false;
    public static final int HEADER_CACHE_SIZE = 0;

    public static final Section HTTP_CONFIG = new Section("jetty.httpConfig.", List.of(
            new Setting("inputBufferSize", INPUT_BUFFER_SIZE,
                    "Read buffer, taken only while a request is being read (an idle or held connection keeps none):"
                    + " a comet request is one GET line and a few headers."),
            new Setting("requestHeaderSize", REQUEST_HEADER_SIZE,
                    "Longest request head accepted; above it Jetty answers 431. Only a limit, never allocated:"
                    + " 8 KB (Jetty's default) fits a long /sub URL (cname, token, cb, epoch) with a browser's"
                    + " Referer and the cookies a site sets on the comet host name."),
            new Setting("responseHeaderSize", RESPONSE_HEADER_SIZE,
                    "Buffer taken for a response head while it is written (a fan-out has one per write in"
                    + " flight): ours is a status line and about six headers, under 1 KB."),
            new Setting("maxResponseHeaderSize", MAX_RESPONSE_HEADER_SIZE,
                    "A head that does not fit in responseHeaderSize may grow to this."),
            new Setting("outputBufferSize", OUTPUT_BUFFER_SIZE,
                    "Response content buffer, taken only while writing: messages are small JSON, and a fan-out"
                    + " to N subscribers may have N writes in flight (Jetty's 32 KB default x N). 3072 with the"
                    + " pool's 1 KB buckets puts buffers that open streams keep (if aggregation is turned back"
                    + " on) alone in the 3 KB bucket: sharing Jetty's 4 KB bucket with the buffers every write"
                    + " takes made each of those scan past all held ones (10,000 streams: 101 us of CPU per"
                    + " delivered message, 14.9 us with this layout; docs/BENCHMARKS.md)."),
            new Setting("outputAggregationSize", OUTPUT_AGGREGATION_SIZE,
                    "1 = no aggregation: jcomet writes each message once and flushes it at once anyway, and an"
                    + " aggregating response keeps its output buffer until it completes, i.e. an open /stream,"
                    + " /sse or /iframe for its whole life (10,000 streams: +3.5 KB RSS per stream with 2048,"
                    + " nothing with 1)."),
            new Setting("sendServerVersion", SEND_SERVER_VERSION,
                    "No Server: header (no version fingerprint, a few bytes less per response)."),
            new Setting("sendDateHeader", SEND_DATE_HEADER,
                    "No Date: header: a few bytes less per message; comet clients do not use it."),
            new Setting("headerCacheSize", HEADER_CACHE_SIZE,
                    "NO per-connection header-field cache: Jetty builds one on a connection's 2nd request, and"
                    + " long-poll clients re-poll on the same connection: with Jetty's default 1024 the cache"
                    + " costs ~103 KB of heap per re-polling connection (docs/TUNING.md).")));

    // ------------------------------------------------------------ byte buffer pool

    public static final int BUFFER_POOL_MIN_CAPACITY = 0;
    public static final int BUFFER_POOL_FACTOR = 1024;
    public static final int BUFFER_POOL_MAX_CAPACITY = 65536;
    public static final int BUFFER_POOL_MAX_BUCKET_SIZE = -1;
    public static final long BUFFER_POOL_MAX_HEAP_MEMORY = 64L << 20;
    public static final long BUFFER_POOL_MAX_DIRECT_MEMORY = 64L << 20;

    public static final Section BYTE_BUFFER_POOL = new Section("jetty.byteBufferPool.", List.of(
            new Setting("factor", BUFFER_POOL_FACTOR,
                    "1 KB buckets (Jetty's default is 4 KB): the buffers taken for a moment (chunk headers 1 KB,"
                    + " response heads 2 KB, request input 4 KB) and those an open stream keeps (output, 3 KB)"
                    + " land in different buckets (see outputBufferSize). Keep pooling: a connection returns its"
                    + " buffers when idle, and a non-pooling pool measured ~3 KB MORE RSS per connection."),
            new Setting("maxCapacity", BUFFER_POOL_MAX_CAPACITY,
                    "Largest buffer worth pooling; bigger ones are allocated and dropped."),
            new Setting("maxHeapMemory", BUFFER_POOL_MAX_HEAP_MEMORY,
                    "What the pool keeps IDLE after a fan-out burst, bounded (0 would be 1/8 of the heap):"
                    + " 64 MB is thousands of 4 KB buffers."),
            new Setting("maxDirectMemory", BUFFER_POOL_MAX_DIRECT_MEMORY,
                    "The same bound for direct buffers.")));

    // ------------------------------------------------------------ thread pool

    public static final int RESERVED_THREADS = 0;
    public static final int THREAD_IDLE_TIMEOUT_MS = 60_000;
    public static final String THREAD_NAME_PREFIX = "jcomet";
    /** jetty-base: 101 selector threads (1 admin + 100 front connectors) + ~90 workers. */
    public static final int BASE_MAX_THREADS = 192;
    public static final int BASE_MIN_THREADS = 110;

    public static final Section THREAD_POOL = new Section("jetty.threadPool.", List.of(
            new Setting("maxThreads", BASE_MAX_THREADS,
                    "Every connector leases its selector thread for good: 1 admin + 100 front = 101 threads"
                    + " before a request runs (with the default max of 200 and default selectors Jetty fails"
                    + " \"Insufficient configured threads\"). 101 selectors + ~90 workers; a held (async)"
                    + " long-poll holds NO thread, so more would only cost stacks and context switches."),
            new Setting("minThreads", BASE_MIN_THREADS,
                    "Selectors are long-lived: start with them plus a few workers."),
            new Setting("idleTimeout", THREAD_IDLE_TIMEOUT_MS,
                    "A worker idle this long (ms) ends, down to minThreads."),
            new Setting("reservedThreads", RESERVED_THREADS,
                    "No reserved threads: the selector then dispatches each request to the pool instead of"
                    + " handing its selecting to a parked reserved thread and re-parking it (a wake-up more per"
                    + " request). 2 cores, bench publish with 16 keep-alive publishers: 43k -> 52k pushes/s,"
                    + " 25 -> 21 us of server CPU per push (docs/BENCHMARKS.md). On many cores, measure -1 too."),
            new Setting("namePrefix", THREAD_NAME_PREFIX,
                    "Name threads so a thread dump shows which are jcomet's.")));

    // ------------------------------------------------------------ connectors

    /** Per connector: 0 acceptors (the selector thread accepts) and one selector. */
    public static final int ACCEPTORS = 0;
    public static final int SELECTORS = 1;
    public static final int ADMIN_IDLE_TIMEOUT_MS = 60_000;
    public static final int ADMIN_ACCEPT_QUEUE_SIZE = 1024;
    public static final int FRONT_IDLE_TIMEOUT_MS = 60_000;
    public static final int FRONT_ACCEPT_QUEUE_SIZE = 4096;
    /** -1: kernel default (autotuned) socket buffers. */
    public static final int FRONT_SOCKET_BUFFER_SIZE = -1;

    public static final Section ADMIN_CONNECTOR = new Section("jetty.http.", List.of(
            new Setting("acceptors", ACCEPTORS, "0 acceptors: the selector thread accepts."),
            new Setting("selectors", SELECTORS,
                    "One selector: admin traffic is a few back-end connections, not a million subscribers."),
            new Setting("idleTimeout", ADMIN_IDLE_TIMEOUT_MS,
                    "Back ends keep connections alive between pushes; close them after 60 s of silence."),
            new Setting("acceptQueueSize", ADMIN_ACCEPT_QUEUE_SIZE,
                    "Backlog for bursts of back-end connects (capped by net.core.somaxconn).")));

    public static final Section FRONT_CONNECTORS = new Section("jcomet.front.", List.of(
            new Setting("acceptors", ACCEPTORS,
                    "0 acceptors + 1 selector per port: the selector accepts; 100 ports x 1 thread already"
                    + " spread accept and I/O over every core."),
            new Setting("selectors", SELECTORS, "Each selector is leased from the thread pool for good."),
            new Setting("idleTimeout", FRONT_IDLE_TIMEOUT_MS,
                    "Longer than polling_timeout (30 s): a client that polls again after its noop reuses the"
                    + " kept-alive connection. It does not end a held request; polling_timeout does that."),
            new Setting("acceptQueueSize", FRONT_ACCEPT_QUEUE_SIZE,
                    "listen() backlog per port, for the reconnect storm after a restart; the kernel caps it"
                    + " at net.core.somaxconn, which docs/TUNING.md raises to 65535."),
            new Setting("acceptedReceiveBufferSize", FRONT_SOCKET_BUFFER_SIZE,
                    "Kernel-default (autotuned) socket buffers: idle sockets hold no data, so forcing a size"
                    + " buys nothing (docs/TUNING.md)."),
            new Setting("acceptedSendBufferSize", FRONT_SOCKET_BUFFER_SIZE, "The same for the send buffer.")));

    // ------------------------------------------------------------ https front (TLS, ALPN: h2 + http/1.1)

    /** The https front port (jetty-base's {@code jetty.ssl.port}, the launcher's and {@code mvn jetty:run}'s default). */
    public static final int TLS_PORT = 8443;
    /** TLS 1.2 and 1.3 only. */
    public static final String TLS_PROTOCOLS = "TLSv1.2,TLSv1.3";
    /** Jetty's default exclusions plus the RSA key exchange (no forward secrecy; Jetty warns about it). */
    public static final String TLS_EXCLUDE_CIPHER_SUITES = "^.*_(MD5|SHA|SHA1)$,^SSL_.*$,^.*_NULL_.*$,^.*_anon_.*$,^TLS_RSA_.*$";
    public static final boolean TLS_SESSION_CACHING = true;
    public static final int TLS_SESSION_CACHE_SIZE = 20480;
    public static final int TLS_SESSION_TIMEOUT_S = 86400;
    /** -1: Jetty sizes the selectors of the one https port by the number of cores. */
    public static final int TLS_SELECTORS = -1;
    public static final int H2_MAX_CONCURRENT_STREAMS = 256;
    /** How often (s) the keystore file is checked for a new certificate. */
    public static final int TLS_RELOAD_SCAN_INTERVAL_S = 1;
    /** Alias of the generated development / self-signed certificate. */
    public static final String TLS_DEV_ALIAS = "jcomet";

    public static final Section TLS_CONNECTOR = new Section("jetty.ssl.", List.of(
            new Setting("port", TLS_PORT, "The https front port: h2 and http/1.1 on one port, chosen by ALPN."),
            new Setting("acceptors", ACCEPTORS, "0 acceptors: a selector thread accepts, as on the plain front ports."),
            new Setting("selectors", TLS_SELECTORS,
                    "One port carries every https subscriber and TLS work runs on the threads that read and write:"
                    + " -1 lets Jetty size the selectors by the cores (BASE_MAX_THREADS leaves room for them)."),
            new Setting("idleTimeout", FRONT_IDLE_TIMEOUT_MS,
                    "As the plain front ports: longer than polling_timeout, so a re-poll reuses the connection"
                    + " (and its TLS session: no new handshake)."),
            new Setting("acceptQueueSize", FRONT_ACCEPT_QUEUE_SIZE,
                    "listen() backlog for the reconnect storm after a restart (capped by net.core.somaxconn).")));

    public static final Section TLS_CONTEXT = new Section("jetty.sslContext.", List.of(
            new Setting("includeProtocols", TLS_PROTOCOLS,
                    "TLS 1.2 and 1.3 only: every browser that has EventSource and WebSocket speaks them."),
            new Setting("excludeCipherSuites", TLS_EXCLUDE_CIPHER_SUITES,
                    "Jetty's default exclusions plus TLS_RSA_* (RSA key exchange: no forward secrecy, and Jetty"
                    + " logs each as a weak suite at start-up); TLS 1.2 clients get ECDHE suites."),
            new Setting("sessionCachingEnabled", TLS_SESSION_CACHING,
                    "Session resumption on: a client reconnecting after a network change or a server's"
                    + " polling_timeout skips the full handshake (its public-key CPU)."),
            new Setting("sslSessionCacheSize", TLS_SESSION_CACHE_SIZE,
                    "Sessions kept for resumption (the JDK's default, written down): TLS 1.3 clients resume from"
                    + " stateless tickets, so the cache only serves TLS 1.2 clients."),
            new Setting("sslSessionTimeout", TLS_SESSION_TIMEOUT_S, "A session may be resumed for a day (s).")));

    public static final Section HTTP2 = new Section("jetty.http2.", List.of(
            new Setting("maxConcurrentStreams", H2_MAX_CONCURRENT_STREAMS,
                    "A browser opens ONE h2 connection per origin for all its tabs, and each held long-poll,"
                    + " /stream or /sse is a stream on it: 256 lets a user keep many tabs subscribed (the"
                    + " per-client limits of jcomet still apply per address).")));

    public static final Section TLS_RELOAD = new Section("jetty.sslContext.reload.", List.of(
            new Setting("scanInterval", TLS_RELOAD_SCAN_INTERVAL_S,
                    "Check the keystore file every second; a replaced certificate is used for new handshakes"
                    + " without a restart (open connections keep theirs).")));
}
