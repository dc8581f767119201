package org.depthlens.weights;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * Hand-made safetensors bytes for tests, built with string concatenation (not the writer under
 * test, not Jackson): tensors are laid out in the order they are added.
 */
public final class Raw {
    private final List<String> entries = new ArrayList<>();
    private final ByteArrayOutputStream data = new ByteArrayOutputStream();
    private String metadata;

    /** Adds a tensor whose data is {@code bytes}, at the current end of the data buffer. */
    Raw add(String name, String dtype, long[] shape, byte[] bytes) {
        long begin = data.size();
        data.writeBytes(bytes);
        entries.add(entry(name, dtype, shape, begin, data.size()));
        return this;
    }

    /** Adds a raw header entry (e.g. with wrong offsets) and data bytes separately. */
    Raw addEntry(String jsonKeyAndValue) {
        entries.add(jsonKeyAndValue);
        return this;
    }

    Raw data(byte[] bytes) {
        data.writeBytes(bytes);
        return this;
    }

    Raw metadata(String json) {
        metadata = json;
        return this;
    }

    String header() {
        StringBuilder b = new StringBuilder("{");
        if (metadata != null) b.append("\"__metadata__\":").append(metadata);
        for (String e : entries) {
            if (b.length() > 1) b.append(',');
            b.append(e);
        }
        return b.append('}').toString();
    }

    byte[] bytes() {
        return file(header(), data.toByteArray());
    }

    Path write(Path file) throws IOException {
        Files.write(file, bytes());
        return file;
    }

    static String entry(String name, String dtype, long[] shape, long begin, long end) {
        return "\"" + name + "\":{\"dtype\":\"" + dtype + "\",\"shape\":" + Arrays.toString(shape).replace(" ", "")
                + ",\"data_offsets\":[" + begin + "," + end + "]}";
    }

    /** length field + header (padded with spaces to a multiple of 8 like the reference writer) + data. */
    public static byte[] file(String header, byte[] data) {
        byte[] h = header.getBytes(StandardCharsets.UTF_8);
        int padded = (int) (((8L + h.length + 7) / 8) * 8 - 8);
        byte[] hp = Arrays.copyOf(h, padded);
        Arrays.fill(hp, h.length, padded, (byte) ' ');
        return file(hp.length, hp, data);
    }

    /** An explicit (possibly lying) header length field. */
    public static byte[] file(long lengthField, byte[] header, byte[] data) {
        ByteBuffer b = ByteBuffer.allocate(8 + header.length + data.length).order(ByteOrder.LITTLE_ENDIAN);
        b.putLong(lengthField).put(header).put(data);
        return b.array();
    }

    static byte[] f32(float... v) {
        ByteBuffer b = ByteBuffer.allocate(4 * v.length).order(ByteOrder.LITTLE_ENDIAN);
        for (float x : v) b.putInt(Float.floatToRawIntBits(x));
        return b.array();
    }

    static byte[] f64(double... v) {
        ByteBuffer b = ByteBuffer.allocate(8 * v.length).order(ByteOrder.LITTLE_ENDIAN);
        for (double x : v) b.putLong(Double.doubleToRawLongBits(x));
        return b.array();
    }

    /** 16-bit patterns, little-endian. */
    static byte[] u16(int... v) {
        ByteBuffer b = ByteBuffer.allocate(2 * v.length).order(ByteOrder.LITTLE_ENDIAN);
        for (int x : v) b.putShort((short) x);
        return b.array();
    }

    static byte[] u8(int... v) {
        byte[] b = new byte[v.length];
        for (int i = 0; i < v.length; i++) b[i] = (byte) v[i];
        return b;
    }

    static byte[] i64(long... v) {
        ByteBuffer b = ByteBuffer.allocate(8 * v.length).order(ByteOrder.LITTLE_ENDIAN);
        for (long x : v) b.putLong(x);
        return b.array();
    }

    static long[] shape(long... s) {
        return s;
    }

    // ---- independent reference decoders (formulas from architectures.md 5.2, in double) ----

    static float refF16(int h) {
        int s = (h >>> 15) & 1, e = (h >>> 10) & 0x1F, m = h & 0x3FF;
        double v;
        if (e == 31) v = m == 0 ? Double.POSITIVE_INFINITY : Double.NaN;
        else if (e == 0) v = Math.scalb((double) m, -24);
        else v = Math.scalb(1.0 + m / 1024.0, e - 15);
        return (float) (s == 1 ? -v : v);
    }

    static float refE4M3(int b) {
        int s = (b >>> 7) & 1, e = (b >>> 3) & 0xF, m = b & 7;
        double v;
        if (e == 15 && m == 7) v = Double.NaN;
        else if (e == 0) v = Math.scalb(m / 8.0, -6);
        else v = Math.scalb(1.0 + m / 8.0, e - 7);
        return (float) (s == 1 ? -v : v);
    }

    static float refE5M2(int b) {
        int s = (b >>> 7) & 1, e = (b >>> 2) & 0x1F, m = b & 3;
        double v;
        if (e == 31) v = m == 0 ? Double.POSITIVE_INFINITY : Double.NaN;
        else if (e == 0) v = Math.scalb(m / 4.0, -14);
        else v = Math.scalb(1.0 + m / 4.0, e - 15);
        return (float) (s == 1 ? -v : v);
    }

    static float refBf16(int bits) {
        return Float.intBitsToFloat((bits & 0xFFFF) << 16);
    }
}
