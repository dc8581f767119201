package org.depthlens.weights;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import org.depthlens.Fixtures;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.io.InputStream;
import java.nio.FloatBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.TreeSet;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * PyTorch .bin files written by a real torch (src/test/resources/torchbin/make_torchbin.py, torch
 * 1.13; the shared lns_code checkpoints by the torch that made those fixtures), against what that
 * script read back with torch itself and wrote as JSON: names, dtypes, shapes and values, bit for
 * bit, through every decoding path.
 */
class TorchFileTest {
    static final ObjectMapper JSON = new ObjectMapper();

    @TempDir
    Path tmp;

    /** Copies resource {@code torchbin/name} to the temp folder (as {@code as}). */
    Path resource(String name, String as) {
        Path p = tmp.resolve(as);
        return Files.exists(p) ? p : TorchZip.copyResource(name, p);
    }

    static JsonNode json(String name) throws IOException {
        try (InputStream in = TorchFileTest.class.getResourceAsStream("/torchbin/" + name)) {
            return JSON.readTree(in);
        }
    }

    @Test
    void viewsMatchTorchThroughEveryPath() throws Exception {
        for (String file : List.of("views.bin", "views_protocol4.bin", "views_dict.bin")) checkViews(resource(file, file));
    }

    /** A module's own state_dict(): torch pickles its _metadata as BUILD state, which is read past; BatchNorm's int64 0-dim counter. */
    @Test
    void moduleStateDictWithMetadata() throws Exception {
        JsonNode expected = json("module.json").get("tensors");
        try (Checkpoint ck = Checkpoint.open(resource("module.bin", "module.bin"))) {
            assertEquals(names(expected), new TreeSet<>(ck.tensors().keySet()));
            for (Iterator<Map.Entry<String, JsonNode>> it = expected.fields(); it.hasNext(); ) {
                Map.Entry<String, JsonNode> e = it.next();
                TensorInfo t = ck.require(e.getKey());
                assertEquals(e.getValue().get("dtype").asText(), t.dtype().name(), e.getKey());
                assertArrayEquals(longs(e.getValue().get("shape")), t.shape(), e.getKey());
                JsonNode values = e.getValue().get("values");
                if (t.dtype().isFloat()) {
                    float[] v = new float[values.size()];
                    for (int i = 0; i < v.length; i++) v[i] = (float) values.get(i).asDouble();
                    TestSupport.assertAllPaths(ck, e.getKey(), v, false);
                } else {
                    assertArrayEquals(longs(values), ck.files().get(0).readLongs(t), e.getKey());
                }
            }
            assertEquals(1, ck.files().get(0).readLongs(ck.require("1.num_batches_tracked"))[0]);
        }
    }

    /** Every zip field in its zip64 form, though the file is small. */
    @Test
    void zip64FieldsEverywhere() throws Exception {
        Path p = tmp.resolve("zip64.bin");
        TorchZip.write(p, TorchZip.entries(TorchZip.read(resource("views.bin", "views.bin"))), true);
        checkViews(p);
    }

    /**
     * An archive of 4.3 GB whose storages all start past 4 GiB: a hole of zeros (an entry torch would
     * not write, which the reader ignores) comes first, so the offsets of every later entry and the
     * central directory need zip64, and the hole's own size does too. Sparse: no disk, no time.
     */
    @Test
    void archiveOver4GB() throws Exception {
        List<TorchZip.Entry> entries = new ArrayList<>();
        entries.add(new TorchZip.Entry("views/filler", null, (1L << 32) + (300L << 20)));
        entries.addAll(TorchZip.entries(TorchZip.read(resource("views.bin", "views.bin"))));
        Path p = tmp.resolve("big.bin");
        TorchZip.write(p, entries, false);
        assertTrue(Files.size(p) > (1L << 32), "file of " + Files.size(p) + " bytes");
        checkViews(p);
        try (Checkpoint ck = Checkpoint.open(p)) {
            assertTrue(ck.require("emb").fileOffset() > (1L << 32));
        }
    }

