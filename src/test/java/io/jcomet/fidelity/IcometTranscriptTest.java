package io.jcomet.fidelity;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.jcomet.config.IcometConfReader;
import io.jcomet.launcher.EmbeddedJcomet;
import java.io.IOException;
import java.io.InputStream;
import java.io.StringReader;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Predicate;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

/**
 * jcomet against icomet's own answers: the request sequence of {@code icomet/script.txt} is sent
 * to an embedded jcomet configured by the same {@code icomet/record.conf} icomet 0.2.5 ran with, and
 * every answer is compared with icomet's recorded one ({@code icomet/icomet-0.2.5.transcript},
 * recorded with {@link TranscriptRecorder}; no icomet is needed here).
 *
 * <p>What "agree" means: the same status; the same body once both are normalised (JSON compared as
 * values, not whitespace; the rules below); the same Content-Type where a client depends on it
 * (SSE). Every entry where jcomet deliberately answers otherwise is listed in {@link #DIFFERENCES}
 * with the reason and jcomet's exact answer, and each one is asserted: a difference that is not
 * listed fails the test, and so does a listed one that no longer happens. docs/PROTOCOL.md
 * ("Differences from icomet") is the same list for users.
 *
 * <p>Normalisation, applied to both sides (each a documented difference of its own):
 * <ul>
 * <li>{@code epoch} (jcomet's restart detection) is dropped from every message, and {@code seq} from
 * the {@code {"type":"ok"}} answer of /push and /pub (jcomet tells the publisher the seq);</li>
 * <li>tokens (32 random hex digits) read {@code <token>};</li>
 * <li>SSE: jcomet's {@code retry:} and {@code id:} lines are dropped (they make EventSource resume);</li>
 * <li>iframe: only the {@code <script>parent.cb(...)</script>} frames are compared, not the HTML head;</li>
 * <li>Content-Type is compared only for SSE: elsewhere icomet labels JSON text/html and JSONP
 * application/json, jcomet labels what it sends.</li>
 * </ul>
 */
class IcometTranscriptTest {

    /** A deliberate difference: jcomet's exact (normalised) answer to a request, and why. */
    record Difference(int status, Predicate<String> body, String expected, String reason) {
        static Difference answer(int status, String body, String reason) {
            return new Difference(status, body::equals, body, reason);
        }
    }

    static final String JSON_ERROR = "{\"type\":\"error\",\"reason\":";

    static Difference error(int status, String reason) {
        return new Difference(status, b -> b.startsWith(JSON_ERROR), JSON_ERROR + "...}", reason);
    }

    static Difference jsonpError(int status, String cb, String reason) {
        return new Difference(status, b -> b.startsWith(cb + "(" + JSON_ERROR), cb + "(" + JSON_ERROR + "...})", reason);
    }

    /** Keyed by the script line; the same line always gets the same answer. */
    static final Map<String, Difference> DIFFERENCES = new LinkedHashMap<>();

