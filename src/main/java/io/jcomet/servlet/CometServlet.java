package io.jcomet.servlet;

import io.jcomet.core.Broker;
import io.jcomet.core.CometException;
import io.jcomet.core.Engine;
import io.jcomet.core.Message;
import io.jcomet.core.Stats;
import io.jcomet.protocol.BadRequestException;
import io.jcomet.protocol.Framing;
import io.jcomet.protocol.Json;
import io.jcomet.protocol.MalformedRequests;
import io.jcomet.protocol.Messages;
import io.jcomet.protocol.Params;
import io.jcomet.protocol.Query;
import io.jcomet.protocol.Transport;
import jakarta.servlet.AsyncContext;
import jakarta.servlet.ServletException;
import jakarta.servlet.http.HttpServlet;
import jakarta.servlet.http.HttpServletRequest;
import jakarta.servlet.http.HttpServletResponse;
import java.io.IOException;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.CompletionException;
import java.util.function.Function;
import java.util.logging.Level;
import java.util.logging.Logger;

/**
 * Every jcomet endpoint, routed by path and by the port the request arrived on: requests on
 * {@code admin_port} may only use the admin API (and only from callers {@link AdminGuard} admits);
 * requests on any other port only the front API. A single-port container therefore serves the front
 * API and needs a second connector for the admin API (docs/DEPLOY.md).
 *
 * <p>Admin requests are read as icomet reads them: any HTTP method; parameter names
 * case-insensitive; a request body, whatever its Content-Type, is parsed as a query string and its
 * values override the URL's. With {@code raw=1} in the URL, {@code /push}, {@code /pub} and
 * {@code /broadcast} take the body verbatim as the content instead (a jcomet extra, never guessed).
 * Every admin answer ends with a newline and is wrapped as JSONP {@code cb(...);} when {@code cb}
 * is given (text answers as a JSON string), errors included.
 *
 * <p>Threads: container request threads only; the servlet keeps no per-request state. Held
 * requests are handed to the {@link Broker} as {@link HttpSubscriber}s.
 */
public final class CometServlet extends HttpServlet {
    private static final long serialVersionUID = 1L;

    private transient Broker broker;
    private transient AdminGuard guard;
    private transient int adminPort;
    private transient PresenceHub presence;
    private transient io.jcomet.metrics.JcometMetrics metrics;
    /** The front /stats document and when it was made (nanoTime): rebuilt at most once a second. */
    private transient volatile Object[] statsCache;

    /** What a route's handler does with one request; called on the container's request thread. */
    @FunctionalInterface
    interface Handler {
        void handle(CometServlet servlet, Route route, HttpServletRequest req, HttpServletResponse resp, AdminParams params)
                throws IOException;
    }

    /** Which port answers a route, and how its request is read. */
    enum Side {
        /** Any port but {@code admin_port}; GET (and CORS preflight OPTIONS) only. */
        FRONT,
        /** {@code admin_port} only, callers {@link AdminGuard} admits; parameters read icomet's way ({@link AdminParams}). */
        ADMIN,
        /** Like ADMIN, but the request is handed over unread (a held presence stream). */
        ADMIN_STREAM,
        /** Like ADMIN, but the handler reads the body itself (a batch of messages, one per line). */
        ADMIN_BODY
    }

