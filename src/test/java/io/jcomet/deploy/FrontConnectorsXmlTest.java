package io.jcomet.deploy;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.io.ByteArrayInputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.IntStream;

import javax.xml.parsers.DocumentBuilderFactory;

import org.junit.jupiter.api.Test;
import org.w3c.dom.Document;
import org.w3c.dom.Element;
import org.w3c.dom.NodeList;

/**
 * The committed front-connector XML files are exactly what {@link FrontConnectorsXml} generates, and
 * they describe the ports operators and {@code mvn jetty:run} users are told about. A failure here
 * means someone edited a generated file by hand or changed the generator without re-running it
 * ({@link JettyFiles#COMMAND}).
 *
 * <p>Threads: JUnit's test thread only.
 */
class FrontConnectorsXmlTest {

    private static final Path ROOT = Path.of(System.getProperty("basedir", "."));

    @Test
    void committedFilesAreTheGeneratedOutput() throws Exception {
        assertEquals(FrontConnectorsXml.base(), read(FrontConnectorsXml.BASE_PATH),
                FrontConnectorsXml.BASE_PATH + " differs from the generator: regenerate it");
        assertEquals(FrontConnectorsXml.dev(), read(FrontConnectorsXml.DEV_PATH),
                FrontConnectorsXml.DEV_PATH + " differs from the generator: regenerate it");
    }

    @Test
    void devFileListsExactlyPorts8100To8199OnLoopback() throws Exception {
        Document doc = parse(read(FrontConnectorsXml.DEV_PATH));
        List<Integer> ports = new ArrayList<>();
        List<String> hosts = new ArrayList<>();
        NodeList sets = doc.getElementsByTagName("Set");
        for (int i = 0; i < sets.getLength(); i++) {
            Element set = (Element) sets.item(i);
            if (set.getAttribute("name").equals("port")) {
                ports.add(Integer.parseInt(set.getTextContent().trim()));
            } else if (set.getAttribute("name").equals("host")) {
                hosts.add(set.getTextContent().trim());
            }
        }
        assertEquals(IntStream.rangeClosed(8100, 8199).boxed().toList(), ports);
        assertEquals(100, hosts.size());
        assertEquals(List.of("127.0.0.1"), hosts.stream().distinct().toList());
        NodeList news = doc.getElementsByTagName("New");
        int connectors = 0;
        for (int i = 0; i < news.getLength(); i++) {
            if (((Element) news.item(i)).getAttribute("class").equals("org.eclipse.jetty.server.ServerConnector")) {
                connectors++;
            }
        }
        assertEquals(100, connectors, "one ServerConnector per port");
    }

    @Test
    void baseFileOffersOffsets0To99FromTheFirstPortProperty() throws Exception {
        Document doc = parse(read(FrontConnectorsXml.BASE_PATH));
        List<Integer> offsets = new ArrayList<>();
        NodeList sets = doc.getElementsByTagName("Set");
        for (int i = 0; i < sets.getLength(); i++) {
            Element set = (Element) sets.item(i);
            if (set.getAttribute("name").equals("port")) {
                NodeList args = set.getElementsByTagName("Arg");
                assertEquals("jcomet.front.port",
                        ((Element) ((Element) args.item(0)).getElementsByTagName("Property").item(0)).getAttribute("name"));
                offsets.add(Integer.parseInt(args.item(1).getTextContent().trim()));
            }
        }
        assertEquals(IntStream.range(0, FrontConnectorsXml.BASE_MAX).boxed().toList(), offsets);
    }

    private static String read(String relative) throws Exception {
        return Files.readString(ROOT.resolve(relative), StandardCharsets.UTF_8);
    }

    private static Document parse(String xml) throws Exception {
        DocumentBuilderFactory f = DocumentBuilderFactory.newInstance();
        f.setValidating(false);
        f.setFeature("http://apache.org/xml/features/nonvalidating/load-external-dtd", false);
        return f.newDocumentBuilder().parse(new ByteArrayInputStream(xml.getBytes(StandardCharsets.UTF_8)));
    }
}
