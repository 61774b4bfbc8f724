package io.jcomet.fidelity;

import static org.junit.jupiter.api.Assertions.assertTrue;

import io.jcomet.redis.RedisProcess;
import java.util.LinkedHashMap;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * icomet's recorded request sequences ({@link IcometTranscriptTest}) sent to two jcomet nodes on one
 * real redis-server: admin requests (push, sign, close, /psub, ...) to one node, front requests to
 * the other, so every answer icomet gave from one process must come from the cluster. The only
 * differences allowed are the one-node ones, plus those docs/PROTOCOL.md lists under "Several nodes
 * (engine=redis) against one node", each below with its reason.
 */
class IcometTranscriptOnRedisIT {

    /** One node's differences, with what several nodes answer otherwise. */
    static Map<String, IcometTranscriptTest.Difference> onRedis(Map<String, IcometTranscriptTest.Difference> oneNode) {
        Map<String, IcometTranscriptTest.Difference> d = new LinkedHashMap<>(oneNode);
        if (d.containsKey("GET admin /info")) {
            String head = "{\"version\":\"" + io.jcomet.core.Broker.VERSION + "\",\"channels\":0,\"subscribers\":0,";
            d.put("GET admin /info", new IcometTranscriptTest.Difference(200, b -> b.startsWith(head), head + "...counters}",
                    "the global /info describes the node asked, and the admin node holds no channel: channels live in"
                            + " Redis and on the nodes that serve them"));
        }
        if (d.containsKey("READ ps 800 #6")) {
            d.put("READ ps 4200", IcometTranscriptTest.Difference.answer(-1, "1 p1",
                    "\"1 <cname>\" is repeated every channel_timeout by the nodes that hold the channel; no node holds p1,"
                            + " which was only signed"));
        }
        return d;
    }

    @Test
    void twoNodesOnRedisAnswerTheRecordedSequenceAsIcometDid() throws Exception {
        RedisProcess.assumeAvailable();
        try (RedisProcess redis = RedisProcess.launch()) {
            int agreed = IcometTranscriptTest.compare("icomet/script.txt", "icomet/icomet-0.2.5.transcript", "icomet/record.conf",
                    onRedis(IcometTranscriptTest.DIFFERENCES), redis.uri());
            assertTrue(agreed > 80, "most answers are icomet's: " + agreed);
        }
    }

    @Test
    void twoNodesOnRedisWithAuthTokenAnswerAsIcometDid() throws Exception {
        RedisProcess.assumeAvailable();
        try (RedisProcess redis = RedisProcess.launch()) {
            int agreed = IcometTranscriptTest.compare("icomet/script-token.txt", "icomet/icomet-0.2.5-token.transcript",
                    "icomet/record-token.conf", onRedis(IcometTranscriptTest.TOKEN_DIFFERENCES), redis.uri());
            assertTrue(agreed >= 10, "401 in a 200 on every transport, sign, the right token: " + agreed);
        }
    }
}
