package org.depthlens.weights;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import org.depthlens.BadInputException;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

import java.lang.management.ManagementFactory;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.FloatBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Mutation fuzzing of the PyTorch reader (zip directory, pickle interpreter, storage views) with a
 * fixed seed. Every case must end as one of: accepted, with every tensor decoding the same through
 * the plain Java path and the native path; or rejected with a one-line {@link SafetensorsException}
 * that names the file. Never another exception, never a hang, and heap allocated per case stays
 * proportional to the file, so no length or count a file claims is ever allocated. Three kinds of
 * case have an exact expectation besides: a pickle naming any global outside the state-dict set is
 * always rejected, naming it; storage bytes flipped (pickle intact) are always accepted, with values
 * that follow the bytes as torch's own layout (views.json: offset, strides) puts them; a pickle
 * re-framed through the zip64 forms reads exactly as before.
 */
class TorchFuzzTest {
    @TempDir
    Path dir;

    static final long SEED = 0x70_2C_4B1EL;
    static final int CASES = 4_000;
    static final byte[] OPCODES = "(.0125BCGJKMNQRTUX]abcdehjlqrstu})\u0080\u0085\u0086\u0087\u0088\u0089\u008a\u008b\u008c\u008d\u008e\u0093\u0094\u0095"
            .getBytes(StandardCharsets.ISO_8859_1);
    /** Globals outside the allowed set; each must be refused by name. */
    static final String[] HOSTILE = {"posix\nsystem", "os\nsystem", "builtins\neval", "__builtin__\nexec", "subprocess\nPopen",
            "torch\nload", "torch._utils\n_rebuild_tensor_v3", "torch\nFloatStorageX", "collections\ndefaultdict", "__main__\nNet",
            "torch.nn.modules.linear\nLinear", "numpy.core.multiarray\n_reconstruct", "torch._utils\n_rebuild_qtensor"};
    static final String[] ALLOWED = {"collections\nOrderedDict", "torch._utils\n_rebuild_tensor_v2", "torch._utils\n_rebuild_tensor",
            "torch._utils\n_rebuild_parameter", "torch\nFloatStorage", "torch\nBFloat16Storage", "torch\nHalfStorage", "torch\nLongStorage"};

    private static final com.sun.management.ThreadMXBean THREADS =
            (com.sun.management.ThreadMXBean) ManagementFactory.getThreadMXBean();

    private final List<String> problems = new ArrayList<>();
    /** Native memory the fast path decodes into (one buffer for all cases, like the model's reused buffers). */
    private final INDArray scratch = Nd4j.create(DataType.FLOAT, 1 << 16);
    private long accepted, rejected, maxAlloc, maxAllocFile, slowest;
    private String slowestLabel;

    record Base(String name, LinkedHashMap<String, byte[]> entries, String pkl) {}

    @Test
    void mutatedCheckpointsAreReadCorrectlyOrRejectedCleanly() throws Exception {
        List<Base> corpus = new ArrayList<>();
        for (String n : List.of("views.bin", "views_protocol4.bin", "views_dict.bin", "module.bin", "nested.bin", "os_system.bin")) {
            LinkedHashMap<String, byte[]> e = TorchZip.read(TorchZip.copyResource(n, dir.resolve("src-" + n)));
            String pkl = e.keySet().stream().filter(k -> k.endsWith("/data.pkl")).findFirst().orElseThrow();
            corpus.add(new Base(n, e, pkl));
        }
        JsonNode views = new ObjectMapper().readTree(TorchZip.resource("views.json")).get("tensors");
        Random rnd = new Random(SEED);
        Path file = dir.resolve("fuzz.bin");
        int[] ops = new int[11];
        // warm-up on another seed: class loading and JIT are not the reader's allocations
        Random warm = new Random(~SEED);
        for (int i = 0; i < 200; i++) run(corpus.get(warm.nextInt(3)), warm.nextInt(ops.length), warm, file, views, false, "warm " + i);
        accepted = rejected = maxAlloc = 0;
        long t0 = System.nanoTime();
        long cpu0 = THREADS.getCurrentThreadCpuTime();
        int cases = 0;
        for (; cases < CASES && problems.size() < 20; cases++) {
            Base base = corpus.get(rnd.nextInt(corpus.size()));
            int op = rnd.nextInt(ops.length);
            ops[op]++;
            run(base, op, rnd, file, views, true, "case " + cases + " op " + op + " on " + base.name());
        }
        double secs = (System.nanoTime() - t0) / 1e9;
        double cpu = (THREADS.getCurrentThreadCpuTime() - cpu0) / 1e9;
        System.out.printf("[torch fuzz] seed %x: %d cases (%d accepted, %d rejected) in %.1f s (%.1f s CPU); ops %s; slowest case %.1f ms (%s);"
                        + " max heap allocated per case %d bytes (file of %d bytes)%n", SEED, cases, accepted, rejected, secs, cpu,
                Arrays.toString(ops), slowest / 1e6, slowestLabel, maxAlloc, maxAllocFile);
        assertTrue(problems.isEmpty(), problems.size() + " problems:\n" + String.join("\n", problems));
        assertTrue(accepted > 300 && rejected > 1500, "fuzzing must exercise both outcomes: " + accepted + "/" + rejected);
        assertTrue(secs < 60, "fuzzing took " + secs + " s");
    }