    /**
     * Every path the servlet answers: the one table routing reads. web.xml maps the servlet to
     * exactly these paths (plus its error page; RoutesTest fails when the two differ), so that
     * static files stay with the container's default servlet on Tomcat and Jetty alike.
     * A subscription route carries its {@link Transport} and how its framing is made from the
     * caller's callback; {@code callbackErrors} says whether a 400 on it is answered as a JSONP
     * script when the caller gave {@code cb} (browsers run no script sent with a 4xx).
     */
    enum Route {
        SUB("/sub", Transport.POLL, Framing::longPoll, true),
        POLL("/poll", Transport.POLL, Framing::longPoll, true),
        STREAM("/stream", Transport.STREAM, cb -> Framing.stream(), false),
        SSE("/sse", Transport.SSE, cb -> Framing.sse(), false),
        IFRAME("/iframe", Transport.IFRAME, Framing::iframe, true),
        PING("/ping", Side.FRONT, true, (s, r, req, resp, p) -> s.ping(req, resp)),
        STATS("/stats", Side.FRONT, false, (s, r, req, resp, p) -> s.stats(resp)),
        /** A plain GET; upgrades are taken by the container's WebSocket filter before they get here. */
        WS(io.jcomet.ws.WsHub.PATH, Side.FRONT, false, (s, r, req, resp, p) -> {
            throw new BadRequestException("/ws is a WebSocket endpoint: connect with a WebSocket client (Upgrade: websocket)");
        }),
        SIGN("/sign", Side.ADMIN, false, (s, r, req, resp, p) -> s.sign(req, p, resp)),
        PUSH("/push", Side.ADMIN, false, (s, r, req, resp, p) -> s.push(req, p, resp, false)),
        PUB("/pub", Side.ADMIN, false, (s, r, req, resp, p) -> s.push(req, p, resp, true)),
        BATCH("/batch", Side.ADMIN_BODY, false, (s, r, req, resp, p) -> BatchPublish.handle(s, req, resp)),
        BROADCAST("/broadcast", Side.ADMIN, false, (s, r, req, resp, p) -> s.broadcast(p, resp)),
        CLOSE("/close", Side.ADMIN, false, (s, r, req, resp, p) -> s.closeOrClear(req, p, resp, true)),
        CLEAR("/clear", Side.ADMIN, false, (s, r, req, resp, p) -> s.closeOrClear(req, p, resp, false)),
        INFO("/info", Side.ADMIN, false, (s, r, req, resp, p) -> s.info(req, p, resp)),
        CHECK("/check", Side.ADMIN, false, (s, r, req, resp, p) -> s.check(req, p, resp)),
        PSUB("/psub", Side.ADMIN_STREAM, false, (s, r, req, resp, p) -> s.presence(req, resp)),
        METRICS("/metrics", Side.ADMIN, false, (s, r, req, resp, p) -> s.metrics(resp));

        private static final Map<String, Route> BY_PATH = new java.util.HashMap<>();
        static {
            for (Route r : values()) {
                BY_PATH.put(r.path, r);
            }
        }

        final String path;
        final Side side;
        final boolean admin;
        /** The subscription's transport; null for routes that answer at once. */
        final Transport transport;
        /** The subscription's framing for the caller's (validated, possibly null) callback; null when not a subscription. */
        final Function<String, Framing> framing;
        final boolean callbackErrors;
        final Handler handler;

        /** A front subscription: answered by {@link #subscribe}. */
        Route(String path, Transport transport, Function<String, Framing> framing, boolean callbackErrors) {
            this(path, Side.FRONT, transport, framing, callbackErrors, (s, r, req, resp, p) -> s.subscribe(req, resp, r));
        }

        Route(String path, Side side, boolean callbackErrors, Handler handler) {
            this(path, side, null, null, callbackErrors, handler);
        }

        Route(String path, Side side, Transport transport, Function<String, Framing> framing, boolean callbackErrors, Handler handler) {
            this.path = path;
            this.side = side;
            this.admin = side != Side.FRONT;
            this.transport = transport;
            this.framing = framing;
            this.callbackErrors = callbackErrors;
            this.handler = handler;
        }

        /** The route of a servlet path, or null. */
        static Route of(String path) {
            return BY_PATH.get(path);
        }
    }

    @Override
    public void init() throws ServletException {
        broker = (Broker) getServletContext().getAttribute(Broker.class.getName());
        if (broker == null) {
            throw new ServletException("jcomet broker missing: is io.jcomet.servlet.JcometBootstrap registered as a listener?");
        }
        guard = new AdminGuard(broker.config().adminAllow(), broker.config().adminDeny());
        adminPort = broker.config().adminPort();
        presence = new PresenceHub(broker);
        metrics = new io.jcomet.metrics.JcometMetrics(broker,
                () -> (io.jcomet.ws.WsHub) getServletContext().getAttribute(io.jcomet.ws.WsHub.ATTRIBUTE));
    }

    @Override
    public void destroy() {
        if (presence != null) {
            presence.close();
        }
    }

