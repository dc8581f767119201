package org.depthlens.weights;

import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.lang.management.ManagementFactory;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.FloatBuffer;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;

import static org.depthlens.weights.Raw.shape;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Mutation fuzzing of the reader against an independent validator written from the format
 * description (architectures.md 5.1). Every case must be either accepted by both, with every
 * tensor decoding to the values an independent decoder reads from the same bytes, or rejected by
 * both with a one-line {@link SafetensorsException}; never another exception type. Heap allocated
 * while opening and reading is measured per case and must stay proportional to the file size, so
 * no length or shape a header claims is ever allocated.
 */
class SafetensorsFuzzTest {
    @TempDir
    Path dir;

    static final long SEED = 0x5AFE_7E45L;
    static final int FILE_CASES = 12_000;
    static final int INDEX_CASES = 1_000;
    static final String[] DTYPES = {"F32", "BF16", "F16", "F8_E4M3", "F8_E5M2", "F64", "I64", "I32", "U8", "BOOL", "I16", "U64"};
    static final String[] BAD_DTYPES = {"F8_E8M0", "f32", "F4", "", "C64", "BF16 ", "Q8"};

    private static final com.sun.management.ThreadMXBean THREADS =
            (com.sun.management.ThreadMXBean) ManagementFactory.getThreadMXBean();

    private final List<String> problems = new ArrayList<>();
    private long accepted, rejected, maxAlloc, maxAllocFile;
    private boolean measureAlloc;

    @Test
    void mutatedFilesAreReadCorrectlyOrRejectedCleanly() throws Exception {
        Random rnd = new Random(SEED);
        List<byte[]> corpus = corpus(rnd);
        Path file = dir.resolve("fuzz.safetensors");
        FloatBuffer buf = FloatBuffer.allocate(4096);
        int[] opCount = new int[12];
        // warm up (class loading, JIT) on cases from another seed, so allocation is not dominated by one-time costs
        measureAlloc = false;
        Random warm = new Random(~SEED);
        for (int i = 0; i < 300; i++) check(mutate(corpus.get(warm.nextInt(corpus.size())), warm.nextInt(12), warm), file, buf, "warmup " + i);
        measureAlloc = true;
        accepted = rejected = 0;
        maxAlloc = 0;
        long t0 = System.nanoTime();
        int cases = 0;
        for (int i = 0; i < FILE_CASES; i++, cases++) {
            byte[] base = corpus.get(rnd.nextInt(corpus.size()));
            int op = rnd.nextInt(opCount.length);
            opCount[op]++;
            byte[] m = mutate(base, op, rnd);
            check(m, file, buf, "case " + i + " op " + op);
            if (problems.size() > 20) break;
        }
        long t1 = System.nanoTime();
        int indexCases = fuzzIndex(rnd);
        long t2 = System.nanoTime();
        System.out.printf("[fuzz] seed %x: %d file cases (%d accepted, %d rejected) in %.1f s; %d index cases in %.1f s; ops %s; "
                        + "max heap allocated while opening and reading one case: %d bytes (file of %d bytes)%n",
                SEED, cases, accepted, rejected, (t1 - t0) / 1e9, indexCases, (t2 - t1) / 1e9, Arrays.toString(opCount),
                maxAlloc, maxAllocFile);
        assertTrue(problems.isEmpty(), problems.size() + " problems:\n" + String.join("\n", problems));
        assertTrue(accepted > 1000 && rejected > 1000, "fuzzing must exercise both outcomes: " + accepted + "/" + rejected);
    }