    static {
        DIFFERENCES.put("GET admin /info", new Difference(200,
                b -> b.startsWith("{\"version\":\"" + io.jcomet.core.Broker.VERSION + "\",\"channels\":1,\"subscribers\":0,"),
                "{\"version\":\"" + io.jcomet.core.Broker.VERSION + "\",\"channels\":1,\"subscribers\":0,...counters}",
                "jcomet's version, and its counters after icomet's three fields; one channel fewer than icomet:"
                        + " the front's seq=0 query made none (see the presence entry)"));
        DIFFERENCES.put("READ ps 800 #6", Difference.answer(-1, "1 p2",
                "a front subscribe with seq=0 asks where the channel is and creates nothing (anonymous clients cannot fill"
                        + " the channel table by asking), so there is no \"1 p3\""));
        DIFFERENCES.put("GET admin /clear?cname=nosuch", error(404, "errors are JSON everywhere (icomet: text 'channel[x] not connected')"));
        DIFFERENCES.put("GET admin /close?cname=nosuch", error(404, "errors are JSON everywhere (icomet: text 'channel[x] not connected')"));
        DIFFERENCES.put("GET admin /push?cname=a", error(400, "missing content is refused (icomet publishes an empty message)"));
        DIFFERENCES.put("GET admin /push?content=no-cname", error(400, "missing cname is refused (icomet publishes to the channel named \"\")"));
        DIFFERENCES.put("GET admin /push?cname=x%0Ay&content=newline-in-name",
                error(400, "control characters in a name are refused (icomet writes them raw into its JSON)"));
        DIFFERENCES.put("GET front /sub?cname=x%0Ay&seq=0&cb=cbx",
                jsonpError(200, "cbx", "control characters in a name are refused, in the caller's transport: JSONP, with"
                        + " HTTP 200 as refusals are, since a browser runs no script sent with a 4xx"));
        DIFFERENCES.put("GET admin /info?cname=a from=127.0.0.12", error(403, "errors are JSON (icomet: empty body)"));
        DIFFERENCES.put("GET admin /info?cname=a from=127.0.2.1", error(403, "errors are JSON (icomet: empty body)"));
        DIFFERENCES.put("GET front /push?cname=a&content=x", error(404, "errors are JSON (icomet: libevent's HTML 404 page)"));
        DIFFERENCES.put("GET admin /sub?cname=a", error(404, "errors are JSON (icomet: libevent's HTML 404 page)"));
        DIFFERENCES.put("POST front /sub?cname=a&seq=0", error(405, "errors are JSON (icomet: empty body)"));
        DIFFERENCES.put("GET front /sub?cname=s2&seq=2&cb=icomet_cb_0", Difference.answer(200,
                "icomet_cb_0({\"type\":\"data\",\"cname\":\"s2\",\"seq\":2,\"content\":\"m2\"})",
                "an icomet-style JSONP long-poll (cb, no epoch) gets one message per answer: icomet.js stops polling for good after an array"));
        DIFFERENCES.put("GET front /sub?cname=s3&seq=1&cb=icomet_cb_0", Difference.answer(200,
                "icomet_cb_0({\"type\":\"data\",\"cname\":\"s3\",\"seq\":6,\"content\":\"6\"})",
                "one message per JSONP answer (see above)"));
        DIFFERENCES.put("GET front /sub?cname=s3&seq=1", new Difference(200,
                b -> b.startsWith("[{\"type\":\"data\",\"cname\":\"s3\",\"seq\":") && count(b, "\"type\":\"data\"") == 10,
                "[the last 10 messages]",
                "the buffer holds exactly channel_buffer_size messages (icomet keeps up to 1.5 times as many between trims)"));
        DIFFERENCES.put("AWAIT c2 1000", Difference.answer(200,
                "[{\"type\":\"gap\",\"cname\":\"g3\",\"from\":1,\"to\":2,\"content\":\"\"},{\"type\":\"data\",\"cname\":\"g3\",\"seq\":3,\"content\":\"c\"}]",
                "a jcomet client (epoch parameter) is told what it lost with gap; icomet has no gap"));
        DIFFERENCES.put("AWAIT b1 3000", Difference.answer(200,
                "{\"type\":\"broadcast\",\"cname\":\"g3\",\"seq\":4,\"content\":\"hello-all\"}",
                "no next_seq after a broadcast: a broadcast takes a seq in each channel as a data message does"
                        + " (icomet's extra next_seq is for clients that did not count broadcasts, and the array stalls icomet.js)"));
        String oneReplayed = "a replay of exactly one message is that message, not a one-element array (as icomet answers a held"
                + " request; icomet.js stops polling after any array)";
        DIFFERENCES.put("GET front /sub?CNAME=ci&SEQ=1", Difference.answer(200,
                "{\"type\":\"data\",\"cname\":\"ci\",\"seq\":1,\"content\":\"upper\"}", oneReplayed));
        DIFFERENCES.put("GET front /sub?cname=%E8%81%8A%E5%A4%A9&seq=1", Difference.answer(200,
                "{\"type\":\"data\",\"cname\":\"聊天\",\"seq\":1,\"content\":\"zh\"}", oneReplayed));
        DIFFERENCES.put("GET front /sub?cname=aGk%2B%2Fw%3D%3D&seq=1&cb=cbx", Difference.answer(200,
                "cbx({\"type\":\"data\",\"cname\":\"aGk+/w==\",\"seq\":1,\"content\":\"b64\"})", oneReplayed));
        DIFFERENCES.put("GET admin /check?cname=a&cb=cbx", Difference.answer(200, "cbx({\"a\":1})",
                "cb makes every admin answer JSONP (icomet: only /push, /pub and /sign)"));
        DIFFERENCES.put("PUT admin /push?cname=zz&content=put", Difference.answer(200, "{\"type\":\"ok\"}",
                "every admin endpoint takes any method (icomet: /push and /pub GET or POST only)"));
        DIFFERENCES.put("POST admin /broadcast?content=posted", Difference.answer(200, "ok",
                "every admin endpoint takes any method (icomet: /broadcast GET only)"));
    }

    static int count(String s, String part) {
        int n = 0;
        for (int i = s.indexOf(part); i >= 0; i = s.indexOf(part, i + 1)) {
            n++;
        }
        return n;
    }

    /** The auth=token recording: everything agrees but the one-message replay. */
    static final Map<String, Difference> TOKEN_DIFFERENCES = Map.of(
            "GET front /sub?cname=t1&seq=1&token={token}", Difference.answer(200,
                    "{\"type\":\"data\",\"cname\":\"t1\",\"seq\":1,\"content\":\"secret\"}",
                    "a replay of exactly one message is that message, not a one-element array"));

