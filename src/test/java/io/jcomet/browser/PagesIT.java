package io.jcomet.browser;

import static io.jcomet.browser.BrowserIT.await;
import static io.jcomet.browser.BrowserIT.js;
import static io.jcomet.browser.BrowserIT.strings;
import static io.jcomet.browser.BrowserIT.text;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.jcomet.launcher.EmbeddedJcomet;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * The bundled pages (index.html, status.html, chat.html) in a development server (demo and front
 * stats on, as mvn jetty:run) and in a production one (both off, the defaults of jetty-base, the
 * release and Tomcat): the same nav on every page, the chat link only where the demo runs, a
 * status page that says why it has no live counters instead of a red error, the WebSocket tile,
 * the open-files tile, and a favicon.
 *
 * <p>Threads: JUnit's thread drives the shared browser; the servers run their own.
 */
class PagesIT extends OneBrowserPerClass {
    static final List<String> NAV = List.of("About", "Chat demo", "Live status", "jcomet.js");
    static final HttpClient HTTP = HttpClient.newHttpClient();

    static EmbeddedJcomet start(boolean development) throws Exception {
        return EmbeddedJcomet.builder().host("127.0.0.1").adminPort(0).frontPorts(0, 1)
                .set("demo", String.valueOf(development)).set("front_stats", String.valueOf(development)).start();
    }

    static List<String> visibleNav() {
        return strings(js(browser, "return Array.prototype.filter.call(document.querySelectorAll('header nav a'),"
                + " function (a) { return !a.hidden; }).map(function (a) { return a.textContent; })"));
    }

    @ParameterizedTest(name = "{0}")
    @ValueSource(strings = {"index.html", "status.html", "chat.html"})
    void everyPageHasTheSameNavMarksItsOwnLinkAndShowsTheChatWhereTheDemoRuns(String page) throws Exception {
        try (EmbeddedJcomet s = start(true)) {
            browser.get("http://127.0.0.1:" + s.frontPort(0) + "/" + page);
            await("the nav with the demo link", PagesIT::visibleNav, NAV::equals);
            assertEquals(List.of(page.equals("index.html") ? "About" : page.equals("chat.html") ? "Chat demo" : "Live status"),
                    strings(js(browser, "return Array.prototype.map.call(document.querySelectorAll('header nav a.here'), function (a) { return a.textContent; })")));
        }
    }

    @Test
    void aProductionServerHasNoChatLinkAndItsStatusPageSaysWhyThereAreNoCounters() throws Exception {
        try (EmbeddedJcomet s = start(false)) {
            String front = "http://127.0.0.1:" + s.frontPort(0);
            browser.get(front + "/index.html");
            await("the demo probe answered", () -> (String) js(browser, "return document.documentElement.getAttribute('data-demo')"), "off"::equals);
            assertEquals(List.of("About", "Live status", "jcomet.js"), visibleNav(), "no link to a chat that is a 404 here");

            browser.get(front + "/status.html");
            await("the explanation", () -> text(browser, "off"), t -> t.contains("front_stats"));
            assertTrue(text(browser, "off-reason").contains("front_stats is off"), text(browser, "off-reason"));
            String badge = text(browser, "conn");
            assertEquals("no live counters on this server", badge);
            assertFalse((Boolean) js(browser, "return document.getElementById('conn').classList.contains('error')"), "not shown as an error");
        }
    }

    @Test
    void statusPageShowsWebSocketsAndNoTextAsTheOpenFilesValue() throws Exception {
        try (EmbeddedJcomet s = start(true)) {
            browser.get("http://127.0.0.1:" + s.frontPort(0) + "/status.html");
            await("counters", () -> text(browser, "v-held-ws"), t -> t.matches("[0-9,]+"));
            assertEquals("-", text(browser, "v-fds"), "the front /stats has no fd count: no value, not a sentence");
            assertEquals("counted by admin /info only", text(browser, "v-fds-sub"));
        }
    }

    @Test
    void indexListsWebSocketAmongTheTransports() throws Exception {
        try (EmbeddedJcomet s = start(true)) {
            browser.get("http://127.0.0.1:" + s.frontPort(0) + "/index.html");
            assertTrue(strings(js(browser, "return Array.prototype.map.call(document.querySelectorAll('#try-transport option'), function (o) { return o.value; })"))
                    .contains("ws"));
            assertTrue(text(browser, "try-transport").contains("WebSocket"));
        }
    }

    @Test
    void faviconIsServed() throws Exception {
        try (EmbeddedJcomet s = start(false)) {
            HttpResponse<byte[]> r = HTTP.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + s.frontPort(0) + "/favicon.ico")).build(),
                    HttpResponse.BodyHandlers.ofByteArray());
            assertEquals(200, r.statusCode());
            assertTrue(r.headers().firstValue("Content-Type").orElse("").startsWith("image/"), r.headers().toString());
            byte[] b = r.body();
            assertTrue(b.length > 6 && b[0] == 0 && b[1] == 0 && b[2] == 1 && b[3] == 0, "an ICO file");
        }
    }

    /**
     * Chat presence: a browser that closes (the whole browser, not a tab: no page script gets to
     * send a leave) disappears from the others' "Online" list within the presence timeout, not after
     * half a minute. Bound: chat.html's heartbeat period and the server's expiry, plus the sweep.
     */
    @Test
    void aClosedBrowserLeavesTheChatsOnlineListSoon() throws Exception {
        try (EmbeddedJcomet s = start(true)) {
            String front = "http://127.0.0.1:" + s.frontPort(0);
            org.openqa.selenium.WebDriver bob = Chromium.open();
            try {
                browser.get(front + "/chat.html?room=p1&name=alice&join=1");
                bob.get(front + "/chat.html?room=p1&name=bob&join=1");
                await("alice sees bob", () -> strings(js(browser, "return window.chat.online")), l -> l.contains("bob") && l.contains("alice"));
            } finally {
                Chromium.close(bob);
            }
            long closed = System.nanoTime();
            await("bob gone from alice's list", () -> strings(js(browser, "return window.chat.online")), l -> !l.contains("bob"));
            long millis = (System.nanoTime() - closed) / 1_000_000;
            System.out.println("PagesIT: a closed browser left the online list after " + millis + " ms");
            assertTrue(millis < 16_000, "left after " + millis + " ms"); // the 12 s presence timeout, its 1 s sweep, slack
        }
    }

    /** A page that is left (closed tab, navigation) says so at once: it sends a leave as it goes. */
    @Test
    void aPageThatIsLeftLeavesTheChatsOnlineListAtOnce() throws Exception {
        try (EmbeddedJcomet s = start(true)) {
            String front = "http://127.0.0.1:" + s.frontPort(0);
            org.openqa.selenium.WebDriver bob = Chromium.open();
            try {
                browser.get(front + "/chat.html?room=p2&name=alice&join=1");
                bob.get(front + "/chat.html?room=p2&name=bob&join=1");
                await("alice sees bob", () -> strings(js(browser, "return window.chat.online")), l -> l.contains("bob") && l.contains("alice"));
                long left = System.nanoTime();
                bob.get("about:blank");
                await("bob gone from alice's list", () -> strings(js(browser, "return window.chat.online")), l -> !l.contains("bob"));
                long millis = (System.nanoTime() - left) / 1_000_000;
                System.out.println("PagesIT: a page that was left left the online list after " + millis + " ms");
                assertTrue(millis < 3000, "left after " + millis + " ms");
            } finally {
                Chromium.close(bob);
            }
        }
    }
}
