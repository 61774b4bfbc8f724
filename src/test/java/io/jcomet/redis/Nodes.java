package io.jcomet.redis;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.jcomet.support.TestServer;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/** Helpers for tests with several jcomet nodes on one Redis. */
final class Nodes {
    static final ObjectMapper JSON = new ObjectMapper();
    private static final Pattern OBJECT = Pattern.compile("\\{\"[^{}]*\\}");

    private Nodes() {}

    /** A node on {@code engine=redis} with the given extra settings. */
    static TestServer node(String redisUri, String... keyValues) throws Exception {
        List<String> kv = new ArrayList<>(List.of("engine", "redis", "redis_uri", redisUri));
        kv.addAll(List.of(keyValues));
        return TestServer.start(kv.toArray(new String[0]));
    }

    /** Subscribers held on {@code cname} on this node only. */
    static int heldHere(TestServer node, String cname) {
        return Math.max(0, node.server.broker().localSubscribers(cname));
    }

    /** Every JSON object in a response body (stream lines, SSE data, iframe script calls, poll arrays). */
    static List<JsonNode> messages(String body) throws Exception {
        List<JsonNode> out = new ArrayList<>();
        Matcher m = OBJECT.matcher(body);
        while (m.find()) {
            out.add(JSON.readTree(m.group()));
        }
        return out;
    }

    /** The data messages among them. */
    static List<JsonNode> data(String body) throws Exception {
        List<JsonNode> out = new ArrayList<>();
        for (JsonNode n : messages(body)) {
            if ("data".equals(n.path("type").asText())) {
                out.add(n);
            }
        }
        return out;
    }

    static String push(TestServer node, String cname, String content) throws Exception {
        TestServer.Response r = node.admin("/push?cname=" + cname + "&content=" + content);
        if (r.status() != 200) {
            throw new AssertionError("push to " + cname + " answered " + r.status() + " " + r.body());
        }
        return r.body();
    }

    static int pushSeq(TestServer node, String cname, String content) throws Exception {
        return JSON.readTree(push(node, cname, content)).get("seq").asInt();
    }
}