    /**
     * A transposed BF16 view of a 2 GiB storage (its span is larger than one 1 GiB mapping, so the
     * gather's window must move) and a contiguous view starting past 2 GiB, in a sparse archive; the
     * pickle is written here the way torch.save writes one (protocol 2, _rebuild_tensor_v2). Values
     * poked into the storage are read back where offset + r * stride[0] + c * stride[1] puts them.
     */
    @Test
    void stridedViewOfAStorageLargerThanOneMapping() throws Exception {
        long n = 32768;
        long numel = n * n + 2048; // t covers elements [1024, n * n + 1024), tail the 1024 after
        byte[] pkl = new Pickle().stateDict(
                new Object[] {"t", "BFloat16Storage", "0", numel, 1024L, new long[] {n, n}, new long[] {1, n}},
                new Object[] {"tail", "BFloat16Storage", "0", numel, n * n + 1024, new long[] {1024}, new long[] {1}});
        Path p = tmp.resolve("strided.bin");
        // (row, col) of t and the bf16 bits poked at storage element 1024 + row + col * n
        long[][] at = {{0, 0}, {0, 16383}, {0, 16384}, {0, 32767}, {5, 7}, {32767, 32767}, {32767, 0}};
        // the storage's CRC-32 is that of the poked bytes: the reader checks every storage against it
        java.util.TreeMap<Long, Long> pokes = new java.util.TreeMap<>();
        for (int i = 0; i < at.length; i++) {
            long b = 2 * (1024 + at[i][0] + at[i][1] * n);
            int bits = 0x3F80 + i + 1;
            pokes.put(b, (long) (bits & 0xFF));
            pokes.put(b + 1, (long) ((bits >> 8) & 0xFF));
        }
        pokes.put(2 * (n * n + 2047), 0x40L);
        pokes.put(2 * (n * n + 2047) + 1, 0x40L);
        long[][] sorted = pokes.entrySet().stream().map(e -> new long[] {e.getKey(), e.getValue()}).toArray(long[][]::new);
        TorchZip.write(p, List.of(TorchZip.Entry.of("arch/data.pkl", pkl),
                new TorchZip.Entry("arch/data/0", null, numel * 2, TorchZip.crcOfZerosWith(numel * 2, sorted)),
                TorchZip.Entry.of("arch/version", "3\n".getBytes())), false);
        long start;
        try (Checkpoint ck = Checkpoint.open(p)) {
            start = ck.require("t").dataStart();
        }
        try (java.io.RandomAccessFile raf = new java.io.RandomAccessFile(p.toFile(), "rw")) {
            for (int i = 0; i < at.length; i++) {
                raf.seek(start + 2 * (1024 + at[i][0] + at[i][1] * n));
                int bits = 0x3F80 + i + 1;
                raf.write(new byte[] {(byte) bits, (byte) (bits >> 8)});
            }
            raf.seek(start + 2 * (n * n + 2047)); // last element of tail
            raf.write(new byte[] {(byte) 0x40, (byte) 0x40}); // bf16 0x4040 = 3.0
        }
        try (Checkpoint ck = Checkpoint.open(p)) {
            assertFalse(((TorchFile) ck.files().get(0)).isContiguous(ck.require("t")));
            org.nd4j.linalg.api.ndarray.INDArray row = org.nd4j.linalg.factory.Nd4j.create(org.nd4j.linalg.api.buffer.DataType.FLOAT, 1, n);
            for (long r : new long[] {0, 5, 32767}) {
                ck.loadRows("t", r, 1, row);
                float[] got = TestSupport.flat(row);
                for (int c = 0; c < n; c++) {
                    float want = 0;
                    for (int i = 0; i < at.length; i++) if (at[i][0] == r && at[i][1] == c) want = FloatDecoder.bf16(0x3F80 + i + 1);
                    assertEquals(want, got[c], 0f, "t[" + r + "][" + c + "]");
                }
            }
            float[] tail = TestSupport.flat(ck.load("tail"));
            assertEquals(3f, tail[1023], 0f);
            assertEquals(0f, tail[0], 0f);
        }
    }

    /** Writes state-dict pickles the way torch.save does (protocol 2), for files torch cannot make small. */
    static final class Pickle {
        private final java.io.ByteArrayOutputStream o = new java.io.ByteArrayOutputStream();