    private void run(Base base, int op, Random rnd, Path file, JsonNode views, boolean measure, String label) throws Exception {
        LinkedHashMap<String, byte[]> e = new LinkedHashMap<>(base.entries());
        byte[] pkl = e.get(base.pkl());
        String expect = null; // "reject:<text>" or "values"
        boolean zip64 = false;
        byte[] raw = null; // whole-file mutation
        switch (op) {
            case 0 -> { // bit flips in the pickle
                byte[] b = pkl.clone();
                for (int i = 0, k = 1 + rnd.nextInt(3); i < k; i++) b[rnd.nextInt(b.length)] ^= (byte) (1 << rnd.nextInt(8));
                e.put(base.pkl(), b);
            }
            case 1 -> { // an opcode byte anywhere
                byte[] b = pkl.clone();
                b[rnd.nextInt(b.length)] = OPCODES[rnd.nextInt(OPCODES.length)];
                e.put(base.pkl(), b);
            }
            case 2 -> e.put(base.pkl(), Arrays.copyOf(pkl, rnd.nextInt(pkl.length + 1))); // truncated pickle
            case 3 -> e.put(base.pkl(), slice(pkl, rnd)); // a slice deleted or duplicated
            case 4 -> e.put(base.pkl(), smallInts(pkl, rnd)); // sizes, strides, offsets, storage sizes, memo indices
            case 5 -> { // a global replaced: hostile ones must be refused by name
                String g = rnd.nextInt(3) == 0 ? ALLOWED[rnd.nextInt(ALLOWED.length)] : HOSTILE[rnd.nextInt(HOSTILE.length)];
                byte[] b = replaceGlobal(pkl, g, rnd);
                if (b != null) {
                    e.put(base.pkl(), b);
                    if (Arrays.asList(HOSTILE).contains(g)) expect = "reject:'" + g.replace('\n', '.') + "'";
                }
            }
            case 6 -> e.put(base.pkl(), randomPickle(rnd)); // a random opcode program
            case 7 -> { // storage bytes flipped, pickle intact: accepted, values follow the bytes
                if (base.name().startsWith("views")) {
                    List<String> storages = e.keySet().stream().filter(k -> k.contains("/data/")).toList();
                    String s = storages.get(rnd.nextInt(storages.size()));
                    byte[] b = e.get(s).clone();
                    if (b.length > 0) b[rnd.nextInt(b.length)] ^= (byte) (1 << rnd.nextInt(8));
                    e.put(s, b);
                    expect = "values";
                }
            }
            case 8 -> { // zip64 forms everywhere: must read exactly as the original
                zip64 = true;
                if (base.name().startsWith("views")) expect = "values";
            }
            case 9 -> { // a storage entry of another length
                List<String> storages = e.keySet().stream().filter(k -> k.contains("/data/")).toList();
                if (!storages.isEmpty()) {
                    String s = storages.get(rnd.nextInt(storages.size()));
                    byte[] b = e.get(s);
                    e.put(s, Arrays.copyOf(b, Math.max(0, b.length + rnd.nextInt(9) - 6)));
                }
            }
            default -> raw = new byte[0]; // whole-file mutation below
        }
        List<TorchZip.Entry> list = TorchZip.entries(e);
        TorchZip.write(file, list, zip64);
        if (raw != null) { // bit flips, truncation or junk in the zip structure itself
            byte[] b = Files.readAllBytes(file);
            switch (rnd.nextInt(3)) {
                case 0 -> {
                    for (int i = 0, k = 1 + rnd.nextInt(4); i < k; i++) {
                        int at = rnd.nextBoolean() ? rnd.nextInt(b.length) : b.length - 1 - rnd.nextInt(Math.min(b.length, 400));
                        b[at] ^= (byte) (1 << rnd.nextInt(8));
                    }
                }
                case 1 -> b = Arrays.copyOf(b, rnd.nextInt(b.length + 1));
                default -> {
                    int at = b.length - 1 - rnd.nextInt(Math.min(b.length, 400));
                    ByteBuffer.wrap(b).order(ByteOrder.LITTLE_ENDIAN).putInt(Math.max(0, at - 3),
                            rnd.nextBoolean() ? -1 : rnd.nextInt(1 << 20));
                }
            }
            Files.write(file, b);
        }
        check(file, expect, views, measure, label);
    }