    @Test
    void jcometAnswersTheRecordedSequenceAsIcometDid() throws Exception {
        int agreed = compare("icomet/script.txt", "icomet/icomet-0.2.5.transcript", "icomet/record.conf", DIFFERENCES);
        assertTrue(agreed > 80, "most answers are icomet's: " + agreed);
    }

    @Test
    void withAuthTokenJcometAnswersAsIcometDid() throws Exception {
        int agreed = compare("icomet/script-token.txt", "icomet/icomet-0.2.5-token.transcript", "icomet/record-token.conf",
                TOKEN_DIFFERENCES);
        assertTrue(agreed >= 10, "401 in a 200 on every transport, sign, the right token: " + agreed);
    }

    /** Records jcomet with the script under the conf and compares with icomet's transcript; returns the identical answers. */
    static int compare(String scriptName, String transcriptName, String confName, Map<String, Difference> differences)
            throws Exception {
        return compare(scriptName, transcriptName, confName, differences, null);
    }

    /**
     * As {@link #compare(String, String, String, Map)}; with {@code redisUri} two nodes on that Redis
     * answer (engine=redis): admin requests go to one, front requests to the other.
     */
    static int compare(String scriptName, String transcriptName, String confName, Map<String, Difference> differences,
            String redisUri) throws Exception {
        String script = resource(scriptName);
        List<Entry> icomet = Entry.parse(resource(transcriptName));
        Map<String, String> conf = new LinkedHashMap<>(IcometConfReader.parse(
                new StringReader(resource(confName)), confName).values());
        if (redisUri != null) {
            conf.put("engine", "redis");
            conf.put("redis_uri", redisUri);
        }
        String transcript;
        try (EmbeddedJcomet admin = start(conf); EmbeddedJcomet front = redisUri == null ? null : start(conf)) {
            transcript = new TranscriptRecorder("127.0.0.1", admin.adminPort(), (front == null ? admin : front).frontPort(0))
                    .run(script);
        }
        List<Entry> jcomet = Entry.parse(transcript);
        assertEquals(icomet.size(), jcomet.size(), "both transcripts come from the same script");

        List<String> problems = new ArrayList<>();
        int agreed = 0;
        java.util.Set<String> used = new java.util.HashSet<>();
        for (int i = 0; i < icomet.size(); i++) {
            Entry ic = icomet.get(i);
            Entry jc = jcomet.get(i);
            assertEquals(ic.request, jc.request);
            // a difference for one occurrence of a request line that the script repeats: "<line> #<entry>"
            Difference d = differences.get(ic.request + " #" + ic.number);
            String key = d != null ? ic.request + " #" + ic.number : ic.request;
            if (d == null) {
                d = differences.get(ic.request);
            }
            String where = "#" + ic.number + " " + ic.request;
            if (d != null) {
                used.add(key);
                String body = normalise(jc.body);
                if (jc.status != d.status || !d.body.test(body)) {
                    problems.add(where + ": documented difference (" + d.reason + ") expects " + d.status + " " + d.expected
                            + "\n      jcomet: " + jc.status + " " + body);
                }
                continue;
            }
            String icBody = normalise(ic.body);
            String jcBody = normalise(jc.body);
            boolean same = ic.status == jc.status && icBody.equals(jcBody) && ic.finalNewline == jc.finalNewline;
            String ct = ic.headers.get("content-type");
            if (ct != null && ct.startsWith("text/event-stream")) {
                same &= ct.equals(jc.headers.get("content-type"))
                        && ic.headers.get("access-control-allow-origin").equals(jc.headers.get("access-control-allow-origin"));
            }
            if (same) {
                agreed++;
            } else {
                problems.add(where + "\n      icomet: " + ic.status + " " + icBody + (ic.finalNewline ? "" : " (no final newline)")
                        + "\n      jcomet: " + jc.status + " " + jcBody + (jc.finalNewline ? "" : " (no final newline)")
                        + "  " + jc.headers);
            }
        }
        for (String k : differences.keySet()) {
            if (!used.contains(k)) {
                problems.add("documented difference for a request the script no longer sends: " + k);
            }
        }
        System.out.println("[icomet transcript " + transcriptName + "] " + icomet.size() + " entries: " + agreed
                + " identical after normalisation, " + (icomet.size() - agreed) + " with a documented difference ("
                + used.size() + " distinct requests)");
        if (!problems.isEmpty()) {
            fail(problems.size() + " answers differ from icomet's without a documented reason:\n  " + String.join("\n  ", problems)
                    + "\n\njcomet transcript:\n" + transcript);
        }
        return agreed;
    }

