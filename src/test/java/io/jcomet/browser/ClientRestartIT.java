package io.jcomet.browser;

import io.jcomet.config.JcometConfig;
import io.jcomet.launcher.EmbeddedJcomet;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.util.ArrayList;
import java.util.List;

import static io.jcomet.browser.BrowserIT.await;
import static io.jcomet.browser.BrowserIT.awaitSubscribers;
import static io.jcomet.browser.BrowserIT.js;
import static io.jcomet.browser.BrowserIT.push;
import static io.jcomet.browser.BrowserIT.strings;
import static io.jcomet.browser.BrowserIT.subscribers;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * jcomet.js across a server restart in real Chromium, from what a page that resumes from a stored
 * seq relies on: a page subscribed with {@code seq: 1} (as chat.html is) learns the channel's epoch
 * from the messages themselves, so after the restart it asks the new server for its buffer instead of
 * resuming at the old seq; messages published before the page got back are shown (or reported through
 * onGap/'restarted'), never skipped. One server per test, restarted on the same ports.
 *
 * <p>Threads: JUnit's thread drives the browser and the servers; the servers' threads are Jetty's.
 */
class ClientRestartIT extends OneBrowserPerClass {

    static EmbeddedJcomet start(int adminPort, int frontPort) throws Exception {
        EmbeddedJcomet.Builder b = EmbeddedJcomet.builder().host("127.0.0.1").adminPort(adminPort).frontPorts(frontPort, 1)
                .set("polling_timeout", "5");
        if (JcometConfig.KEYS.containsKey("demo")) {
            b.set("demo", "true"); // chat.html and /demo/chat are served only when asked
        }
        return b.start();
    }

    static List<String> contents() {
        return strings(js(browser, "return window.rt.msgs"));
    }

    @ParameterizedTest(name = "transport {0}")
    @ValueSource(strings = {"poll", "sse", "jsonp"})
    void pageResumingFromAStoredSeqGetsWhatTheRestartedServerWasSent(String transport) throws Exception {
        EmbeddedJcomet s = start(0, 0);
        int adminPort = s.adminPort();
        int frontPort = s.frontPort(0);
        String f = "http://127.0.0.1:" + frontPort;
        String a = "http://127.0.0.1:" + adminPort;
        String cname = "resume-" + transport;
        try {
            push(a, cname, "first");
            push(a, cname, "second");
            browser.get(f + "/index.html"); // loads jcomet.js; subscribes only when told
            js(browser, "window.rt = { msgs: [], gaps: [], statuses: [] };"
                    + "window.rt.sub = new JComet.Subscription({ url: '', channel: arguments[0], transport: arguments[1], seq: 1,"
                    + "  onMessage: function (c) { window.rt.msgs.push(c); },"
                    + "  onGap: function (g) { window.rt.gaps.push(g.from + '..' + g.to + ' ' + g.reason); },"
                    + "  onStatus: function (st) { window.rt.statuses.push(st); } }).start();", cname, transport);
            await("the buffered history from seq 1", ClientRestartIT::contents, l -> l.size() >= 2);
            awaitSubscribers(a, cname, 1);
            assertTrue(js(browser, "return window.rt.sub.epoch") != null, "the epoch came with the data messages");

            BrowserIT.stop(s);
            s = start(adminPort, frontPort);
            int back = subscribers(a, cname);
            push(a, cname, "after restart 1");
            push(a, cname, "after restart 2 😀");
            System.err.println("[browser test] resume/" + transport + ": subscribers on the new server when the pushes went"
                    + " out: " + back + " (0 = the page replays them from the new buffer)");

            List<String> got = await("messages around the restart", ClientRestartIT::contents, l -> l.size() >= 4);
            List<String> gaps = strings(js(browser, "return window.rt.gaps"));
            assertEquals(List.of("first", "second", "after restart 1", "after restart 2 😀"), got,
                    "shown, not skipped (gaps reported: " + gaps + ")");
            assertTrue(strings(js(browser, "return window.rt.statuses")).contains("restarted"), "the page was told of the restart");
            push(a, cname, "later");
            got = await("a message after the reconnect", ClientRestartIT::contents, l -> l.size() >= 5);
            assertEquals("later", got.get(4));
            assertEquals(5, got.size(), "nothing twice: " + got);
            assertEquals(List.of(), gaps);
        } finally {
            browser.get("about:blank");
            BrowserIT.stop(s);
        }
    }

    @Test
    void chatRestartedMidConversationShowsEveryLine() throws Exception {
        EmbeddedJcomet s = start(0, 0);
        int adminPort = s.adminPort();
        int frontPort = s.frontPort(0);
        String f = "http://127.0.0.1:" + frontPort;
        String a = "http://127.0.0.1:" + adminPort;
        try {
            browser.get(f + "/chat.html?room=rr&name=alice&transport=poll&join=1");
            awaitSubscribers(a, "demo.chat-rr", 1);
            say("one");
            say("two");
            await("two lines", ClientRestartIT::lines, l -> l.size() >= 2);

            BrowserIT.stop(s);
            s = start(adminPort, frontPort);
            // bob (another server-side sender) goes on talking while alice's page reconnects
            push(a, "demo.chat-rr", "{\"kind\":\"chat\",\"name\":\"bob\",\"text\":\"while you were away\",\"ts\":1}");
            push(a, "demo.chat-rr", "{\"kind\":\"chat\",\"name\":\"bob\",\"text\":\"still here?\",\"ts\":2}");
            await("bob's lines", ClientRestartIT::lines, l -> l.size() >= 4);
            say("three");
            List<String> got = await("alice's line after the restart", ClientRestartIT::lines, l -> l.size() >= 5);
            assertEquals(List.of("alice: one", "alice: two", "bob: while you were away", "bob: still here?", "alice: three"), got);
            assertTrue(((String) js(browser, "return document.getElementById('messages').textContent")).contains("(server restarted)"),
                    "the page says the server restarted");
        } finally {
            browser.get("about:blank");
            BrowserIT.stop(s);
        }
    }

    static List<String> lines() {
        return new ArrayList<>(strings(js(browser,
                "return window.chat.lines.map(function (l) { return l.name + ': ' + l.text; })")));
    }

    static void say(String text) {
        await("text box enabled", () -> (Boolean) js(browser, "return !document.getElementById('text').disabled"), b -> b);
        js(browser, "document.getElementById('text').value = arguments[0]; document.getElementById('send').click();", text);
        await("sent", () -> (String) js(browser, "return document.getElementById('text').value"), String::isEmpty);
    }
}