    /** Valid files of every dtype, with and without metadata, padding, zero-size and scalar tensors. */
    private static List<byte[]> corpus(Random rnd) {
        List<byte[]> out = new ArrayList<>();
        byte[] any = new byte[64];
        rnd.nextBytes(any);
        out.add(new Raw().metadata("{\"format\":\"pt\"}").add("a", "F32", shape(2, 2), Raw.f32(1, -2, Float.NaN, 0x1p-149f))
                .add("b", "BF16", shape(3), Raw.u16(0x3F80, 0x7F81, 0x8001)).bytes());
        out.add(new Raw().add("w", "F8_E4M3", shape(2, 4), Arrays.copyOf(any, 8)).add("w_scale_inv", "F32", shape(1, 1), Raw.f32(0.5f))
                .add("e", "F8_E5M2", shape(5), Arrays.copyOfRange(any, 8, 13)).bytes());
        out.add(new Raw().add("h", "F16", shape(4), Arrays.copyOfRange(any, 16, 24)).add("d", "F64", shape(2), Raw.f64(1e300, -1e-300))
                .add("s", "F32", shape(), Raw.f32(3)).add("z", "BF16", shape(0, 3), new byte[0]).bytes());
        out.add(new Raw().add("ids", "I64", shape(2), Raw.i64(-1, 7)).add("m", "BOOL", shape(3), Raw.u8(1, 0, 1))
                .add("u", "U8", shape(1), Raw.u8(200)).add("x", "BF16", shape(2), Raw.u16(0x4049, 0xC049)).bytes());
        String h = "{\"t\":{\"dtype\":\"BF16\",\"shape\":[2,3],\"data_offsets\":[0,12]}}"; // unpadded, like MLX
        byte[] hb = h.getBytes(StandardCharsets.UTF_8);
        out.add(Raw.file(hb.length, hb, Arrays.copyOf(any, 12)));
        out.add(Raw.file("{}", new byte[0]));
        return out;
    }

    private byte[] mutate(byte[] base, int op, Random rnd) {
        byte[] b = base.clone();
        long n = ByteBuffer.wrap(b).order(ByteOrder.LITTLE_ENDIAN).getLong(0);
        int headerEnd = (int) Math.min(b.length, 8 + n);
        switch (op) {
            case 0 -> { // bit flips anywhere
                int k = 1 + rnd.nextInt(4);
                for (int i = 0; i < k; i++) b[rnd.nextInt(b.length)] ^= (byte) (1 << rnd.nextInt(8));
            }
            case 1 -> { // bit flips in the header text
                if (headerEnd > 8) b[8 + rnd.nextInt(headerEnd - 8)] ^= (byte) (1 << rnd.nextInt(8));
            }
            case 2 -> { // an interesting byte in the header text
                byte[] interesting = "{}[]\",:-0123456789eE. \\\u0000".getBytes(StandardCharsets.ISO_8859_1);
                if (headerEnd > 8) b[8 + rnd.nextInt(headerEnd - 8)] = interesting[rnd.nextInt(interesting.length)];
            }
            case 3 -> b = Arrays.copyOf(b, rnd.nextInt(b.length + 1)); // truncation
            case 4 -> { // random bytes appended
                byte[] extra = new byte[1 + rnd.nextInt(16)];
                rnd.nextBytes(extra);
                byte[] c = Arrays.copyOf(b, b.length + extra.length);
                System.arraycopy(extra, 0, c, b.length, extra.length);
                b = c;
            }
            case 5 -> { // random header-length field
                long v = switch (rnd.nextInt(6)) {
                    case 0 -> rnd.nextLong();
                    case 1 -> n + rnd.nextInt(17) - 8;
                    case 2 -> rnd.nextInt(200);
                    case 3 -> SafetensorsFile.MAX_HEADER_BYTES + rnd.nextInt(3) - 1;
                    case 4 -> b.length - 8 - rnd.nextInt(3);
                    default -> -(1 + rnd.nextInt(1000));
                };
                ByteBuffer.wrap(b).order(ByteOrder.LITTLE_ENDIAN).putLong(0, v);
            }
            case 6 -> b = randomFile(rnd); // random JSON
            case 7 -> b = replaceNumber(b, headerEnd, rnd); // a number in the header replaced
            case 8 -> b = replaceDtype(b, headerEnd, rnd);
            case 9, 10 -> { // data bit flips: still valid, values must follow the bytes
                if (b.length > headerEnd) for (int i = 0; i < 3; i++) b[headerEnd + rnd.nextInt(b.length - headerEnd)] ^= (byte) (1 << rnd.nextInt(8));
            }
            default -> { // random length in the middle: delete or duplicate a slice
                int at = rnd.nextInt(b.length);
                int len = rnd.nextInt(Math.min(16, b.length - at) + 1);
                if (rnd.nextBoolean()) {
                    byte[] c = new byte[b.length - len];
                    System.arraycopy(b, 0, c, 0, at);
                    System.arraycopy(b, at + len, c, at, b.length - at - len);
                    b = c;
                } else {
                    byte[] c = new byte[b.length + len];
                    System.arraycopy(b, 0, c, 0, at + len);
                    System.arraycopy(b, at, c, at + len, b.length - at);
                    b = c;
                }
            }
        }
        return b;
    }