    @Override
    protected void service(HttpServletRequest req, HttpServletResponse resp) throws IOException {
        if (req.getDispatcherType() == jakarta.servlet.DispatcherType.ERROR) {
            containerError(req, resp);
            return;
        }
        String path = req.getServletPath();
        if (req.getPathInfo() != null) {
            path = path + req.getPathInfo();
        }
        Route route = Route.of(path);
        boolean onAdminPort = req.getLocalPort() == adminPort;
        Stats stats = broker.stats();
        if (route == null || route.admin != onAdminPort) {
            stats.addReject(Stats.Reject.WRONG_PORT);
            error(resp, 404, route == null ? "no such endpoint"
                    : route.admin ? "admin endpoint: only on the admin port" : "front endpoint: not on the admin port");
            return;
        }
        if (route.admin && !guard.admits(req.getRemoteAddr())) {
            stats.addReject(Stats.Reject.FORBIDDEN);
            error(resp, 403, "admin API refused for " + AdminGuard.normalize(req.getRemoteAddr()));
            return;
        }
        String method = req.getMethod();
        if (!route.admin) {
            if (method.equals("OPTIONS")) {
                cors(resp);
                resp.setHeader("Access-Control-Allow-Methods", "GET, OPTIONS");
                resp.setHeader("Access-Control-Max-Age", "86400");
                resp.setStatus(204);
                return;
            }
            if (!method.equals("GET")) {
                stats.addReject(Stats.Reject.METHOD_NOT_ALLOWED);
                resp.setHeader("Allow", "GET, OPTIONS");
                error(resp, 405, method + " not allowed on " + path, frontCallback(req));
                return;
            }
        }
        AdminParams params = null;
        try {
            if (route.side == Side.ADMIN) {
                params = AdminParams.read(req, broker.config().maxMessageSize());
                if (params == null) {
                    stats.addReject(Stats.Reject.TOO_LARGE);
                    error(resp, 413, "request body larger than max_message_size allows ("
                            + broker.config().maxMessageSize() + " bytes of content)", null);
                    return;
                }
            }
            route.handler.handle(this, route, req, resp, params);
        } catch (BadRequestException e) {
            stats.addReject(Stats.Reject.BAD_REQUEST);
            if (route.admin) {
                error(resp, 400, e.getMessage(), adminCallback(params));
            } else {
                badRequest(req, resp, route, e.getMessage());
            }
        } catch (CometException e) {
            error(resp, e.status(), e.reason(), route.admin ? adminCallback(params) : frontCallback(req));
        } catch (RuntimeException e) {
            // what containers throw for an unparsable query string or form body (bad percent-encoding,
            // invalid UTF-8): answered here so the container neither sends its own page nor logs the URI
            if (req.isAsyncStarted() || resp.isCommitted() || !MalformedRequests.isDecodeFailure(e)) {
                throw e;
            }
            stats.addReject(Stats.Reject.BAD_REQUEST);
            MalformedRequests.note(e.getClass().getSimpleName() + " on " + path);
            badRequest(req, resp, route, "malformed request: parameters are not valid percent-encoded UTF-8");
        }
    }

    /** The caller's JSONP callback for an error answer, or null when there is none or it is unusable. */
    private static String frontCallback(HttpServletRequest req) {
        try {
            return Params.callback(Query.get(req.getQueryString(), "cb"));
        } catch (RuntimeException e) { // the callback itself is what was wrong, or unreadable
            return null;
        }
    }

    private static String adminCallback(AdminParams params) {
        if (params == null) {
            return null;
        }
        try {
            return Params.callback(params.get("cb"));
        } catch (RuntimeException e) { // the callback itself is what was wrong, or unreadable
            return null;
        }
    }

    /**
     * A 400 in the caller's transport: a front caller that asked for JSONP with a valid callback
     * gets the error as a script (HTTP 200, as refusals are: a browser runs no script sent with a
     * 4xx), everyone else the JSON error with status 400.
     */
    private void badRequest(HttpServletRequest req, HttpServletResponse resp, Route route, String reason) throws IOException {
        if (resp.isCommitted()) {
            return;
        }
        if (!route.admin) {
            cors(resp); // so a cross-origin page can read why
            String cb = null;
            if (route.callbackErrors) {
                try {
                    cb = Params.callback(Query.get(req.getQueryString(), "cb"));
                } catch (RuntimeException e) {
                    cb = null; // the callback itself is what was wrong
                }
            }
            if (cb != null) {
                write(resp, 200, cb, Messages.error(reason));
                return;
            }
        }
        error(resp, 400, reason);
    }