    private void check(Path file, String expect, JsonNode views, boolean measure, String label) {
        long tid = Thread.currentThread().getId();
        long before = THREADS.getThreadAllocatedBytes(tid);
        long t0 = System.nanoTime();
        TorchFile f = null;
        String error = null;
        try {
            f = TorchFile.open(file);
        } catch (SafetensorsException ex) {
            error = ex.getMessage();
        } catch (Throwable t) {
            problems.add(label + ": " + t.getClass().getName() + ": " + t.getMessage());
            return;
        }
        long alloc = THREADS.getThreadAllocatedBytes(tid) - before;
        long took = System.nanoTime() - t0;
        try {
            long size = Files.size(file);
            if (measure) {
                if (alloc > maxAlloc) {
                    maxAlloc = alloc;
                    maxAllocFile = size;
                }
                if (took > slowest) {
                    slowest = took;
                    slowestLabel = label;
                }
                if (alloc > 256L * size + (1 << 20)) problems.add(label + ": opening allocated " + alloc + " bytes for a file of " + size);
            }
            if (error != null) {
                rejected++;
                if (error.contains("\n") || error.contains("\r") || !error.contains(file.getFileName().toString())) {
                    problems.add(label + ": rejection not one line naming the file: " + error);
                }
                if ("values".equals(expect)) problems.add(label + ": a valid file was rejected: " + error);
                if (expect != null && expect.startsWith("reject:") && !error.contains(expect.substring(7))) {
                    problems.add(label + ": expected a refusal naming " + expect.substring(7) + ", got: " + error);
                }
                return;
            }
            accepted++;
            if (expect != null && expect.startsWith("reject:")) problems.add(label + ": a hostile global was accepted: " + expect);
            decodeAll(f, label, "values".equals(expect) ? views : null, Files.readAllBytes(file));
        } catch (BadInputException ex) {
            String m = ex.getMessage();
            if (m.contains("\n") || !m.contains(file.getFileName().toString())) problems.add(label + ": decode error not one line: " + m);
        } catch (Throwable t) {
            problems.add(label + ": " + t.getClass().getName() + ": " + t.getMessage());
        } finally {
            if (f != null) f.close();
        }
    }

    /** Every tensor through readF32/readLongs and (floats) the native path; with {@code views}, against torch's layout. */
    private void decodeAll(TorchFile f, String label, JsonNode views, byte[] fileBytes) {
        for (TensorInfo t : f.tensors().values()) {
            long n = t.numel();
            if (n > 1 << 16) continue; // a broadcast view may be huge and valid; its layout was checked on open
            if (!t.dtype().isFloat()) {
                long[] v = f.readLongs(t);
                if (views != null) compareLongs(t, v, views.get(t.name()), fileBytes, label);
                continue;
            }
            FloatBuffer a = FloatBuffer.allocate((int) n);
            f.readF32(t, 0, n, a);
            if (n > 0) {
                long address = NativeMemory.address(scratch);
                f.readF32ToAddress(t, 0, n, address, 1 << 16);
                FloatBuffer b = NativeMemory.window(address, n * 4).asFloatBuffer();
                for (int i = 0; i < n; i++) {
                    if (Float.floatToRawIntBits(a.get(i)) != Float.floatToRawIntBits(b.get(i))) {
                        problems.add(label + ": tensor " + t.name() + " element " + i + " differs between paths");
                        break;
                    }
                }
            }
            if (views != null) compareFloats(t, a.array(), views.get(t.name()), fileBytes, label);
        }
    }