        /** Each tensor: {name, storage type, storage key, storage numel, offset, shape, stride}. */
        byte[] stateDict(Object[]... tensors) {
            o.write(0x80);
            o.write(2);
            global("collections", "OrderedDict");
            o.write(')');
            o.write('R');
            o.write('(');
            for (Object[] t : tensors) {
                str((String) t[0]);
                global("torch._utils", "_rebuild_tensor_v2");
                o.write('(');
                o.write('(');
                str("storage");
                global("torch", (String) t[1]);
                str((String) t[2]);
                str("cpu");
                integer((Long) t[3]);
                o.write('t');
                o.write('Q');
                integer((Long) t[4]);
                tuple((long[]) t[5]);
                tuple((long[]) t[6]);
                o.write(0x89);
                global("collections", "OrderedDict");
                o.write(')');
                o.write('R');
                o.write('t');
                o.write('R');
            }
            o.write('u');
            o.write('.');
            return o.toByteArray();
        }

        private void global(String module, String name) {
            o.write('c');
            o.writeBytes((module + "\n" + name + "\n").getBytes(java.nio.charset.StandardCharsets.US_ASCII));
        }

        private void str(String s) {
            byte[] b = s.getBytes(java.nio.charset.StandardCharsets.UTF_8);
            o.write('X');
            o.writeBytes(java.nio.ByteBuffer.allocate(4).order(java.nio.ByteOrder.LITTLE_ENDIAN).putInt(b.length).array());
            o.writeBytes(b);
        }

        private void integer(long v) { // BININT when it fits, else LONG1 of 8 bytes, as pickle does
            if (v >= Integer.MIN_VALUE && v <= Integer.MAX_VALUE) {
                o.write('J');
                o.writeBytes(java.nio.ByteBuffer.allocate(4).order(java.nio.ByteOrder.LITTLE_ENDIAN).putInt((int) v).array());
            } else {
                o.write(0x8a);
                o.write(8);
                o.writeBytes(java.nio.ByteBuffer.allocate(8).order(java.nio.ByteOrder.LITTLE_ENDIAN).putLong(v).array());
            }
        }

        private void tuple(long[] v) {
            o.write('(');
            for (long x : v) integer(x);
            o.write('t');
        }
    }

    private static void checkViews(Path p) throws Exception {
        JsonNode expected = json("views.json").get("tensors");
        String file = p.getFileName().toString();
        try (Checkpoint ck = Checkpoint.open(p)) {
            assertEquals("pytorch", ck.format());
            assertEquals(names(expected), new TreeSet<>(ck.tensors().keySet()), file);
            for (Iterator<Map.Entry<String, JsonNode>> it = expected.fields(); it.hasNext(); ) {
                Map.Entry<String, JsonNode> e = it.next();
                String name = e.getKey();
                JsonNode want = e.getValue();
                TensorInfo t = ck.require(name);
                String what = file + " " + name;
                assertEquals(want.get("dtype").asText(), t.dtype().name(), what);
                assertArrayEquals(longs(want.get("shape")), t.shape(), what);
                TorchFile tf = (TorchFile) ck.files().get(0);
                assertEquals(want.get("contiguous").asBoolean(), tf.isContiguous(t), what + " contiguous");
                JsonNode values = want.get("values");
                if (t.dtype().isFloat()) {
                    float[] v = new float[values.size()];
                    for (int i = 0; i < v.length; i++) v[i] = (float) values.get(i).asDouble();
                    TestSupport.assertAllPaths(ck, name, v, false);
                    if (v.length > 2) { // a range that starts inside the tensor
                        FloatBuffer fb = FloatBuffer.allocate(v.length - 1);
                        ck.read(name, 1, v.length - 1, fb);
                        TestSupport.assertBits(java.util.Arrays.copyOfRange(v, 1, v.length), fb.array(), what + " from 1", false);
                    }
                } else {
                    assertArrayEquals(longs(values), tf.readLongs(t), what);
                }
            }
            // the same storage, offsets in bytes as torch says
            TensorInfo emb = ck.require("emb");
            TensorInfo tied = ck.require("tied");
            assertEquals(emb.dataStart(), tied.dataStart());
            assertEquals(emb.begin(), tied.begin());
            assertEquals(emb.dataStart(), ck.require("row2").dataStart());
            assertEquals(8 * 4, ck.require("row2").begin());
            assertEquals(13 * 4, ck.require("scalar_view").begin());
        }
    }

