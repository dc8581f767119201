package org.depthlens.weights;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.JsonToken;

import java.io.IOException;
import java.lang.ref.Reference;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.CharBuffer;
import java.nio.FloatBuffer;
import java.nio.MappedByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.CharsetDecoder;
import java.nio.charset.CoderResult;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * One safetensors file: a validated header and float32 decoding of its tensors.
 *
 * <p>Data is read through short-lived memory mappings (at most {@link #MAX_MAP_BYTES} at a time,
 * since Java 17 cannot map 2 GiB at once), unmapped right after decoding so the file's pages do
 * not stay resident: a block's weights cost RSS only while they are converted.
 *
 * <p>Validation follows the reference reader: an 8-byte little-endian header length N with
 * {@code N <= 100,000,000} and {@code 8 + N <= file size}, checked before anything is allocated;
 * a strict UTF-8 JSON object starting with '{' (trailing spaces allowed, duplicate keys refused);
 * known dtypes; non-negative shapes whose byte size does not overflow; data_offsets that tile the
 * data buffer exactly (no overlap, gap or trailing byte). The header is parsed as a stream, so
 * parsing allocates a small multiple of the header's size, never anything a header field claims.
 */
public final class SafetensorsFile extends WeightsFile {
    /** The reference reader's header limit. */
    public static final long MAX_HEADER_BYTES = 100_000_000L;
    /** More dimensions than any real tensor has; bounds what a hostile header can make us allocate. */
    public static final int MAX_RANK = 1024;

    /** Duplicate keys are detected by the parser below, to name them in the message. */
    private static final JsonFactory JSON = JsonFactory.builder().build();

    private final long headerLength;
    private final Map<String, TensorInfo> tensors;
    private final Map<String, String> metadata;

    private SafetensorsFile(Path path, FileChannel channel, long headerLength, long fileSize,
                            Map<String, TensorInfo> tensors, Map<String, String> metadata) {
        super(path, channel, fileSize);
        this.headerLength = headerLength;
        this.tensors = tensors;
        this.metadata = metadata;
    }

    /** Opens and validates {@code file}; every problem is a {@link SafetensorsException} naming the file. */
    public static SafetensorsFile open(Path file) {
        return open(file, SafetensorsFile::parse);
    }

    private static SafetensorsFile parse(Path file, FileChannel ch) {
        String f = Msg.f(file);
        try {
            long size = ch.size();
            if (size < 8) throw new SafetensorsException(f + ": file is " + size + " bytes, shorter than the 8-byte header length");
            ByteBuffer lenBuf = ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN);
            readFully(ch, lenBuf, 0, file);
            long n = lenBuf.getLong(0);
            if (n < 0 || n > MAX_HEADER_BYTES) {
                throw new SafetensorsException(f + ": header length " + Long.toUnsignedString(n) + " exceeds the 100 MB limit");
            }
            // n <= 1e8, so 8 + n cannot overflow; checked before the header buffer is allocated.
            if (8 + n > size) {
                throw new SafetensorsException(f + ": header length " + n + " runs past the end of the file (" + size
                        + " bytes); truncated file?");
            }
            if (n == 0) throw new SafetensorsException(f + ": header is empty, not a JSON object");
            byte[] hb = new byte[(int) n];
            readFully(ch, ByteBuffer.wrap(hb), 8, file);
            if (hb[0] != '{') {
                throw new SafetensorsException(f + ": header is not a JSON object (it must start with '{', found byte 0x"
                        + String.format("%02x", hb[0] & 0xFF) + ")");
            }
            checkUtf8(file, hb);
            long dataStart = 8 + n;
            long bufferSize = size - dataStart;
            Map<String, TensorInfo> tensors = new LinkedHashMap<>();
            Map<String, String> metadata = new LinkedHashMap<>();
            parseHeader(file, hb, dataStart, bufferSize, tensors, metadata);
            checkLayout(file, tensors, bufferSize);
            return new SafetensorsFile(file, ch, n, size, Collections.unmodifiableMap(tensors), Collections.unmodifiableMap(metadata));
        } catch (IOException e) {
            throw new SafetensorsException(f + ": read error (" + Msg.clean(e.getMessage()) + ")");
        }
    }

    /** The reference reader decodes the header with str::from_utf8: malformed UTF-8 is an error, not U+FFFD. */
    private static void checkUtf8(Path file, byte[] hb) {
        CharsetDecoder dec = StandardCharsets.UTF_8.newDecoder()
                .onMalformedInput(CodingErrorAction.REPORT)
                .onUnmappableCharacter(CodingErrorAction.REPORT);
        ByteBuffer in = ByteBuffer.wrap(hb);
        CharBuffer out = CharBuffer.allocate(4096);
        while (true) {
            CoderResult r = dec.decode(in, out, true);
            if (r.isError()) {
                throw new SafetensorsException(Msg.f(file) + ": header is not valid UTF-8 (bad byte at header offset " + in.position() + ")");
            }
            out.clear();
            if (r.isUnderflow()) break;
        }
        CoderResult r = dec.flush(out);
        if (r.isError()) throw new SafetensorsException(Msg.f(file) + ": header is not valid UTF-8");
    }

    private static void parseHeader(Path file, byte[] hb, long dataStart, long bufferSize,
                                    Map<String, TensorInfo> tensors, Map<String, String> metadata) {
        String f = Msg.f(file);
        // A Reader, not the bytes: Jackson would auto-detect UTF-16/32 from NUL bytes in a byte[].
        try (JsonParser p = JSON.createParser(new java.io.InputStreamReader(new java.io.ByteArrayInputStream(hb), StandardCharsets.UTF_8))) {
            if (p.nextToken() != JsonToken.START_OBJECT) throw new SafetensorsException(f + ": header is not a JSON object");
            boolean seenMetadata = false;
            JsonToken tok;
            while ((tok = p.nextToken()) == JsonToken.FIELD_NAME) {
                String name = p.currentName();
                JsonToken v = p.nextToken();
                if (name.equals("__metadata__")) {
                    if (seenMetadata) throw new SafetensorsException(f + ": duplicate __metadata__");
                    seenMetadata = true;
                    if (v != JsonToken.START_OBJECT) throw new SafetensorsException(f + ": __metadata__ is not an object");
                    while (p.nextToken() == JsonToken.FIELD_NAME) {
                        String k = p.currentName();
                        if (p.nextToken() != JsonToken.VALUE_STRING) {
                            throw new SafetensorsException(f + ": __metadata__ value " + Msg.q(k) + " is not a string");
                        }
                        if (metadata.put(k, p.getText()) != null) {
                            throw new SafetensorsException(f + ": duplicate __metadata__ key " + Msg.q(k));
                        }
                    }
                    continue;
                }
                if (tensors.containsKey(name)) throw new SafetensorsException(f + ": duplicate tensor " + Msg.q(name));
                tensors.put(name, parseEntry(file, p, name, v, dataStart, bufferSize));
            }
            if (tok != JsonToken.END_OBJECT) throw new SafetensorsException(f + ": header is not valid JSON (unexpected " + tok + ")");
            JsonToken after = p.nextToken();
            if (after != null) throw new SafetensorsException(f + ": header is not valid JSON (content after the closing '}')");
        } catch (JsonProcessingException e) {
            throw new SafetensorsException(f + ": header is not valid JSON (" + Msg.clean(e.getOriginalMessage()) + ")");
        } catch (IOException e) {
            throw new SafetensorsException(f + ": header is not valid JSON (" + Msg.clean(e.getMessage()) + ")");
        }
    }

    /** One tensor entry; the parser stands on its START_OBJECT ({@code v}) and is left on its END_OBJECT. */
    private static TensorInfo parseEntry(Path file, JsonParser p, String name, JsonToken v, long dataStart, long bufferSize)
            throws IOException {
        String where = Msg.f(file) + ": tensor " + Msg.q(name);
        if (v != JsonToken.START_OBJECT) throw new SafetensorsException(where + ": entry is not an object");
        String dtypeName = null;
        long[] shape = null;
        long[] offsets = null;
        java.util.Set<String> keys = new java.util.HashSet<>();
        while (p.nextToken() == JsonToken.FIELD_NAME) {
            String key = p.currentName();
            if (!keys.add(key)) throw new SafetensorsException(where + ": duplicate key " + Msg.q(key));
            JsonToken t = p.nextToken();
            switch (key) {
                case "dtype" -> {
                    if (t != JsonToken.VALUE_STRING) throw new SafetensorsException(where + ": dtype is not a string");
                    dtypeName = p.getText();
                }
                case "shape" -> shape = longArray(p, t, where, "shape", MAX_RANK);
                case "data_offsets" -> offsets = longArray(p, t, where, "data_offsets", 2);
                default -> p.skipChildren(); // unknown keys are ignored, as serde does
            }
        }
        if (dtypeName == null) throw new SafetensorsException(where + ": missing dtype");
        DType dtype = DType.parse(dtypeName, where);
        if (shape == null) throw new SafetensorsException(where + ": missing shape");
        long numel = 1;
        for (long d : shape) {
            if (d < 0) throw new SafetensorsException(where + ": negative dimension in shape " + Arrays.toString(shape));
        }
        long expected;
        try {
            for (long d : shape) numel = Math.multiplyExact(numel, d);
            expected = Math.multiplyExact(numel, dtype.size());
        } catch (ArithmeticException ex) {
            // a zero dimension makes any product 0, but report absurd dims anyway: they overflow in every consumer
            throw new SafetensorsException(where + ": absurd shape " + Arrays.toString(shape) + " (element count overflows)");
        }
        if (offsets == null || offsets.length != 2) throw new SafetensorsException(where + ": missing or malformed data_offsets");
        long begin = offsets[0];
        long end = offsets[1];
        if (begin < 0 || end < begin || end > bufferSize) {
            throw new SafetensorsException(where + ": data_offsets [" + begin + ", " + end + "] outside the data buffer of "
                    + bufferSize + " bytes" + (end > bufferSize ? " (truncated file?)" : ""));
        }
        if (end - begin != expected) {
            throw new SafetensorsException(where + ": holds " + (end - begin) + " bytes but shape " + Arrays.toString(shape) + " x "
                    + dtype + " needs " + expected);
        }
        return new TensorInfo(name, dtype, shape, begin, end, file, dataStart);
    }

    /** A JSON array of non-negative integers that fit a long, at most {@code max} of them. */
    private static long[] longArray(JsonParser p, JsonToken t, String where, String what, int max) throws IOException {
        if (t != JsonToken.START_ARRAY) throw new SafetensorsException(where + ": " + what + " is not an array");
        long[] out = new long[4];
        int n = 0;
        JsonToken e;
        while ((e = p.nextToken()) != JsonToken.END_ARRAY) {
            if (e != JsonToken.VALUE_NUMBER_INT) {
                throw new SafetensorsException(where + ": " + what + " holds " + (e == null ? "nothing" : Msg.clean(p.getText()))
                        + ", not a non-negative integer");
            }
            JsonParser.NumberType nt = p.getNumberType();
            if (nt == JsonParser.NumberType.BIG_INTEGER) {
                throw new SafetensorsException(where + ": " + what + " value " + Msg.clean(p.getText()) + " is out of range");
            }
            long val = p.getLongValue();
            if (val < 0) throw new SafetensorsException(where + ": " + what + " value " + val + " is negative");
            if (n == max) throw new SafetensorsException(where + ": " + what + " has more than " + max + " entries");
            if (n == out.length) out = Arrays.copyOf(out, out.length * 2);
            out[n++] = val;
        }
        return Arrays.copyOf(out, n);
    }

    /** Tensors must tile the data buffer exactly: no overlap, no gap, nothing left over. */
    private static void checkLayout(Path file, Map<String, TensorInfo> tensors, long bufferSize) {
        String f = Msg.f(file);
        List<TensorInfo> sorted = new ArrayList<>(tensors.values());
        sorted.sort(Comparator.comparingLong(TensorInfo::begin).thenComparingLong(TensorInfo::end));
        long pos = 0;
        for (TensorInfo t : sorted) {
            if (t.begin() < pos) {
                throw new SafetensorsException(f + ": tensor " + Msg.q(t.name()) + " data_offsets [" + t.begin() + ", " + t.end()
                        + "] overlap the previous tensor (which ends at " + pos + ")");
            }
            if (t.begin() > pos) {
                throw new SafetensorsException(f + ": gap of " + (t.begin() - pos) + " bytes before tensor " + Msg.q(t.name())
                        + " (data_offsets [" + t.begin() + ", " + t.end() + "])");
            }
            pos = t.end();
        }
        if (pos != bufferSize) {
            throw new SafetensorsException(f + ": data buffer is " + bufferSize + " bytes but tensors cover " + pos
                    + " (" + (bufferSize - pos) + " trailing bytes)");
        }
    }

    @Override
    public String format() {
        return "safetensors";
    }

    public long headerLength() {
        return headerLength;
    }

    /** Tensors in header order. */
    @Override
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
            throw new SafetensorsException(Msg.f(path) + ": read error (" + Msg.clean(e.getMessage()) + ")");
        }
        return b.array();
    }

    /** The header bytes: they name every tensor with its dtype, shape and byte range. */
    @Override
    public byte[] fingerprint() {
        return headerBytes();
    }

    @Override
    public void readF32(TensorInfo t, long from, long count, FloatBuffer dst) {
        checkRange(t, from, count);
        checkRoom(t, count, dst);
        readPacked(t.name(), t.dtype(), t.fileOffset() + from * t.dtype().size(), count, dst);
    }

    @Override
    void readF32ToAddress(TensorInfo t, long from, long count, long address, long maxStep) {
        checkRange(t, from, count);
        readPackedToAddress(t.name(), t.dtype(), t.fileOffset() + from * t.dtype().size(), count, address, maxStep);
    }

    @Override
    void readBytesChecked(TensorInfo t, long from, long count, ByteBuffer dst) {
        ByteBuffer d = dst.slice();
        d.limit((int) (count * t.dtype().size()));
        readAt(t.name(), t.fileOffset() + from * t.dtype().size(), d);
        dst.position(dst.position() + d.position());
    }

    /**
     * Reads a whole integer tensor (BOOL, U8..U64, I8..I64) as longs, e.g. token ids. U64 values
     * above Long.MAX_VALUE come back negative (two's complement), as Java has no unsigned long.
     */
    @Override
    public long[] readLongs(TensorInfo t) {
        if (t.dtype().isFloat()) {
            throw new SafetensorsException(Msg.f(path) + ": tensor " + Msg.q(t.name()) + " is " + t.dtype() + ", not an integer type");
        }
        if (t.numel() > Integer.MAX_VALUE - 8) {
            throw new SafetensorsException(Msg.f(path) + ": tensor " + Msg.q(t.name()) + " has " + t.numel()
                    + " elements, too many for a long[]");
        }
        int n = (int) t.numel();
        long[] out = new long[n];
        int es = t.dtype().size();
        long maxElems = MAX_MAP_BYTES / es;
        for (long done = 0; done < n; ) {
            int m = (int) Math.min(maxElems, n - done);
            MappedByteBuffer mb = map(t.name(), t.fileOffset() + done * es, (long) m * es);
            try {
                ByteBuffer b = mb.order(ByteOrder.LITTLE_ENDIAN);
                int o = (int) done;
                for (int i = 0; i < m; i++) {
                    out[o + i] = longAt(t.dtype(), b, i * es);
                }
            } finally {
                Unmapper.unmap(mb);
            }
            done += m;
        }
        return out;
    }
}