    /** Element positions in the storage, in c order, as torch's layout (views.json) puts them. */
    private long[] positions(JsonNode want) {
        long[] shape = TorchFileTest.longs(want.get("shape"));
        long[] stride = TorchFileTest.longs(want.get("stride"));
        long n = 1;
        for (long s : shape) n *= s;
        long[] out = new long[(int) n];
        long[] idx = new long[shape.length];
        for (int i = 0; i < n; i++) {
            long p = want.get("offset").asLong();
            for (int d = 0; d < shape.length; d++) p += idx[d] * stride[d];
            out[i] = p;
            for (int d = shape.length - 1; d >= 0; d--) {
                if (++idx[d] < shape[d]) break;
                idx[d] = 0;
            }
        }
        return out;
    }

    private void compareFloats(TensorInfo t, float[] got, JsonNode want, byte[] fileBytes, String label) {
        if (want == null) {
            problems.add(label + ": unexpected tensor " + t.name());
            return;
        }
        long[] pos = positions(want);
        ByteBuffer b = ByteBuffer.wrap(fileBytes).order(ByteOrder.LITTLE_ENDIAN);
        int es = t.dtype().size();
        for (int i = 0; i < pos.length; i++) {
            int at = (int) (t.dataStart() + pos[i] * es);
            float expect = switch (want.get("dtype").asText()) {
                case "F32" -> b.getFloat(at);
                case "F64" -> (float) b.getDouble(at);
                case "BF16" -> Float.intBitsToFloat((b.getShort(at) & 0xFFFF) << 16);
                case "F16" -> FloatDecoder.f16(b.getShort(at));
                default -> Float.NaN;
            };
            if (Float.floatToRawIntBits(expect) != Float.floatToRawIntBits(got[i])) {
                problems.add(label + ": tensor " + t.name() + " element " + i + " is " + got[i] + ", the bytes say " + expect);
                return;
            }
        }
    }

    private void compareLongs(TensorInfo t, long[] got, JsonNode want, byte[] fileBytes, String label) {
        long[] pos = positions(want);
        ByteBuffer b = ByteBuffer.wrap(fileBytes).order(ByteOrder.LITTLE_ENDIAN);
        int es = t.dtype().size();
        for (int i = 0; i < pos.length; i++) {
            int at = (int) (t.dataStart() + pos[i] * es);
            long expect = switch (want.get("dtype").asText()) {
                case "I64" -> b.getLong(at);
                case "I32" -> b.getInt(at);
                case "U8", "BOOL" -> b.get(at) & 0xFF;
                default -> Long.MIN_VALUE;
            };
            if (expect != got[i]) {
                problems.add(label + ": tensor " + t.name() + " element " + i + " is " + got[i] + ", the bytes say " + expect);
                return;
            }
        }
    }

    private static byte[] slice(byte[] b, Random rnd) {
        int at = rnd.nextInt(b.length);
        int len = rnd.nextInt(Math.min(24, b.length - at) + 1);
        byte[] c;
        if (rnd.nextBoolean()) {
            c = new byte[b.length - len];
            System.arraycopy(b, 0, c, 0, at);
            System.arraycopy(b, at + len, c, at, b.length - at - len);
        } else {
            c = new byte[b.length + len];
            System.arraycopy(b, 0, c, 0, at + len);
            System.arraycopy(b, at, c, at + len, b.length - at);
        }
        return c;
    }

