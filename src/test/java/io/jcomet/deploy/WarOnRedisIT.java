package io.jcomet.deploy;

import static org.junit.jupiter.api.Assertions.assertEquals;

import io.jcomet.redis.RedisProcess;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/**
 * The unmodified WAR takes the engine keys on both containers: one node on Tomcat and one on the
 * Jetty base, configured only through JCOMET_* environment variables, share their channels through
 * one redis-server the test starts.
 */
class WarOnRedisIT {
    private static final Path BASEDIR = Path.of(System.getProperty("basedir", ".")).toAbsolutePath();

    @Test
    void aTomcatNodeAndAJettyNodeActAsOneServer() throws Exception {
        RedisProcess.assumeAvailable();
        try (RedisProcess redis = RedisProcess.launch()) {
            Map<String, String> engine = Map.of("JAVA_HOME", System.getProperty("java.home"),
                    "JCOMET_ENGINE", "redis", "JCOMET_REDIS_URI", redis.uri());
            FreePorts.Plan tp = FreePorts.plan(1);
            Map<String, String> tomcatEnv = new java.util.HashMap<>(engine);
            tomcatEnv.putAll(Map.of("TOMCAT_DIST_BASE", BASEDIR.resolve("target/it-tomcat-redis-base").toString(),
                    "TOMCAT_FRONT_HOST", "127.0.0.1", "TOMCAT_FRONT_PORT", String.valueOf(tp.front()),
                    "TOMCAT_ADMIN_PORT", String.valueOf(tp.admin())));
            ServerProcess tomcat = ServerProcess.start("tomcat-redis",
                    List.of(BASEDIR.resolve("bin/tomcat-dist").toString(), "--no-build"), tomcatEnv,
                    BASEDIR.resolve("target/it-logs/tomcat-redis.log"));
            try {
                awaitAdmin(tomcat, tp);
                FreePorts.Plan jp = FreePorts.plan(1);
                ServerProcess jetty = ServerProcess.start("jetty-redis",
                        List.of(BASEDIR.resolve("bin/jetty-dist").toString(), "--no-build",
                                "jetty.http.port=" + jp.admin(), "jcomet.front.port=" + jp.front(),
                                "jcomet.front.count=1", "jcomet.front.host=127.0.0.1"),
                        engine, BASEDIR.resolve("target/it-logs/jetty-redis.log"));
                try {
                    awaitAdmin(jetty, jp);
                    CompletableFuture<HttpResponse<String>> poll = Http.getAsync(jp.front(), "/sub?cname=war&seq=1", Duration.ofSeconds(20));
                    // the Tomcat node counts the subscriber held on the Jetty node
                    tomcat.await("subscriber on jetty seen from tomcat", Duration.ofSeconds(10),
                            () -> {
                                HttpResponse<String> r = Http.tryGet(tp.admin(), "/info?cname=war");
                                return r != null && r.body().contains("\"subscribers\":1");
                            });
                    HttpResponse<String> push = Http.get(tp.admin(), "/push?cname=war&content=from-tomcat");
                    assertEquals("{\"type\":\"ok\",\"seq\":1}\n", push.body());
                    String held = poll.get(10, TimeUnit.SECONDS).body();
                    // the channel's epoch, the same on both nodes: the one Redis holds
                    String epoch = Http.get(tp.front(), "/sub?cname=war&seq=0").body().replaceAll("(?s).*\"epoch\":\"([^\"]+)\".*", "$1");
                    assertEquals(epoch, Http.get(jp.front(), "/sub?cname=war&seq=0").body().replaceAll("(?s).*\"epoch\":\"([^\"]+)\".*", "$1"));
                    assertEquals("{\"type\":\"data\",\"cname\":\"war\",\"seq\":1,\"epoch\":\"" + epoch + "\",\"content\":\"from-tomcat\"}\n", held);
                    assertEquals("{\"type\":\"ok\",\"seq\":2}\n", Http.get(jp.admin(), "/push?cname=war&content=from-jetty").body());
                    // a publish through the other node reaches this node's buffer through Redis a moment
                    // after it was acknowledged: a replay asked for at once may end at seq 1 (the client
                    // then re-polls for seq 2); within the bound it holds both
                    tomcat.await("the Jetty node's message replayed by the Tomcat node", Duration.ofSeconds(10), () -> {
                        HttpResponse<String> replay = Http.tryGet(tp.front(), "/sub?cname=war&seq=1");
                        return replay != null && replay.body().contains("from-tomcat") && replay.body().contains("from-jetty");
                    });
                } finally {
                    jetty.close();
                }
            } finally {
                tomcat.close();
            }
        }
    }

    private static void awaitAdmin(ServerProcess server, FreePorts.Plan ports) throws InterruptedException {
        server.await("admin port answering", Duration.ofSeconds(60), () -> {
            HttpResponse<String> r = Http.tryGet(ports.admin(), "/info");
            return r != null && r.statusCode() == 200;
        });
    }
}