    private static EmbeddedJcomet start(Map<String, String> conf) throws Exception {
        EmbeddedJcomet.Builder b = EmbeddedJcomet.builder().host("127.0.0.1").adminPort(0).frontPorts(0, 1);
        conf.forEach((k, v) -> {
            if (!k.endsWith("_port") && !k.endsWith("_host")) {
                b.set(k, v);
            }
        });
        return b.start();
    }

    // ------------------------------------------------------------------ normalisation

    private static final Pattern JSONP = Pattern.compile("^([A-Za-z_$][\\w.$]*)\\((.*)\\);?$", Pattern.DOTALL);
    private static final Pattern IFRAME_FRAME = Pattern.compile("<script>parent\\.([\\w.$]+)\\((.*?)\\);</script>");
    private static final Pattern TOKEN = Pattern.compile("\"[0-9a-f]{32}\"");

    /** The body as comparable text: see the class comment. */
    static String normalise(String body) {
        if (body == null) {
            return "(no answer)";
        }
        List<String> frames = new ArrayList<>();
        if (body.contains("<script>parent.")) {
            Matcher m = IFRAME_FRAME.matcher(body);
            while (m.find()) {
                frames.add("parent." + m.group(1) + "(" + json(m.group(2)) + ")");
            }
        } else if (body.startsWith("data: ") || body.startsWith("retry:") || body.startsWith("id:")) {
            for (String line : body.split("\n")) {
                if (line.startsWith("data: ")) {
                    frames.add("data: " + json(line.substring(6)));
                }
            }
        } else {
            for (String line : body.split("\n")) {
                if (line.isEmpty()) {
                    continue;
                }
                Matcher m = JSONP.matcher(line);
                if (m.matches() && (m.group(2).startsWith("{") || m.group(2).startsWith("[") || m.group(2).startsWith("\""))) {
                    frames.add(m.group(1) + "(" + json(m.group(2)) + ")");
                } else {
                    frames.add(json(line));
                }
            }
        }
        return String.join("\n", frames);
    }

    /** Key order kept, and a text with anything after its JSON value is not JSON. */
    private static final ObjectMapper MAPPER = new ObjectMapper().enable(DeserializationFeature.FAIL_ON_TRAILING_TOKENS);

    /** JSON re-serialised compactly without jcomet's extra fields; anything that is not JSON as it is. */
    static String json(String text) {
        JsonNode v;
        try {
            v = MAPPER.readTree(text);
        } catch (JsonProcessingException e) {
            return text;
        }
        if (v == null || v.isMissingNode()) {
            return text;
        }
        strip(v);
        return TOKEN.matcher(v.toString()).replaceAll("\"<token>\"");
    }

    /** Drops what jcomet adds on purpose (see the class comment), at every depth. */
    private static void strip(JsonNode v) {
        if (v instanceof ObjectNode m) {
            m.remove("epoch");
            if ("ok".equals(m.path("type").asText(null))) {
                m.remove("seq");
            }
        }
        v.forEach(IcometTranscriptTest::strip);
    }

    static String resource(String name) throws IOException {
        try (InputStream in = IcometTranscriptTest.class.getClassLoader().getResourceAsStream(name)) {
            if (in == null) {
                throw new IOException("missing test resource " + name);
            }
            return new String(in.readAllBytes(), StandardCharsets.UTF_8);
        }
    }

    /** One recorded answer. */
    static final class Entry {
        int number;
        String request;
        int status = -1;
        final Map<String, String> headers = new LinkedHashMap<>();
        String body;            // body or stream data; null when no answer came
        boolean finalNewline = true;

        static List<Entry> parse(String transcript) {
            List<Entry> out = new ArrayList<>();
            Entry e = null;
            for (String line : transcript.split("\n")) {
                if (line.startsWith("#")) {
                    e = new Entry();
                    e.number = Integer.parseInt(line.substring(1, line.indexOf(' ')));
                    out.add(e);
                } else if (line.startsWith("> ")) {
                    e.request = line.substring(2);
                } else if (line.startsWith("status ")) {
                    e.status = Integer.parseInt(line.substring(7));
                } else if (line.startsWith("body ") || line.startsWith("data ")) {
                    e.body = TranscriptRecorder.unescape(line.substring(5));
                    e.finalNewline = e.body.isEmpty() || e.body.endsWith("\n");
                } else if (line.startsWith("no answer")) {
                    e.body = null;
                } else {
                    int colon = line.indexOf(": ");
                    e.headers.put(line.substring(0, colon), line.substring(colon + 2));
                }
            }
            for (Entry x : out) {
                if (x.status != -1 && x.body == null && !x.request.startsWith("OPEN")) {
                    x.body = "";
                }
                if (x.request.startsWith("OPEN")) {
                    x.body = "";
                }
            }
            return out;
        }
    }
}