    /**
     * The container refused the request before or while it reached the servlet (web.xml error
     * pages for 400, 404 and 405): jcomet's JSON error instead of the container's page, counted, logged at most
     * once a minute without the URI.
     */
    private void containerError(HttpServletRequest req, HttpServletResponse resp) throws IOException {
        Object code = req.getAttribute("jakarta.servlet.error.status_code");
        int status = code instanceof Integer && (Integer) code >= 400 && (Integer) code < 500 ? (Integer) code : 400;
        if (status == 404 || status == 405) {
            // a path the web app does not serve (/PUSH, /WEB-INF/..., a missing file), or a method a
            // static file does not take: the same JSON as every other answer, not the container's page
            broker.stats().addReject(status == 404 ? Stats.Reject.NOT_FOUND : Stats.Reject.METHOD_NOT_ALLOWED);
            cors(resp);
            error(resp, status, status == 404 ? "not found: no such path (paths are case-sensitive: /sub, /push, ...)"
                    : "method not allowed on this path");
            return;
        }
        broker.stats().addReject(Stats.Reject.BAD_REQUEST);
        Object ex = req.getAttribute("jakarta.servlet.error.exception");
        MalformedRequests.note("container " + status + (ex == null ? "" : " " + ex.getClass().getSimpleName()));
        cors(resp);
        error(resp, status, "malformed request: the request line, query or body is not valid (percent-encoded UTF-8)");
    }

    // ------------------------------------------------------------------ front

    private void subscribe(HttpServletRequest req, HttpServletResponse resp, Route route) throws IOException {
        Transport transport = route.transport;
        // read from the raw query: getParameter would build a parameter map that stays attached
        // to the request for as long as it is held
        String q = req.getQueryString();
        String cname = Params.cname(Query.get(q, "cname"), broker.config().maxCnameLength());
        int seq = Params.integer("seq", Query.get(q, "seq"), 0);
        int noop = Params.integer("noop", Query.get(q, "noop"), 0);
        String cb = Params.callback(Query.get(q, "cb"));
        String token = Query.get(q, "token");
        String epoch = Query.get(q, "epoch"); // present (even empty) only from jcomet clients
        if (epoch != null && (epoch.length() > 32 || !epoch.chars().allMatch(c -> c == '.' || Character.isLetterOrDigit(c)))) {
            throw new BadRequestException("epoch must be what the server sent (letters, digits, dots)");
        }
        if (transport == Transport.SSE) {
            String last = req.getHeader("Last-Event-ID");
            if (last != null && !last.isEmpty()) {
                seq = Params.integer("Last-Event-ID", last, 0) + 1;
            }
        }
        Framing framing = route.framing.apply(cb);
        io.jcomet.core.Admission admission = broker.admission();
        int bucket = admission.bucket(admission.client(req.getRemoteAddr(), req.getHeader("X-Forwarded-For")));
        io.jcomet.core.Admission.Refusal refused = admission.admitSubscription(bucket, cname, transport.streaming() || seq == 1);
        if (refused != null) {
            refuse(resp, refused);
            return;
        }
        AsyncContext ctx = req.startAsync();
        ctx.setTimeout(0); // the broker's one shared sweeper times held requests out, not a timer each
        // response headers are set when the answer is written, so a held request carries none
        HttpSubscriber s = new HttpSubscriber(broker, framing, ctx, resp.getOutputStream(), noop);
        s.countedIn(bucket);
        s.start();
        // an icomet-style JSONP long-poll (icomet.js) must never get an array: see SubscribeRequest
        boolean oneMessage = transport == Transport.POLL && cb != null && epoch == null;
        broker.subscribe(s, new Broker.SubscribeRequest(cname, seq, token, epoch, oneMessage));
        if (broker.config().detectDisconnects()
                && (broker.config().detectDisconnectsAfterMillis() == 0 || admission.nearHeldLimit(bucket))) {
            // no-op when the subscriber was answered at once; otherwise once held long, or at once when
            // its address nears max_held_per_client: a place it holds is freed as soon as it leaves
            s.watchDisconnect();
        }
    }

    /**
     * A refusal of the admission policy (counted there): a per-client limit is HTTP 429, the memory
     * budget 503, both with Retry-After and a JSON body, in every HTTP transport.
     */
    private void refuse(HttpServletResponse resp, io.jcomet.core.Admission.Refusal r) throws IOException {
        cors(resp);
        resp.setHeader("Retry-After", Integer.toString(r.retryAfterSeconds()));
        error(resp, r.httpStatus(), r.reason());
    }