    /** A random but plausible header: entries with random dtypes, shapes and offsets, often self-consistent. */
    private static byte[] randomFile(Random rnd) {
        StringBuilder h = new StringBuilder("{");
        int entries = rnd.nextInt(5);
        long off = 0;
        boolean consistent = rnd.nextInt(3) > 0;
        String[] names = {"a", "b", "c", "__metadata__", "a", "w.weight", "w.weight_scale_inv", "\\u00e9", "x\\ny"};
        for (int i = 0; i < entries; i++) {
            if (i > 0) h.append(',');
            String name = names[rnd.nextInt(names.length)];
            h.append('"').append(name).append("\":");
            if (name.equals("__metadata__")) {
                h.append(rnd.nextBoolean() ? "{\"k\":\"v\"}" : rnd.nextBoolean() ? "{\"k\":1}" : "[]");
                continue;
            }
            switch (rnd.nextInt(12)) {
                case 0 -> {
                    h.append(rnd.nextBoolean() ? "[]" : "null");
                    continue;
                }
                case 1 -> {
                    h.append("{\"dtype\":\"F32\"}");
                    continue;
                }
                default -> { }
            }
            String dt = rnd.nextInt(10) == 0 ? BAD_DTYPES[rnd.nextInt(BAD_DTYPES.length)] : DTYPES[rnd.nextInt(DTYPES.length)];
            int rank = rnd.nextInt(4);
            long[] shape = new long[rank];
            long numel = 1;
            for (int k = 0; k < rank; k++) {
                shape[k] = switch (rnd.nextInt(10)) {
                    case 0 -> 0;
                    case 1 -> -1;
                    case 2 -> 1L << (20 + rnd.nextInt(43));
                    default -> 1 + rnd.nextInt(4);
                };
                numel *= shape[k];
            }
            int size = dtypeSize(dt);
            long bytes = numel * Math.max(size, 1);
            long begin = consistent ? off : rnd.nextInt(64);
            long end = consistent ? off + bytes : begin + rnd.nextInt(64) - 8;
            off = Math.max(off, end);
            h.append("{\"dtype\":\"").append(dt).append("\",\"shape\":").append(Arrays.toString(shape).replace(" ", ""))
                    .append(",\"data_offsets\":[").append(begin).append(',').append(end).append("]}");
        }
        h.append('}');
        long dataLen = consistent ? off : rnd.nextInt(80);
        if (dataLen < 0 || dataLen > 4096) dataLen = rnd.nextInt(80);
        byte[] data = new byte[(int) dataLen];
        rnd.nextBytes(data);
        return Raw.file(h.toString(), data);
    }

    private static byte[] replaceNumber(byte[] b, int headerEnd, Random rnd) {
        String h = new String(b, 8, Math.max(0, headerEnd - 8), StandardCharsets.ISO_8859_1);
        List<int[]> spans = new ArrayList<>();
        for (int i = 0; i < h.length(); i++) {
            if (Character.isDigit(h.charAt(i))) {
                int j = i;
                while (j < h.length() && Character.isDigit(h.charAt(j))) j++;
                spans.add(new int[] {i, j});
                i = j;
            }
        }
        if (spans.isEmpty()) return b;
        int[] s = spans.get(rnd.nextInt(spans.size()));
        String[] repl = {"0", "1", "-1", "4", "8", "9223372036854775807", "9223372036854775808", "18446744073709551615",
                "99999999999999999999999", "1e3", "2.0", "4611686018427387904", "-0", "" + rnd.nextInt(100)};
        String nh = h.substring(0, s[0]) + repl[rnd.nextInt(repl.length)] + h.substring(s[1]);
        byte[] data = Arrays.copyOfRange(b, headerEnd, b.length);
        return rnd.nextBoolean() ? Raw.file(nh, data) : Raw.file(nh.length(), nh.getBytes(StandardCharsets.ISO_8859_1), data);
    }