    @Test
    void twoDimensionalRowsOfAStridedTensor() throws Exception {
        JsonNode want = json("views.json").get("tensors").get("transposed");
        try (Checkpoint ck = Checkpoint.open(resource("views.bin", "views.bin"))) {
            long[] shape = ck.require("transposed").shape(); // [5, 3], strides (1, 5)
            org.nd4j.linalg.api.ndarray.INDArray rows = org.nd4j.linalg.factory.Nd4j.create(org.nd4j.linalg.api.buffer.DataType.FLOAT, 2, shape[1]);
            ck.loadRows("transposed", 2, 2, rows);
            float[] got = TestSupport.flat(rows);
            for (int i = 0; i < got.length; i++) assertEquals((float) want.get("values").get((int) (2 * shape[1]) + i).asDouble(), got[i], 0f);
        }
    }

    @Test
    void everyLnsCodeCheckpointReadsAsTorchReadsIt() throws Exception {
        JsonNode fixtures = json("lns_code_expected.json").get("fixtures");
        int checked = 0;
        for (Iterator<Map.Entry<String, JsonNode>> it = fixtures.fields(); it.hasNext(); ) {
            Map.Entry<String, JsonNode> fx = it.next();
            Path dir = fx.getKey().equals("tiny-curse-24-lns-code") ? Fixtures.shared().resolve("checkpoints/tiny-curse-24-lns-code/lns")
                    : Fixtures.shared().resolve("fixtures/lns_code").resolve(fx.getKey()).resolve("model");
            JsonNode tensors = fx.getValue().get("tensors");
            try (Checkpoint ck = Checkpoint.open(dir)) {
                assertEquals("pytorch", ck.format(), fx.getKey());
                assertEquals(fx.getValue().get("files").size(), ck.files().size(), fx.getKey());
                assertEquals(names(tensors), new TreeSet<>(ck.tensors().keySet()), fx.getKey());
                for (Iterator<Map.Entry<String, JsonNode>> ti = tensors.fields(); ti.hasNext(); ) {
                    Map.Entry<String, JsonNode> e = ti.next();
                    String what = fx.getKey() + " " + e.getKey();
                    JsonNode want = e.getValue();
                    TensorInfo t = ck.require(e.getKey());
                    assertEquals(want.get("dtype").asText(), t.dtype().name(), what);
                    assertArrayEquals(longs(want.get("shape")), t.shape(), what);
                    assertEquals(want.get("file").asText(), t.file().getFileName().toString(), what);
                    float[] v = TestSupport.flat(ck.load(e.getKey()));
                    JsonNode first = want.get("first");
                    for (int i = 0; i < first.size(); i++) assertEquals((float) first.get(i).asDouble(), v[i], 0f, what + " element " + i);
                    assertEquals((float) want.get("last").asDouble(), v[v.length - 1], 0f, what + " last");
                    double sum = 0;
                    for (float x : v) sum += x;
                    double ref = want.get("sum").asDouble();
                    assertEquals(ref, sum, 1e-9 * Math.max(1, Math.abs(ref)) * v.length, what + " sum");
                    checked++;
                }
            }
        }
        assertTrue(checked > 600, "tensors checked: " + checked);
    }

    /**
     * The bundled LNS checkpoint saved the way the paper's code saves (.bin, by another torch than 1.13) holds the same
     * bf16 weights as its safetensors twin: every tensor of the twin, read by the safetensors reader,
     * equals the .bin's bit for bit; the .bin adds only the 24 rotary inv_freq buffers.
     */
    @Test
    void lnsCodeCheckpointEqualsItsSafetensorsTwin() {
        Path shared = Fixtures.shared().resolve("checkpoints");
        try (Checkpoint bin = Checkpoint.open(shared.resolve("tiny-curse-24-lns-code/lns"));
             Checkpoint st = Checkpoint.open(shared.resolve("tiny-curse-24/lns"))) {
            assertEquals("pytorch", bin.format());
            assertEquals("safetensors", st.format());
            TreeSet<String> extra = new TreeSet<>(bin.tensors().keySet());
            extra.removeAll(st.tensors().keySet());
            assertEquals(24, extra.size(), extra.toString());
            assertTrue(extra.stream().allMatch(n -> n.endsWith(".self_attn.rotary_emb.inv_freq")), extra.toString());
            for (TensorInfo t : st.tensors().values()) {
                TensorInfo b = bin.require(t.name());
                assertEquals(t.dtype(), b.dtype(), t.name());
                assertArrayEquals(t.shape(), b.shape(), t.name());
                TestSupport.assertBits(TestSupport.flat(st.load(t.name())), TestSupport.flat(bin.load(t.name())), t.name(), false);
            }
        }
    }