    /** Admin /psub: a held stream like any other, so the memory budget applies to it too. */
    private void presence(HttpServletRequest req, HttpServletResponse resp) throws IOException {
        io.jcomet.core.Admission.Refusal r = broker.admission().memoryRefusal();
        if (r != null) {
            refuse(resp, r);
            return;
        }
        presence.subscribe(req);
    }

    private void ping(HttpServletRequest req, HttpServletResponse resp) throws IOException {
        String raw = Query.get(req.getQueryString(), "cb");
        String cb = Params.callback(raw);
        String json = "{\"type\":\"ping\",\"sub_timeout\":" + broker.config().pollingTimeoutSeconds() + "}";
        // icomet answers ping as JSONP with icomet_cb by default; plain JSON only when cb= is given empty
        String c = raw == null ? "icomet_cb" : cb;
        cors(resp);
        write(resp, 200, c, Messages.utf8(json));
    }

    private void stats(HttpServletResponse resp) throws IOException {
        if (!broker.config().frontStats()) {
            error(resp, 404, "front_stats is off");
            return;
        }
        cors(resp);
        Object[] c = statsCache;
        long now = System.nanoTime();
        if (c == null || now - (Long) c[0] >= 1_000_000_000L) {
            // at most once a second however often it is asked, and without the fd scan /info does
            c = new Object[] {now, Messages.utf8(InfoJson.global(broker, presence.count(), false))};
            statsCache = c;
        }
        write(resp, 200, null, (byte[]) c[1]);
    }

    // ------------------------------------------------------------------ admin

    private void sign(HttpServletRequest req, AdminParams p, HttpServletResponse resp) throws IOException {
        String cname = Params.cname(p.get("cname"), broker.config().maxCnameLength());
        int expires = Params.positiveOrDefault(p.get("expires"), 0); // 0: the broker's default, channel_timeout
        String cb = Params.callback(p.get("cb"));
        int subTimeout = broker.config().pollingTimeoutSeconds();
        answerWhenDone(req, resp, cb, broker.signAsync(cname, expires), (r, c, s) -> {
            StringBuilder b = new StringBuilder(128).append("{\"type\":\"sign\",\"cname\":");
            Json.quote(b, s.cname()).append(",\"seq\":").append(Integer.toUnsignedString(s.seq()))
                    .append(",\"token\":\"").append(s.token()).append("\",\"expires\":").append(s.expiresSeconds())
                    .append(",\"sub_timeout\":").append(subTimeout).append('}');
            write(r, 200, c, Messages.utf8(b));
        });
    }

    /** /push and /pub, answered when the engine has published ({@link #answerWhenDone}). */
    private void push(HttpServletRequest req, AdminParams p, HttpServletResponse resp, boolean preEscaped) throws IOException {
        String cb = Params.callback(p.get("cb"));
        Engine.Publish pub = checkPublish(p.get("cname"), p.content(), preEscaped, p.get("idempotency_key"));
        answerWhenDone(req, resp, cb, broker.publishAsync(pub.cname(), pub.content(), pub.kind(), pub.idempotencyKey()),
                (r, c, seq) -> write(r, 200, c, published(seq)));
    }

    /** Writes an admin operation's answer from its outcome. */
    @FunctionalInterface
    private interface Answer<T> {
        void write(HttpServletResponse resp, String cb, T value) throws IOException;
    }

    /**
     * Answers an admin operation that may complete later. When the engine answers at once (the
     * memory engine, a refusal) the answer is written here; when it answers later (a shared store's
     * round trip) the request goes asynchronous and this thread returns at once: the answer, or the
     * same error the blocking path gives, is written and the request completed by whichever thread
     * completes the operation (the engine bounds that wait by its own timeout, so the container
     * sets none). On the Redis engine that thread is Lettuce's I/O thread, which must never wait:
     * the answer is buffered and sent as the request completes, without blocking
     * ({@link #writeWhole}), so a client pipelining requests and leaving their answers unread
     * holds up only its own connection. So no request thread waits for Redis, and the admin
     * connector can run these requests on its selector ({@code admin_inline}) on either engine.
     */
    private static <T> void answerWhenDone(HttpServletRequest req, HttpServletResponse resp, String cb,
            CompletionStage<T> stage, Answer<T> answer) throws IOException {
        CompletableFuture<T> f = stage.toCompletableFuture();
        if (f.isDone()) {
            answer.write(resp, cb, now(f));
            return;
        }
        AsyncContext ctx = req.startAsync();
        ctx.setTimeout(0);
        f.whenComplete((value, e) -> answerLater(ctx, resp, cb, value, e, answer));
    }