    private static byte[] replaceDtype(byte[] b, int headerEnd, Random rnd) {
        String h = new String(b, 8, Math.max(0, headerEnd - 8), StandardCharsets.ISO_8859_1);
        int at = h.indexOf("\"dtype\":\"");
        if (at < 0) return b;
        int s = at + 9, e = h.indexOf('"', s);
        String all = rnd.nextInt(4) == 0 ? BAD_DTYPES[rnd.nextInt(BAD_DTYPES.length)] : DTYPES[rnd.nextInt(DTYPES.length)];
        String nh = h.substring(0, s) + all + h.substring(e);
        return Raw.file(nh, Arrays.copyOfRange(b, headerEnd, b.length));
    }

    private void check(byte[] bytes, Path file, FloatBuffer buf, String label) throws Exception {
        Files.write(file, bytes);
        String expectError = RefCheck.validate(bytes);
        long tid = Thread.currentThread().getId();
        long before = THREADS.getThreadAllocatedBytes(tid);
        boolean loaderAccepted;
        String loaderError = null;
        try (SafetensorsFile f = SafetensorsFile.open(file)) {
            loaderAccepted = true;
            for (TensorInfo t : f.tensors().values()) readAndCompare(f, t, bytes, buf, label);
        } catch (SafetensorsException e) {
            loaderAccepted = false;
            loaderError = e.getMessage();
            if (loaderError == null || loaderError.contains("\n") || loaderError.contains("\r") || !loaderError.contains(file.getFileName().toString())) {
                problems.add(label + ": bad message: " + loaderError);
            }
        } catch (Throwable e) {
            problems.add(label + ": " + e.getClass().getName() + ": " + e.getMessage() + " on " + describe(bytes));
            return;
        }
        long alloc = THREADS.getThreadAllocatedBytes(tid) - before;
        if (measureAlloc && alloc > maxAlloc) {
            maxAlloc = alloc;
            maxAllocFile = bytes.length;
        }
        if (measureAlloc && alloc > 16L * bytes.length + 128 * 1024) {
            problems.add(label + ": allocated " + alloc + " bytes for a file of " + bytes.length + " bytes");
        }
        if (loaderAccepted) accepted++;
        else rejected++;
        if (loaderAccepted && expectError != null) {
            problems.add(label + ": ACCEPTED but the reference check says: " + expectError + " on " + describe(bytes));
        } else if (!loaderAccepted && expectError == null) {
            problems.add(label + ": rejected a file the reference check accepts: " + loaderError + " on " + describe(bytes));
        }
    }

    /** Decodes every tensor in chunks and compares with the reference decode of the same bytes. */
    private void readAndCompare(SafetensorsFile f, TensorInfo t, byte[] bytes, FloatBuffer buf, String label) {
        int off = (int) t.fileOffset();
        ByteBuffer le = ByteBuffer.wrap(bytes).order(ByteOrder.LITTLE_ENDIAN);
        if (!t.dtype().isFloat()) {
            long[] v = f.readLongs(t);
            for (int i = 0; i < v.length; i++) {
                long want = switch (t.dtype()) {
                    case I64, U64 -> le.getLong(off + 8 * i);
                    case I32 -> le.getInt(off + 4 * i);
                    case U32 -> le.getInt(off + 4 * i) & 0xFFFFFFFFL;
                    case I16 -> le.getShort(off + 2 * i);
                    case U16 -> le.getShort(off + 2 * i) & 0xFFFF;
                    case I8 -> bytes[off + i];
                    default -> bytes[off + i] & 0xFF;
                };
                if (v[i] != want) problems.add(label + ": " + t.name() + "[" + i + "] = " + v[i] + ", bytes say " + want);
            }
            return;
        }
        long n = t.numel();
        for (long from = 0; from < n; from += buf.capacity()) {
            int m = (int) Math.min(buf.capacity(), n - from);
            buf.clear();
            f.readF32(t, from, m, buf);
            for (int i = 0; i < m; i++) {
                int at = off + (int) (from + i) * t.dtype().size();
                float want = switch (t.dtype()) {
                    case F32 -> le.getFloat(at);
                    case BF16 -> Raw.refBf16(le.getShort(at));
                    case F16 -> Raw.refF16(le.getShort(at) & 0xFFFF);
                    case F64 -> (float) le.getDouble(at);
                    case F8_E4M3 -> Raw.refE4M3(bytes[at] & 0xFF);
                    case F8_E5M2 -> Raw.refE5M2(bytes[at] & 0xFF);
                    default -> throw new IllegalStateException();
                };
                float got = buf.get(i);
                boolean same = Float.isNaN(want) ? Float.isNaN(got) && (t.dtype() != DType.F32 && t.dtype() != DType.BF16
                        || Float.floatToRawIntBits(want) == Float.floatToRawIntBits(got))
                        : Float.floatToRawIntBits(want) == Float.floatToRawIntBits(got);
                if (!same) problems.add(label + ": " + t.name() + "[" + (from + i) + "] = " + got + ", bytes say " + want);
            }
        }
    }

