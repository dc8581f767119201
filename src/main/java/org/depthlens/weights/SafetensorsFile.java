package org.depthlens.weights;

import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.FloatBuffer;
import java.nio.MappedByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.Collections;
import java.util.Comparator;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * One safetensors file: a validated header and float32 decoding of its tensors.
 *
 * <p>Data is read through short-lived memory mappings (at most {@link #MAX_MAP_BYTES} at a time,
 * since Java 17 cannot map 2 GiB at once), unmapped right after decoding so the file's pages do
 * not stay resident: a block's weights cost RSS only while they are converted.
 */
public final class SafetensorsFile implements AutoCloseable {
    /** The reference reader's header limit. */
    public static final long MAX_HEADER_BYTES = 100_000_000L;
    static final long MAX_MAP_BYTES = 1L << 30;
    private static final ObjectMapper JSON = new ObjectMapper()
            .enable(JsonParser.Feature.STRICT_DUPLICATE_DETECTION)
            .enable(DeserializationFeature.FAIL_ON_TRAILING_TOKENS);

    private final Path path;
    private final FileChannel channel;
    private final long headerLength;
    private final long fileSize;
    private final Map<String, TensorInfo> tensors;
    private final Map<String, String> metadata;

    private SafetensorsFile(Path path, FileChannel channel, long headerLength, long fileSize,
                            Map<String, TensorInfo> tensors, Map<String, String> metadata) {
        this.path = path;
        this.channel = channel;
        this.headerLength = headerLength;
        this.fileSize = fileSize;
        this.tensors = tensors;
        this.metadata = metadata;
    }

    /** Opens and validates {@code file}; every problem is a {@link SafetensorsException} naming the file. */
    public static SafetensorsFile open(Path file) {
        FileChannel ch;
        try {
            ch = FileChannel.open(file, StandardOpenOption.READ);
        } catch (NoSuchFileException e) {
            throw new SafetensorsException(file + ": file not found");
        } catch (IOException e) {
            throw new SafetensorsException(file + ": cannot open (" + e.getMessage() + ")");
        }
        try {
            SafetensorsFile f = parse(file, ch);
            return f;
        } catch (RuntimeException e) {
            closeQuietly(ch);
            throw e;
        }
    }

    private static SafetensorsFile parse(Path file, FileChannel ch) {
        try {
            long size = ch.size();
            if (size < 8) throw new SafetensorsException(file + ": file is " + size + " bytes, shorter than the 8-byte header length");
            ByteBuffer lenBuf = ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN);
            readFully(ch, lenBuf, 0, file);
            long n = lenBuf.getLong(0);
            if (n < 0 || n > MAX_HEADER_BYTES) {
                throw new SafetensorsException(file + ": header length " + Long.toUnsignedString(n) + " exceeds the 100 MB limit");
            }
            if (8 + n > size) {
                throw new SafetensorsException(file + ": header length " + n + " runs past the end of the file (" + size + " bytes); truncated file?");
            }
            ByteBuffer hb = ByteBuffer.allocate((int) n);
            readFully(ch, hb, 8, file);
            String header = new String(hb.array(), StandardCharsets.UTF_8);
            JsonNode root;
            try {
                root = JSON.readTree(header);
            } catch (IOException e) {
                throw new SafetensorsException(file + ": header is not valid JSON (" + firstLine(e.getMessage()) + ")");
            }
            if (root == null || !root.isObject()) {
                throw new SafetensorsException(file + ": header is not a JSON object");
            }
            long dataStart = 8 + n;
            long bufferSize = size - dataStart;
            Map<String, TensorInfo> tensors = new LinkedHashMap<>();
            Map<String, String> metadata = new LinkedHashMap<>();
            Iterator<Map.Entry<String, JsonNode>> it = root.fields();
            while (it.hasNext()) {
                Map.Entry<String, JsonNode> e = it.next();
                String name = e.getKey();
                JsonNode v = e.getValue();
                if (name.equals("__metadata__")) {
                    if (!v.isObject()) throw new SafetensorsException(file + ": __metadata__ is not an object");
                    v.fields().forEachRemaining(m -> {
                        if (!m.getValue().isTextual()) {
                            throw new SafetensorsException(file + ": __metadata__ value '" + m.getKey() + "' is not a string");
                        }
                        metadata.put(m.getKey(), m.getValue().asText());
                    });
                    continue;
                }
                tensors.put(name, parseEntry(file, name, v, dataStart, bufferSize));
            }
            checkLayout(file, tensors, bufferSize);
            return new SafetensorsFile(file, ch, n, size, Collections.unmodifiableMap(tensors), Collections.unmodifiableMap(metadata));
        } catch (IOException e) {
            throw new SafetensorsException(file + ": read error (" + e.getMessage() + ")");
        }
    }

    private static TensorInfo parseEntry(Path file, String name, JsonNode v, long dataStart, long bufferSize) {
        String where = file + ": tensor '" + name + "'";
        if (!v.isObject()) throw new SafetensorsException(where + ": entry is not an object");
        JsonNode dt = v.get("dtype");
        if (dt == null || !dt.isTextual()) throw new SafetensorsException(where + ": missing dtype");
        DType dtype = DType.parse(dt.asText(), where);
        JsonNode sh = v.get("shape");
        if (sh == null || !sh.isArray()) throw new SafetensorsException(where + ": missing shape");
        long[] shape = new long[sh.size()];
        long numel = 1;
        for (int i = 0; i < shape.length; i++) {
            JsonNode d = sh.get(i);
            if (!d.isIntegralNumber() || !d.canConvertToLong() || d.asLong() < 0) {
                throw new SafetensorsException(where + ": invalid shape " + sh);
            }
            shape[i] = d.asLong();
            try {
                numel = Math.multiplyExact(numel, shape[i]);
            } catch (ArithmeticException ex) {
                throw new SafetensorsException(where + ": absurd shape " + sh);
            }
        }
        JsonNode off = v.get("data_offsets");
        if (off == null || !off.isArray() || off.size() != 2 || !off.get(0).isIntegralNumber() || !off.get(1).isIntegralNumber()
                || !off.get(0).canConvertToLong() || !off.get(1).canConvertToLong()) {
            throw new SafetensorsException(where + ": missing or malformed data_offsets");
        }
        long begin = off.get(0).asLong();
        long end = off.get(1).asLong();
        if (begin < 0 || end < begin || end > bufferSize) {
            throw new SafetensorsException(where + ": data_offsets [" + begin + ", " + end + "] outside the data buffer of " + bufferSize + " bytes");
        }
        long expected;
        try {
            expected = Math.multiplyExact(numel, dtype.size());
        } catch (ArithmeticException ex) {
            throw new SafetensorsException(where + ": absurd shape " + sh);
        }
        if (end - begin != expected) {
            throw new SafetensorsException(where + ": holds " + (end - begin) + " bytes but shape " + sh + " x " + dtype
                    + " needs " + expected);
        }
        return new TensorInfo(name, dtype, shape, begin, end, file, dataStart);
    }

    /** Tensors must tile the data buffer exactly: no overlap, no gap, nothing left over. */
    private static void checkLayout(Path file, Map<String, TensorInfo> tensors, long bufferSize) {
        List<TensorInfo> sorted = new ArrayList<>(tensors.values());
        sorted.sort(Comparator.comparingLong(TensorInfo::begin).thenComparingLong(TensorInfo::end));
        long pos = 0;
        for (TensorInfo t : sorted) {
            if (t.begin() < pos) {
                throw new SafetensorsException(file + ": tensor '" + t.name() + "' data_offsets overlap the previous tensor");
            }
            if (t.begin() > pos) {
                throw new SafetensorsException(file + ": gap of " + (t.begin() - pos) + " bytes before tensor '" + t.name() + "'");
            }
            pos = t.end();
        }
        if (pos != bufferSize) {
            throw new SafetensorsException(file + ": data buffer is " + bufferSize + " bytes but tensors cover " + pos
                    + (pos < bufferSize ? " (trailing bytes)" : ""));
        }
    }

    public Path path() {
        return path;
    }

    public long headerLength() {
        return headerLength;
    }

    public long fileSize() {
        return fileSize;
    }

    /** Tensors in header order. */
    public Map<String, TensorInfo> tensors() {
        return tensors;
    }

    public Map<String, String> metadata() {
        return metadata;
    }

    /** Reads the raw header bytes (8-byte length + JSON), e.g. for hashing. */
    public byte[] headerBytes() {
        ByteBuffer b = ByteBuffer.allocate((int) (8 + headerLength));
        try {
            readFully(channel, b, 0, path);
        } catch (IOException e) {
            throw new SafetensorsException(path + ": read error (" + e.getMessage() + ")");
        }
        return b.array();
    }

    /**
     * Decodes elements {@code [from, from + count)} of a floating-point tensor into {@code dst}
     * (starting at its current position, which advances). FP8 is returned unscaled.
     */
    public void readF32(TensorInfo t, long from, long count, FloatBuffer dst) {
        if (!t.dtype().isFloat()) {
            throw new SafetensorsException(path + ": tensor '" + t.name() + "' has dtype " + t.dtype() + ", expected a float type");
        }
        if (from < 0 || count < 0 || from + count > t.numel()) {
            throw new IllegalArgumentException("range outside tensor " + t.name());
        }
        int es = t.dtype().size();
        long maxElems = MAX_MAP_BYTES / es;
        long done = 0;
        while (done < count) {
            long n = Math.min(maxElems, count - done);
            long off = t.fileOffset() + (from + done) * es;
            MappedByteBuffer mb = map(off, n * es, t);
            try {
                decode(t.dtype(), mb.order(ByteOrder.LITTLE_ENDIAN), (int) n, dst);
            } finally {
                Unmapper.unmap(mb);
            }
            done += n;
        }
    }

    /** Reads a whole integer or float tensor as longs (for ids and small index tensors). */
    public long[] readLongs(TensorInfo t) {
        if (t.numel() > Integer.MAX_VALUE) throw new SafetensorsException(path + ": tensor '" + t.name() + "' too large");
        int n = (int) t.numel();
        long[] out = new long[n];
        MappedByteBuffer mb = map(t.fileOffset(), t.byteLength(), t);
        try {
            ByteBuffer b = mb.order(ByteOrder.LITTLE_ENDIAN);
            for (int i = 0; i < n; i++) {
                out[i] = switch (t.dtype()) {
                    case I64, U64 -> b.getLong(i * 8);
                    case I32 -> b.getInt(i * 4);
                    case U32 -> b.getInt(i * 4) & 0xFFFFFFFFL;
                    case I16 -> b.getShort(i * 2);
                    case U16 -> b.getShort(i * 2) & 0xFFFF;
                    case I8 -> b.get(i);
                    case U8, BOOL -> b.get(i) & 0xFF;
                    default -> throw new SafetensorsException(path + ": tensor '" + t.name() + "' is " + t.dtype() + ", not an integer type");
                };
            }
        } finally {
            Unmapper.unmap(mb);
        }
        return out;
    }

    private MappedByteBuffer map(long offset, long length, TensorInfo t) {
        try {
            return channel.map(FileChannel.MapMode.READ_ONLY, offset, length);
        } catch (IOException e) {
            throw new SafetensorsException(path + ": cannot map tensor '" + t.name() + "' (" + e.getMessage() + ")");
        }
    }

    private static void decode(DType dtype, ByteBuffer src, int n, FloatBuffer dst) {
        switch (dtype) {
            case F32 -> {
                FloatBuffer fb = src.asFloatBuffer();
                fb.limit(n);
                dst.put(fb);
            }
            case BF16 -> {
                final int chunk = 8192;
                float[] tmp = new float[Math.min(chunk, n)];
                for (int i = 0; i < n; i += chunk) {
                    int m = Math.min(chunk, n - i);
                    for (int k = 0; k < m; k++) tmp[k] = Float.intBitsToFloat((src.getShort((i + k) << 1) & 0xFFFF) << 16);
                    dst.put(tmp, 0, m);
                }
            }
            case F16 -> {
                for (int i = 0; i < n; i++) dst.put(FloatDecoder.f16(src.getShort(i << 1)));
            }
            case F64 -> {
                for (int i = 0; i < n; i++) dst.put((float) src.getDouble(i << 3));
            }
            case F8_E4M3 -> {
                for (int i = 0; i < n; i++) dst.put(FloatDecoder.e4m3(src.get(i)));
            }
            case F8_E5M2 -> {
                for (int i = 0; i < n; i++) dst.put(FloatDecoder.e5m2(src.get(i)));
            }
            default -> throw new IllegalStateException(dtype.toString());
        }
    }

    private static void readFully(FileChannel ch, ByteBuffer b, long pos, Path file) throws IOException {
        while (b.hasRemaining()) {
            int r = ch.read(b, pos + b.position());
            if (r < 0) throw new SafetensorsException(file + ": unexpected end of file");
        }
    }

    private static String firstLine(String s) {
        if (s == null) return "";
        int i = s.indexOf('\n');
        return i < 0 ? s : s.substring(0, i);
    }

    private static void closeQuietly(FileChannel ch) {
        try {
            ch.close();
        } catch (IOException ignored) {
            // nothing to recover
        }
    }

    @Override
    public void close() {
        closeQuietly(channel);
    }
}