    /** A completed operation's value, or its refusal thrown as the blocking call throws it. */
    private static <T> T now(CompletableFuture<T> f) {
        try {
            return f.join();
        } catch (CompletionException e) {
            Throwable c = e.getCause();
            throw c instanceof RuntimeException r ? r : e;
        }
    }

    /** Writes an operation's answer after the request went asynchronous, then completes it. */
    private static <T> void answerLater(AsyncContext ctx, HttpServletResponse resp, String cb, T value, Throwable e,
            Answer<T> answer) {
        try {
            if (e == null) {
                answer.write(resp, cb, value);
            } else {
                Throwable c = e instanceof CompletionException && e.getCause() != null ? e.getCause() : e;
                if (c instanceof CometException ce) {
                    error(resp, ce.status(), ce.reason(), cb);
                } else {
                    Logger.getLogger(CometServlet.class.getName())
                            .log(Level.WARNING, "jcomet: admin operation failed", c);
                    error(resp, 500, "internal error: " + c, cb);
                }
            }
        } catch (IOException | RuntimeException gone) {
            // the caller went away before its answer: nothing to tell it
        } finally {
            ctx.complete();
        }
    }

    /**
     * One publish as /push, /pub and each line of /batch make it: checks the channel name, the
     * content and the optional idempotency key, publishes, and returns the answer ({@code {"type":"ok","seq":N}}). Bad input throws
     * {@link BadRequestException}, a refusal of the broker's {@link CometException}.
     */
    byte[] publishOne(String cname, String content, boolean preEscaped, String idempotencyKey) {
        Engine.Publish p = checkPublish(cname, content, preEscaped, idempotencyKey);
        return published(broker.publish(p.cname(), p.content(), p.kind(), p.idempotencyKey()));
    }

    /** The checks of {@link #publishOne}, without publishing: a /batch line checked before its batch is sent. */
    Engine.Publish checkPublish(String cname, String content, boolean preEscaped, String idempotencyKey) {
        cname = Params.cname(cname, broker.config().maxCnameLength());
        if (content == null) {
            throw new BadRequestException("missing content");
        }
        if (preEscaped) {
            String decoded = Json.unescapeBody(content);
            if (decoded == null) {
                throw new BadRequestException("/pub content must be a JSON-escaped string body (no raw quotes or control characters)");
            }
            content = decoded;
        }
        return new Engine.Publish(cname, Message.Kind.DATA, content, Params.idempotencyKey(idempotencyKey));
    }

    /** /push's answer for a published message. */
    static byte[] published(int seq) {
        return Messages.utf8("{\"type\":\"ok\",\"seq\":" + Integer.toUnsignedString(seq) + "}");
    }

    Broker broker() {
        return broker;
    }

    private void broadcast(AdminParams p, HttpServletResponse resp) throws IOException {
        String cb = Params.callback(p.get("cb"));
        String content = p.content();
        if (content == null) {
            throw new BadRequestException("missing content");
        }
        broker.broadcast(content);
        writeText(resp, 200, cb, "ok"); // icomet's answer, which scripts test for
    }

    private void closeOrClear(HttpServletRequest req, AdminParams p, HttpServletResponse resp, boolean close) throws IOException {
        String cname = Params.cname(p.get("cname"), broker.config().maxCnameLength());
        String cb = Params.callback(p.get("cb"));
        answerWhenDone(req, resp, cb, close ? broker.closeAsync(cname) : broker.clearAsync(cname), (r, c, next) -> {
            if (next < 0) {
                broker.stats().addReject(Stats.Reject.NOT_FOUND);
                error(r, 404, "channel[" + cname + "] not connected", c);
            } else {
                writeText(r, 200, c, "ok " + next);
            }
        });
    }