    /** The argument of a BININT1/BININT2/BININT/BINGET/BINPUT replaced by an edge value. */
    private static byte[] smallInts(byte[] b, Random rnd) {
        byte[] c = b.clone();
        for (int tries = 0; tries < 50; tries++) {
            int i = rnd.nextInt(c.length - 1);
            int op = c[i] & 0xFF;
            int len = switch (op) {
                case 'K', 'h', 'q' -> 1;
                case 'M' -> 2;
                case 'J', 'j', 'r' -> 4;
                default -> 0;
            };
            if (len == 0 || i + len >= c.length) continue;
            long v = switch (rnd.nextInt(6)) {
                case 0 -> 0;
                case 1 -> -1;
                case 2 -> rnd.nextInt(256);
                case 3 -> Integer.MAX_VALUE;
                case 4 -> Integer.MIN_VALUE;
                default -> rnd.nextInt(70000);
            };
            for (int k = 0; k < len; k++) c[i + 1 + k] = (byte) (v >>> (8 * k));
            return c;
        }
        return c;
    }

    /** The first (or a random) GLOBAL's "module\nname" replaced; null if the pickle has none. */
    private static byte[] replaceGlobal(byte[] b, String g, Random rnd) {
        List<int[]> spans = new ArrayList<>();
        for (int i = 0; i < b.length; i++) {
            if (b[i] != 'c') continue;
            int nl1 = indexOf(b, (byte) '\n', i + 1, 80);
            if (nl1 < 0) continue;
            int nl2 = indexOf(b, (byte) '\n', nl1 + 1, 80);
            if (nl2 < 0) continue;
            String s = new String(b, i + 1, nl2 - i - 1, StandardCharsets.ISO_8859_1);
            if (s.startsWith("torch") || s.startsWith("collections") || s.startsWith("posix") || s.startsWith("__builtin__")) spans.add(new int[] {i + 1, nl2});
        }
        if (spans.isEmpty()) return null;
        int[] s = spans.get(rnd.nextInt(spans.size()));
        byte[] gb = g.getBytes(StandardCharsets.ISO_8859_1);
        byte[] c = new byte[b.length - (s[1] - s[0]) + gb.length];
        System.arraycopy(b, 0, c, 0, s[0]);
        System.arraycopy(gb, 0, c, s[0], gb.length);
        System.arraycopy(b, s[1], c, s[0] + gb.length, b.length - s[1]);
        return c;
    }

    private static int indexOf(byte[] b, byte x, int from, int max) {
        for (int i = from; i < b.length && i < from + max; i++) if (b[i] == x) return i;
        return -1;
    }

    /** A random program of opcodes with plausible arguments, ending in STOP. */
    private static byte[] randomPickle(Random rnd) {
        java.io.ByteArrayOutputStream o = new java.io.ByteArrayOutputStream();
        o.write(0x80);
        o.write(2);
        int n = rnd.nextInt(40);
        for (int i = 0; i < n; i++) {
            int op = OPCODES[rnd.nextInt(OPCODES.length)] & 0xFF;
            o.write(op);
            switch (op) {
                case 'K', 'h', 'q', 0x80 -> o.write(rnd.nextInt(4));
                case 'M' -> o.writeBytes(new byte[] {(byte) rnd.nextInt(8), 0});
                case 'J', 'j', 'r' -> o.writeBytes(new byte[] {(byte) rnd.nextInt(8), 0, 0, 0});
                case 'X', 'T', 'B' -> {
                    o.writeBytes(new byte[] {1, 0, 0, 0});
                    o.write('a' + rnd.nextInt(3));
                }
                case 0x8c, 'U', 'C' -> {
                    o.write(7);
                    o.write((rnd.nextBoolean() ? "storage" : "0\u0000cpu\u0000\u0000\u0000").getBytes(StandardCharsets.ISO_8859_1), 0, 7);
                }
                case 0x8a -> o.write(rnd.nextInt(10)); // LONG1 length; the bytes that follow are whatever comes next
                case 'c' -> o.writeBytes(ALLOWED[rnd.nextInt(ALLOWED.length)].concat("\n").getBytes(StandardCharsets.ISO_8859_1));
                case 'G' -> o.writeBytes(new byte[8]);
                default -> { }
            }
        }
        o.write('.');
        return o.toByteArray();
    }
}
