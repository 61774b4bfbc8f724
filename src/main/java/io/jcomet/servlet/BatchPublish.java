package io.jcomet.servlet;

import io.jcomet.config.JcometConfig;
import io.jcomet.core.CometException;
import io.jcomet.core.Engine;
import io.jcomet.core.Stats;
import io.jcomet.protocol.BadRequestException;
import io.jcomet.protocol.Messages;
import io.jcomet.protocol.Query;
import jakarta.servlet.http.HttpServletRequest;
import jakarta.servlet.http.HttpServletResponse;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * Admin {@code /batch}: many publishes in one request, so a back end pays for one HTTP exchange
 * instead of one per message (a /push costs tens of microseconds of HTTP handling and a few
 * microseconds of publishing; see docs/BENCHMARKS.md).
 *
 * <p>The body is one message per line, each line a query string with the keys /push takes
 * ({@code cname=a&content=hello}, and {@code idempotency_key} to make a retried batch publish
 * each message once); the answer is one JSON object per line, in the same order,
 * exactly what /push would have answered for that message: {@code {"type":"ok","seq":N}} or its
 * {@code {"type":"error","reason":...}}. A bad line does not sink the others. Every line is checked
 * first, then the good ones are published in order, each as if pushed alone, so seq, epoch, buffer,
 * fan-out, presence and the gap rules are the same. On engine=redis they go to Redis together, in
 * script calls of up to 64 messages (the engine's group commit), so a batch costs about one round
 * trip instead of one per line. Empty lines are skipped; a line may end with CRLF.
 *
 * <p>A body over {@code max_batch_bytes} or with more than {@code max_batch_lines} messages is
 * refused whole with a 413 before anything is published (counted as {@code too_large}).
 *
 * <p>Threads: the request thread; nothing is kept between requests.
 */
final class BatchPublish {

    private BatchPublish() {
    }

    static void handle(CometServlet servlet, HttpServletRequest req, HttpServletResponse resp) throws IOException {
        JcometConfig config = servlet.broker().config();
        Stats stats = servlet.broker().stats();
        int maxBytes = config.maxBatchBytes();
        String body = req.getContentLengthLong() > maxBytes ? null : readBody(req, maxBytes);
        if (body == null) {
            stats.addReject(Stats.Reject.TOO_LARGE);
            CometServlet.error(resp, 413, "batch body larger than max_batch_bytes (" + maxBytes + ")");
            return;
        }
        List<String> lines = lines(body);
        if (lines.size() > config.maxBatchLines()) {
            stats.addReject(Stats.Reject.TOO_LARGE);
            CometServlet.error(resp, 413, "batch of " + lines.size() + " messages: more than max_batch_lines ("
                    + config.maxBatchLines() + ")");
            return;
        }
        if (lines.isEmpty()) {
            stats.addReject(Stats.Reject.BAD_REQUEST);
            CometServlet.error(resp, 400, "empty batch: send one message per line, e.g. cname=a&content=hello");
            return;
        }
        // every line is checked first; the good ones are then published together (in order, each as
        // if pushed alone: on Redis one round trip for the batch instead of one per line)
        byte[][] answer = new byte[lines.size()][];
        List<Engine.Publish> publishes = new ArrayList<>(lines.size());
        int[] lineOf = new int[lines.size()];
        Map<String, String> params = new HashMap<>();
        for (int i = 0; i < lines.size(); i++) {
            try {
                params.clear();
                Query.parseAll(lines.get(i), params);
                lineOf[publishes.size()] = i;
                publishes.add(servlet.checkPublish(params.get("cname"), params.get("content"), false, params.get("idempotency_key")));
            } catch (BadRequestException e) {
                stats.addReject(Stats.Reject.BAD_REQUEST);
                answer[i] = Messages.error(e.getMessage());
            }
        }
        Object[] outcome = publishes.isEmpty() ? new Object[0] : servlet.broker().publishAll(publishes);
        for (int j = 0; j < outcome.length; j++) {
            answer[lineOf[j]] = outcome[j] instanceof CometException e
                    ? Messages.error(e.reason()) // the broker counted it
                    : CometServlet.published((Integer) outcome[j]);
        }
        ByteArrayOutputStream answers = new ByteArrayOutputStream(lines.size() * 24);
        for (byte[] a : answer) {
            answers.write(a);
            answers.write('\n');
        }
        resp.setStatus(200);
        resp.setContentType("application/x-ndjson; charset=utf-8");
        resp.setHeader("Cache-Control", "no-cache");
        resp.setContentLength(answers.size());
        answers.writeTo(resp.getOutputStream());
    }

    /** The non-empty lines of the body, without their CR. */
    static List<String> lines(String body) {
        List<String> lines = new ArrayList<>();
        int i = 0;
        int n = body.length();
        while (i < n) {
            int nl = body.indexOf('\n', i);
            int end = nl < 0 ? n : nl;
            int stop = end > i && body.charAt(end - 1) == '\r' ? end - 1 : end;
            if (stop > i) {
                lines.add(body.substring(i, stop));
            }
            i = end + 1;
        }
        return lines;
    }

    /** The body as strict UTF-8 (a batch is text: a byte that is not UTF-8 is a 400, not a changed message); null when too long. */
    private static String readBody(HttpServletRequest req, int limit) throws IOException {
        byte[] body = AdminParams.readBody(req, limit);
        if (body == null) {
            return null;
        }
        try {
            return StandardCharsets.UTF_8.newDecoder().onMalformedInput(CodingErrorAction.REPORT)
                    .onUnmappableCharacter(CodingErrorAction.REPORT).decode(ByteBuffer.wrap(body)).toString();
        } catch (CharacterCodingException e) {
            throw new BadRequestException("batch body is not valid UTF-8");
        }
    }
}