    private static String describe(byte[] b) {
        long n = b.length >= 8 ? ByteBuffer.wrap(b).order(ByteOrder.LITTLE_ENDIAN).getLong(0) : -1;
        String h = n > 0 && 8 + n <= b.length ? new String(b, 8, (int) n, StandardCharsets.UTF_8) : "";
        return "[" + b.length + " bytes, N=" + n + ", header=" + h.replace("\n", "\\n") + "]";
    }

    /** Index mutations: a checkpoint either opens with every tensor readable or fails with a SafetensorsException. */
    private int fuzzIndex(Random rnd) throws Exception {
        Path model = Files.createDirectory(dir.resolve("model"));
        new Raw().add("a", "F32", shape(2), Raw.f32(1, 2)).write(model.resolve("s1.safetensors"));
        new Raw().add("b", "BF16", shape(2), Raw.u16(0x3F80, 0x4000)).write(model.resolve("s2.safetensors"));
        new Raw().add("a", "F32", shape(1), Raw.f32(3)).write(dir.resolve("outside.safetensors"));
        String valid = "{\"metadata\":{\"total_size\":12},\"weight_map\":{\"a\":\"s1.safetensors\",\"b\":\"s2.safetensors\"}}";
        String[] names = {"s1.safetensors", "s2.safetensors", "../outside.safetensors", dir.resolve("outside.safetensors").toString(),
                "s3.safetensors", "", ".", "..", "./s1.safetensors", "model/s1.safetensors", "s1.safetensors\\u0000"};
        int cases = 0;
        for (int i = 0; i < INDEX_CASES; i++) {
            String idx;
            if (rnd.nextBoolean()) {
                byte[] v = valid.getBytes(StandardCharsets.UTF_8);
                int k = 1 + rnd.nextInt(3);
                for (int j = 0; j < k; j++) v[rnd.nextInt(v.length)] ^= (byte) (1 << rnd.nextInt(8));
                if (rnd.nextInt(4) == 0) v = Arrays.copyOf(v, rnd.nextInt(v.length));
                Files.write(model.resolve(Checkpoint.INDEX), v);
                idx = new String(v, StandardCharsets.ISO_8859_1);
            } else {
                idx = "{\"weight_map\":{\"a\":\"" + names[rnd.nextInt(names.length)] + "\",\"b\":\"" + names[rnd.nextInt(names.length)] + "\"}}";
                Files.writeString(model.resolve(Checkpoint.INDEX), idx);
            }
            cases++;
            try (Checkpoint ck = Checkpoint.open(model)) {
                for (TensorInfo t : ck.tensors().values()) {
                    if (!t.file().getParent().equals(model.toAbsolutePath().normalize())) {
                        problems.add("index case " + i + ": read a shard outside the model dir: " + t.file() + " from " + idx);
                    }
                    ck.load(t.name());
                }
                assertTrue(ck.load("a").getFloat(0) == 1f, idx);
            } catch (SafetensorsException e) {
                if (e.getMessage() == null || e.getMessage().contains("\n")) problems.add("index case " + i + ": bad message " + e.getMessage());
            } catch (Throwable e) {
                problems.add("index case " + i + ": " + e.getClass().getName() + ": " + e.getMessage() + " on " + idx);
            }
        }
        return cases;
    }