    @Test
    void safetensorsWinWhenBothArePresent() throws Exception {
        Path dir = tmp.resolve("both");
        Files.createDirectories(dir);
        Path hf = Fixtures.hf("llama").resolve("model");
        try (Stream<Path> s = Files.list(hf)) {
            for (Path p : s.toList()) Files.copy(p, dir.resolve(p.getFileName()));
        }
        resource("views.bin", "both/pytorch_model.bin");
        try (Checkpoint ck = Checkpoint.open(dir)) {
            assertEquals("safetensors", ck.format());
            assertEquals(List.of("pytorch_model.bin"), ck.shadowed());
            assertFalse(ck.has("emb"));
            assertTrue(ck.has("model.embed_tokens.weight"));
        }
        try (Stream<Path> s = Files.list(dir)) {
            for (Path p : s.filter(p -> p.toString().endsWith(".safetensors")).toList()) Files.delete(p);
        }
        try (Checkpoint ck = Checkpoint.open(dir)) {
            assertEquals("pytorch", ck.format());
            assertEquals(List.of(), ck.shadowed());
            assertTrue(ck.has("emb"));
        }
    }

    @Test
    void hostilePicklesAreRefusedWithoutRunningThem() throws Exception {
        Path marker = Path.of("/tmp/depthlens-pickle-was-executed");
        Files.deleteIfExists(marker);
        for (String[] c : new String[][] {{"os_system.bin", "'posix.system'"}, {"builtins_eval.bin", "'__builtin__.eval'"}}) {
            Path p = resource(c[0], c[0]);
            SafetensorsException e = assertThrows(SafetensorsException.class, () -> TorchFile.open(p));
            TestSupport.assertOneLine(e, p, null);
            assertTrue(e.getMessage().contains(c[1]) && e.getMessage().contains("data.pkl"), e.getMessage());
        }
        assertFalse(Files.exists(marker), "the pickle ran");
    }

    @Test
    void otherShapesOfFileAreRefusedByName() throws Exception {
        Path legacy = resource("legacy.bin", "legacy.bin");
        SafetensorsException e = assertThrows(SafetensorsException.class, () -> TorchFile.open(legacy));
        TestSupport.assertOneLine(e, legacy, null);
        assertTrue(e.getMessage().contains("legacy torch.save format"), e.getMessage());

        Path nested = resource("nested.bin", "nested.bin");
        e = assertThrows(SafetensorsException.class, () -> TorchFile.open(nested));
        TestSupport.assertOneLine(e, nested, "model");
        assertTrue(e.getMessage().contains("not a tensor"), e.getMessage());

        byte[] complex = new Pickle().stateDict(new Object[] {"c", "ComplexFloatStorage", "0", 2L, 0L, new long[] {2}, new long[] {1}});
        Path cf = tmp.resolve("complex.bin");
        TorchZip.write(cf, List.of(TorchZip.Entry.of("a/data.pkl", complex), TorchZip.Entry.of("a/data/0", new byte[16])), false);
        e = assertThrows(SafetensorsException.class, () -> TorchFile.open(cf));
        TestSupport.assertOneLine(e, cf, null);
        assertTrue(e.getMessage().contains("storage type 'torch.ComplexFloatStorage', which depthlens does not read"), e.getMessage());

        Path text = tmp.resolve("text.bin");
        Files.writeString(text, "hello, not a checkpoint");
        e = assertThrows(SafetensorsException.class, () -> TorchFile.open(text));
        TestSupport.assertOneLine(e, text, null);
        assertTrue(e.getMessage().contains("not a torch.save zip archive"), e.getMessage());
    }

    static TreeSet<String> names(JsonNode obj) {
        TreeSet<String> out = new TreeSet<>();
        obj.fieldNames().forEachRemaining(out::add);
        return out;
    }

    static long[] longs(JsonNode arr) {
        List<Long> l = new ArrayList<>();
        arr.forEach(x -> l.add(x.asLong()));
        return l.stream().mapToLong(Long::longValue).toArray();
    }
}
