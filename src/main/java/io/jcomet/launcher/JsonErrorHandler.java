package io.jcomet.launcher;

import io.jcomet.core.Broker;
import io.jcomet.core.Stats;
import io.jcomet.protocol.MalformedRequests;
import io.jcomet.protocol.Messages;
import io.jcomet.protocol.Params;
import java.nio.ByteBuffer;
import java.util.function.Supplier;
import org.eclipse.jetty.http.HttpHeader;
import org.eclipse.jetty.server.Request;
import org.eclipse.jetty.server.Response;
import org.eclipse.jetty.server.handler.ErrorHandler;
import org.eclipse.jetty.util.Callback;

/**
 * The launcher's server-level error page: what Jetty refuses before the web app sees it (a bad
 * request line, percent-encoding in the path that does not decode, a URI or header over the size
 * limit) gets jcomet's JSON error with {@code nosniff} instead of Jetty's HTML page, is counted as
 * {@code bad_request} and logged at most once a minute without the URI. (In jetty-base the WAR
 * cannot install this; there Jetty's own page answers: docs/DEPLOY.md.)
 *
 * <p>Threads: any Jetty thread; stateless apart from the broker lookup.
 */
final class JsonErrorHandler extends ErrorHandler {
    private final Supplier<Broker> broker;

    JsonErrorHandler(Supplier<Broker> broker) {
        this.broker = broker;
    }

    @Override
    protected void generateResponse(Request request, Response response, int code, String message, Throwable cause, Callback callback) {
        if (code >= 400 && code < 500) {
            Broker b = broker.get();
            if (b != null) {
                b.stats().addReject(Stats.Reject.BAD_REQUEST);
            }
            MalformedRequests.note("refused by Jetty: " + code);
        }
        response.getHeaders().put("X-Content-Type-Options", "nosniff");
        response.getHeaders().put(HttpHeader.CONTENT_TYPE, "application/json; charset=utf-8");
        String reason = (code >= 400 && code < 500 ? "malformed request: " : "") + Params.abbreviate(message == null ? "error " + code : message);
        response.write(true, ByteBuffer.wrap(Messages.error(reason)), callback);
    }
}