    static int dtypeSize(String dt) {
        return switch (dt) {
            case "BOOL", "U8", "I8", "F8_E5M2", "F8_E4M3" -> 1;
            case "I16", "U16", "F16", "BF16" -> 2;
            case "I32", "U32", "F32" -> 4;
            case "I64", "U64", "F64" -> 8;
            default -> 0;
        };
    }

    /**
     * An independent validator written from architectures.md 5.1 (JSON lexing via Jackson's tree
     * model, everything else here): null if valid, else the first rule broken.
     */
    static final class RefCheck {
        private static final ObjectMapper M = new ObjectMapper()
                .enable(JsonParser.Feature.STRICT_DUPLICATE_DETECTION)
                .enable(DeserializationFeature.FAIL_ON_TRAILING_TOKENS);
        private static final Set<String> KNOWN = Set.of("BOOL", "U8", "I8", "F8_E5M2", "F8_E4M3", "I16", "U16", "F16", "BF16",
                "I32", "U32", "F32", "I64", "U64", "F64");

        static String validate(byte[] b) {
            if (b.length < 8) return "short";
            long n = ByteBuffer.wrap(b).order(ByteOrder.LITTLE_ENDIAN).getLong(0);
            if (Long.compareUnsigned(n, 100_000_000L) > 0) return "header too large";
            if (8 + n > b.length) return "header past EOF";
            if (n == 0 || b[8] != '{') return "does not start with {";
            try {
                StandardCharsets.UTF_8.newDecoder().onMalformedInput(CodingErrorAction.REPORT)
                        .onUnmappableCharacter(CodingErrorAction.REPORT).decode(ByteBuffer.wrap(b, 8, (int) n));
            } catch (Exception e) {
                return "bad utf-8";
            }
            JsonNode root;
            try {
                root = M.readTree(new String(b, 8, (int) n, StandardCharsets.UTF_8));
            } catch (Exception e) {
                return "json: " + e.getClass().getSimpleName();
            }
            if (root == null || !root.isObject()) return "not an object";
            long buffer = b.length - 8 - n;
            List<long[]> ranges = new ArrayList<>();
            Iterator<Map.Entry<String, JsonNode>> it = root.fields();
            while (it.hasNext()) {
                Map.Entry<String, JsonNode> e = it.next();
                JsonNode v = e.getValue();
                if (e.getKey().equals("__metadata__")) {
                    if (!v.isObject()) return "metadata not object";
                    for (JsonNode x : (Iterable<JsonNode>) v::elements) if (!x.isTextual()) return "metadata value";
                    continue;
                }
                if (!v.isObject()) return "entry not object";
                JsonNode dt = v.get("dtype");
                if (dt == null || !dt.isTextual() || !KNOWN.contains(dt.textValue())) return "dtype";
                JsonNode sh = v.get("shape");
                if (sh == null || !sh.isArray() || sh.size() > SafetensorsFile.MAX_RANK) return "shape";
                long numel = 1;
                try {
                    for (JsonNode d : (Iterable<JsonNode>) sh::elements) {
                        if (!d.isIntegralNumber() || !d.canConvertToLong() || d.longValue() < 0) return "dim";
                        numel = Math.multiplyExact(numel, d.longValue());
                    }
                    numel = Math.multiplyExact(numel, (long) dtypeSize(dt.textValue()));
                } catch (ArithmeticException ex) {
                    return "overflow";
                }
                JsonNode off = v.get("data_offsets");
                if (off == null || !off.isArray() || off.size() != 2) return "offsets";
                for (JsonNode d : (Iterable<JsonNode>) off::elements) {
                    if (!d.isIntegralNumber() || !d.canConvertToLong() || d.longValue() < 0) return "offset value";
                }
                long s = off.get(0).longValue(), en = off.get(1).longValue();
                if (en < s || en > buffer) return "range";
                if (en - s != numel) return "size";
                ranges.add(new long[] {s, en});
            }
            ranges.sort((x, y) -> x[0] != y[0] ? Long.compare(x[0], y[0]) : Long.compare(x[1], y[1]));
            long pos = 0;
            for (long[] r : ranges) {
                if (r[0] != pos) return "not tiled";
                pos = r[1];
            }
            return pos == buffer ? null : "trailing";
        }
    }
}
