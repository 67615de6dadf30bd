package dev.goodput.trainer.report;

import static org.assertj.core.api.Assertions.assertThat;

import java.awt.image.BufferedImage;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.StringReader;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import javax.imageio.ImageIO;
import javax.xml.parsers.DocumentBuilderFactory;
import javax.xml.xpath.XPathConstants;
import javax.xml.xpath.XPathFactory;
import org.w3c.dom.Document;
import org.w3c.dom.Element;
import org.w3c.dom.NodeList;
import org.xml.sax.InputSource;

/** A written report.html, parsed: the page must be well-formed markup, and its images real, decodable charts. */
final class ReportPage {
    final String html;
    final Document doc;

    private ReportPage(String html, Document doc) {
        this.html = html;
        this.doc = doc;
    }

    static ReportPage read(Path file) throws Exception {
        assertThat(file).exists();
        return parse(Files.readString(file));
    }

    static ReportPage parse(String html) throws Exception {
        DocumentBuilderFactory f = DocumentBuilderFactory.newInstance();
        f.setFeature("http://apache.org/xml/features/nonvalidating/load-external-dtd", false);
        f.setExpandEntityReferences(false);
        // Throws on anything not well-formed: unclosed or misnested tags, bare '&' or '<' in text.
        Document doc = f.newDocumentBuilder().parse(new InputSource(new StringReader(html)));
        assertThat(doc.getDocumentElement().getTagName()).isEqualTo("html");
        return new ReportPage(html, doc);
    }

    List<Element> all(String xpath) throws Exception {
        NodeList nodes = (NodeList) XPathFactory.newInstance().newXPath().evaluate(xpath, doc, XPathConstants.NODESET);
        List<Element> out = new ArrayList<>();
        for (int i = 0; i < nodes.getLength(); i++) out.add((Element) nodes.item(i));
        return out;
    }

    String text(String xpath) throws Exception {
        return XPathFactory.newInstance().newXPath().evaluate(xpath, doc).trim();
    }

    /** The value cell of a row of a summary table, by its heading. */
    String row(String table, String name) throws Exception {
        return text("//table[@id='" + table + "']/tr[th='" + name + "']/td");
    }

    /** First-column values of a list table (checkpoints, evaluations), header row excluded. */
    List<String> column(String table) throws Exception {
        List<String> out = new ArrayList<>();
        for (Element td : all("//table[@id='" + table + "']/tr/td[1]")) out.add(td.getTextContent().trim());
        return out;
    }

    /** Every embedded image, decoded; each must be an inline PNG (nothing loaded from elsewhere). */
    List<BufferedImage> images() throws Exception {
        List<BufferedImage> out = new ArrayList<>();
        for (Element img : all("//img")) {
            String src = img.getAttribute("src");
            assertThat(src).startsWith("data:image/png;base64,");
            byte[] png = Base64.getDecoder().decode(src.substring(src.indexOf(',') + 1));
            out.add(decode(png));
        }
        return out;
    }

    static BufferedImage decode(byte[] png) throws IOException {
        BufferedImage image = ImageIO.read(new ByteArrayInputStream(png));
        assertThat(image).as("decodable PNG").isNotNull();
        return image;
    }

    /** Standard deviation of the grey level over all pixels: a blank or one-colour image has none. */
    static double greyDeviation(BufferedImage image) {
        double sum = 0, sq = 0;
        long n = 0;
        for (int y = 0; y < image.getHeight(); y++) {
            for (int x = 0; x < image.getWidth(); x++) {
                int rgb = image.getRGB(x, y);
                double g = ((rgb >> 16 & 0xff) + (rgb >> 8 & 0xff) + (rgb & 0xff)) / 3.0;
                sum += g;
                sq += g * g;
                n++;
            }
        }
        double mean = sum / n;
        return Math.sqrt(Math.max(0, sq / n - mean * mean));
    }

    /** Pixels that are neither white nor near-white: the chart's ink. */
    static long inkPixels(BufferedImage image) {
        long n = 0;
        for (int y = 0; y < image.getHeight(); y++) {
            for (int x = 0; x < image.getWidth(); x++) {
                int rgb = image.getRGB(x, y);
                if ((rgb >> 16 & 0xff) < 200 || (rgb >> 8 & 0xff) < 200 || (rgb & 0xff) < 200) n++;
            }
        }
        return n;
    }

    static void assertCharts(List<BufferedImage> images, int expected) {
        assertThat(images).hasSize(expected);
        for (BufferedImage image : images) {
            assertThat(image.getWidth()).isGreaterThanOrEqualTo(400);
            assertThat(image.getHeight()).isGreaterThanOrEqualTo(250);
            assertThat(greyDeviation(image)).as("not blank").isGreaterThan(5);
            assertThat(inkPixels(image)).as("drawn content").isGreaterThan(image.getWidth() * image.getHeight() / 100);
        }
    }
}