    private void info(HttpServletRequest req, AdminParams p, HttpServletResponse resp) throws IOException {
        String cname = p.get("cname");
        String cb = Params.callback(p.get("cb"));
        if (cname != null && !cname.isEmpty()) {
            Params.cname(cname, broker.config().maxCnameLength());
            answerWhenDone(req, resp, cb, broker.subscribersAsync(cname), (r, c, n) -> {
                StringBuilder b = new StringBuilder("{\"cname\":");
                Json.quote(b, cname).append(",\"subscribers\":").append(Math.max(0, n)).append('}');
                write(r, 200, c, Messages.utf8(b));
            });
            return;
        }
        if ("1".equals(p.get("gc"))) {
            System.gc(); // benchmarks read heap after a collection
        }
        write(resp, 200, cb, Messages.utf8(InfoJson.global(broker, presence.count())));
    }

    /**
     * icomet's /check: a channel is reported while it exists (signed, published to or subscribed,
     * and not yet expired or closed), whether or not a request is held on it at this moment: a
     * long-poll client is between two requests most of the time.
     */
    private void check(HttpServletRequest req, AdminParams p, HttpServletResponse resp) throws IOException {
        String cname = Params.cname(p.get("cname"), broker.config().maxCnameLength());
        String cb = Params.callback(p.get("cb"));
        answerWhenDone(req, resp, cb, broker.subscribersAsync(cname), (r, c, n) -> {
            StringBuilder b = new StringBuilder("{");
            if (n >= 0) {
                Json.quote(b, cname).append(":1");
            }
            write(r, 200, c, Messages.utf8(b.append('}')));
        });
    }

    private void metrics(HttpServletResponse resp) throws IOException {
        resp.setContentType(metrics.contentType());
        metrics.write(resp.getOutputStream());
    }

    // ------------------------------------------------------------------ helpers

    private void cors(HttpServletResponse resp) {
        String origin = broker.config().corsAllowOrigin();
        if (!origin.isEmpty()) {
            resp.setHeader("Access-Control-Allow-Origin", origin);
        }
    }

    /** A JSON answer, ending with a newline; as JSONP {@code cb(json);} when {@code cb} is given. */
    static void write(HttpServletResponse resp, int status, String cb, byte[] json) throws IOException {
        byte[] body;
        if (cb != null) {
            body = Framing.longPoll(cb).frame(json, -1);
            resp.setContentType("text/javascript; charset=utf-8");
        } else {
            body = java.util.Arrays.copyOf(json, json.length + 1);
            body[json.length] = '\n';
            resp.setContentType("application/json; charset=utf-8");
        }
        resp.setStatus(status);
        resp.setHeader("Cache-Control", "no-cache");
        writeWhole(resp, body);
    }

    /**
     * Writes a whole small answer without ever waiting for the client: the body goes into the
     * response's buffer (sized to hold it, and no Content-Length set, which would make the last
     * byte flush it with a blocking write), and it is sent when the request completes, without
     * blocking; the container sets the Content-Length then, the whole body being known. Answers
     * are written on threads that must not wait for a client that stops reading: the admin
     * connector's selector ({@code admin_inline}) and the Redis engine's I/O thread (an
     * asynchronous /push). Any thread that owns the response.
     */
    private static void writeWhole(HttpServletResponse resp, byte[] body) throws IOException {
        try {
            resp.setBufferSize(body.length + 1); // one more: a write that fills the buffer exactly flushes it
        } catch (IllegalStateException contentWrittenAlready) {
            // the buffer is in use and stays as it is
        }
        resp.getOutputStream().write(body);
    }

    /** A one-line text answer (icomet's {@code ok}, {@code ok 12}); with {@code cb} the line as a JSON string. */
    private static void writeText(HttpServletResponse resp, int status, String cb, String line) throws IOException {
        if (cb != null) {
            StringBuilder b = new StringBuilder(line.length() + 2);
            write(resp, status, cb, Messages.utf8(Json.quote(b, line)));
            return;
        }
        byte[] body = Messages.utf8(line + "\n");
        resp.setStatus(status);
        resp.setContentType("text/plain; charset=utf-8");
        resp.setHeader("Cache-Control", "no-cache");
        writeWhole(resp, body);
    }

    static void error(HttpServletResponse resp, int status, String reason) throws IOException {
        error(resp, status, reason, null);
    }

    /** An error as JSON {@code {"type":"error","reason":...}}, in the caller's transport (JSONP with a cb). */
    static void error(HttpServletResponse resp, int status, String reason, String cb) throws IOException {
        if (resp.isCommitted()) {
            return;
        }
        write(resp, status, cb, Messages.error(reason));
    }
}
