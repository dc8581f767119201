package org.depthlens.report;

import de.erichseifert.vectorgraphics2d.VectorGraphics2D;
import org.knowm.xchart.VectorGraphicsEncoder;
import org.knowm.xchart.internal.chartpart.Chart;

import javax.imageio.IIOImage;
import javax.imageio.ImageIO;
import javax.imageio.ImageTypeSpecifier;
import javax.imageio.ImageWriteParam;
import javax.imageio.ImageWriter;
import javax.imageio.metadata.IIOMetadata;
import javax.imageio.metadata.IIOMetadataNode;
import javax.imageio.stream.ImageOutputStream;
import java.awt.Graphics2D;
import java.awt.RenderingHints;
import java.awt.geom.AffineTransform;
import java.awt.image.BufferedImage;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

/** Renders an XChart chart to PNG (2x, 144 dpi) and SVG bytes and writes both next to each other. */
public final class ChartFiles {
    /** PNG pixels per logical pixel. */
    public static final int SCALE = 2;

    static {
        if (System.getProperty("java.awt.headless") == null) {
            System.setProperty("java.awt.headless", "true");
        }
    }

    private ChartFiles() {}

    /** Writes {@code dir/name.png} and {@code dir/name.svg}. */
    public static ChartRef write(Chart<?, ?> chart, Path dir, String name, String title, String caption)
            throws IOException {
        Files.createDirectories(dir);
        byte[] png = png(chart);
        byte[] svg = svg(chart);
        Path pngFile = dir.resolve(name + ".png");
        Path svgFile = dir.resolve(name + ".svg");
        Files.write(pngFile, png);
        Files.write(svgFile, svg);
        return new ChartRef(name, title, caption, pngFile, svgFile, png, chart.getWidth(), chart.getHeight());
    }

    /** PNG bytes; no time stamps or other varying metadata, so equal charts give equal bytes. */
    public static byte[] png(Chart<?, ?> chart) throws IOException {
        int w = chart.getWidth();
        int h = chart.getHeight();
        BufferedImage img = new BufferedImage(w * SCALE, h * SCALE, BufferedImage.TYPE_INT_RGB);
        Graphics2D g = img.createGraphics();
        try {
            g.setRenderingHint(RenderingHints.KEY_TEXT_ANTIALIASING, RenderingHints.VALUE_TEXT_ANTIALIAS_ON);
            g.setRenderingHint(RenderingHints.KEY_STROKE_CONTROL, RenderingHints.VALUE_STROKE_PURE);
            g.setTransform(AffineTransform.getScaleInstance(SCALE, SCALE));
            chart.paint(g, w, h);
        } finally {
            g.dispose();
        }
        ImageWriter writer = ImageIO.getImageWritersByFormatName("png").next();
        try {
            ImageWriteParam param = writer.getDefaultWriteParam();
            IIOMetadata meta = writer.getDefaultImageMetadata(
                    ImageTypeSpecifier.createFromBufferedImageType(BufferedImage.TYPE_INT_RGB), param);
            double dotsPerMm = 72.0 * SCALE / 25.4;
            IIOMetadataNode hor = new IIOMetadataNode("HorizontalPixelSize");
            hor.setAttribute("value", Double.toString(1.0 / dotsPerMm));
            IIOMetadataNode ver = new IIOMetadataNode("VerticalPixelSize");
            ver.setAttribute("value", Double.toString(1.0 / dotsPerMm));
            IIOMetadataNode dim = new IIOMetadataNode("Dimension");
            dim.appendChild(hor);
            dim.appendChild(ver);
            IIOMetadataNode root = new IIOMetadataNode("javax_imageio_1.0");
            root.appendChild(dim);
            meta.mergeTree("javax_imageio_1.0", root);
            ByteArrayOutputStream out = new ByteArrayOutputStream();
            try (ImageOutputStream ios = ImageIO.createImageOutputStream(out)) {
                writer.setOutput(ios);
                writer.write(null, new IIOImage(img, null, meta), param);
            }
            return out.toByteArray();
        } finally {
            writer.dispose();
        }
    }

    /** SVG bytes from XChart's VectorGraphicsEncoder (VectorGraphics2D); text is drawn as outlines. */
    public static byte[] svg(Chart<?, ?> chart) throws IOException {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        VectorGraphicsEncoder.saveVectorGraphic(chart, out, VectorGraphicsEncoder.VectorGraphicsFormat.SVG);
        return out.toByteArray();
    }

    /** Fails early with a clear message if VectorGraphics2D (an xchart dependency) is missing. */
    static void checkSvgSupport() {
        try {
            Class.forName(VectorGraphics2D.class.getName());
        } catch (ClassNotFoundException | NoClassDefFoundError e) {
            throw new IllegalStateException("SVG output needs de.erichseifert.vectorgraphics2d on the classpath", e);
        }
    }
}
