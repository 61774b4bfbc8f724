package io.jcomet.servlet;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.jcomet.protocol.Framing;
import io.jcomet.protocol.Transport;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Set;
import java.util.TreeSet;
import java.util.stream.Collectors;
import javax.xml.parsers.DocumentBuilderFactory;
import org.junit.jupiter.api.Test;
import org.w3c.dom.Document;
import org.w3c.dom.Element;
import org.w3c.dom.NodeList;

/**
 * The route table in {@link CometServlet.Route} is the one list of endpoints. web.xml cannot be
 * generated from it at run time, so this test fails when the servlet's url-patterns in web.xml and
 * the table differ (a path added to one and not the other would be a 404 or a route nobody reaches).
 *
 * <p>Threads: JUnit's test thread only.
 */
class RoutesTest {

    private static final Path WEB_XML = Path.of(System.getProperty("basedir", "."), "webapp/WEB-INF/web.xml");
    /** Where the container's 400 error page is dispatched: mapped to the servlet, not a route. */
    private static final String ERROR_PAGE = "/jcomet-error";

    @Test
    void webXmlMapsTheServletToExactlyTheTablesPaths() throws Exception {
        Set<String> mapped = cometUrlPatterns();
        assertTrue(mapped.remove(ERROR_PAGE), "web.xml maps the error page " + ERROR_PAGE + " to the servlet");
        Set<String> table = Arrays.stream(CometServlet.Route.values()).map(r -> r.path).collect(Collectors.toCollection(TreeSet::new));
        assertEquals(table, mapped, "web.xml's url-patterns for the comet servlet must be the route table's paths");
    }

    @Test
    void everyPathFindsItsRouteAndNothingElseDoes() {
        for (CometServlet.Route r : CometServlet.Route.values()) {
            assertSame(r, CometServlet.Route.of(r.path));
        }
        assertNull(CometServlet.Route.of(ERROR_PAGE));
        assertNull(CometServlet.Route.of("/js/jcomet.js"));
        assertNull(CometServlet.Route.of("/SUB"));
    }

    @Test
    void subscriptionsAreFrontRoutesWithTheirTransportAndFraming() {
        assertEquals(Transport.POLL, CometServlet.Route.SUB.transport);
        assertEquals(Transport.POLL, CometServlet.Route.POLL.transport);
        assertEquals(Transport.STREAM, CometServlet.Route.STREAM.transport);
        assertEquals(Transport.SSE, CometServlet.Route.SSE.transport);
        assertEquals(Transport.IFRAME, CometServlet.Route.IFRAME.transport);
        for (CometServlet.Route r : CometServlet.Route.values()) {
            if (r.framing != null) {
                assertFalse(r.admin, r + " subscribes: front only");
                assertNotNull(r.transport, r.name());
            }
        }
        assertEquals("text/event-stream; charset=utf-8", CometServlet.Route.SSE.framing.apply(null).contentType());
        assertEquals("text/html; charset=utf-8", CometServlet.Route.IFRAME.framing.apply("cb").contentType());
        assertEquals(CometServlet.Side.ADMIN_STREAM, CometServlet.Route.PSUB.side, "/psub reads no admin parameters");
        assertTrue(CometServlet.Route.METRICS.admin);
    }

    @Test
    void onlyAPlainJsonLongPollIsRefusedWithItsHttpStatus() {
        // a browser drops a JSONP script, an iframe page or an event stream sent with a 4xx
        assertTrue(CometServlet.Route.SUB.framing.apply(null).refusalCarriesStatus());
        assertFalse(CometServlet.Route.SUB.framing.apply("cb").refusalCarriesStatus());
        assertFalse(CometServlet.Route.IFRAME.framing.apply(null).refusalCarriesStatus());
        assertFalse(CometServlet.Route.STREAM.framing.apply(null).refusalCarriesStatus());
        assertFalse(CometServlet.Route.SSE.framing.apply(null).refusalCarriesStatus());
        assertFalse(Framing.plainLines().refusalCarriesStatus());
    }

    private static Set<String> cometUrlPatterns() throws Exception {
        DocumentBuilderFactory f = DocumentBuilderFactory.newInstance();
        f.setNamespaceAware(false);
        Document doc = f.newDocumentBuilder().parse(WEB_XML.toFile());
        Set<String> patterns = new TreeSet<>();
        NodeList mappings = doc.getElementsByTagName("servlet-mapping");
        for (int i = 0; i < mappings.getLength(); i++) {
            Element m = (Element) mappings.item(i);
            if (!"comet".equals(m.getElementsByTagName("servlet-name").item(0).getTextContent().trim())) {
                continue;
            }
            NodeList urls = m.getElementsByTagName("url-pattern");
            for (int j = 0; j < urls.getLength(); j++) {
                assertTrue(patterns.add(urls.item(j).getTextContent().trim()), "mapped twice: " + urls.item(j).getTextContent());
            }
        }
        return patterns;
    }
}
