package org.depthlens.weights;

import org.depthlens.weights.SafetensorsWriter.Spec;
import org.depthlens.weights.SafetensorsWriter.Tensor;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.indexing.NDArrayIndex;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.stream.Stream;

import static org.depthlens.weights.Raw.shape;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class SafetensorsWriterTest {
    @TempDir
    Path dir;

    private List<String> listing() throws IOException {
        try (Stream<Path> s = Files.list(dir)) {
            return s.map(p -> p.getFileName().toString()).sorted().toList();
        }
    }

    @Test
    void roundTripsEveryWritableTypeWithPaddedHeader() throws Exception {
        Path f = dir.resolve("model.safetensors");
        float[] v = {1.5f, -2.25f, 0x1p-149f, Float.NEGATIVE_INFINITY, -0.0f, 3.0e38f};
        Map<String, Tensor> m = new LinkedHashMap<>();
        m.put("z.f32", Tensor.f32(shape(2, 3), v));
        m.put("a.bf16", Tensor.of(DType.BF16, shape(6), v));
        m.put("m.f64", Tensor.of(DType.F64, shape(3, 2), v));
        m.put("ids", Tensor.i64(shape(3), new long[] {-5, 0, Long.MAX_VALUE}));
        m.put("i32", Tensor.of(DType.I32, shape(2), new long[] {Integer.MIN_VALUE, 7}));
        m.put("mask", Tensor.of(DType.BOOL, shape(3), new long[] {1, 0, 1}));
        m.put("half", Tensor.raw(DType.F16, shape(2), Raw.u16(0x3C00, 0x8001)));
        m.put("scalar", Tensor.f32(shape(), new float[] {42f}));
        m.put("empty", Tensor.f32(shape(0, 5), new float[0]));
        SafetensorsWriter.write(f, m, Map.of("format", "pt", "note", "x\ny"));

        byte[] bytes = Files.readAllBytes(f);
        long n = ByteBuffer.wrap(bytes).order(ByteOrder.LITTLE_ENDIAN).getLong(0);
        assertEquals(0, (8 + n) % 8);
        String header = new String(bytes, 8, (int) n, StandardCharsets.UTF_8);
        assertTrue(header.startsWith("{\"__metadata__\":{"), header);
        assertEquals(header.stripTrailing().length() + (header.length() - header.stripTrailing().length()), header.length());
        assertTrue(header.substring(header.stripTrailing().length()).chars().allMatch(c -> c == ' '));
        // tensors ordered by name in the header, and their data in the same order
        List<String> order = List.of("a.bf16", "empty", "half", "i32", "ids", "m.f64", "mask", "scalar", "z.f32");
        int last = -1;
        for (String t : order) {
            int at = header.indexOf("\"" + t + "\"");
            assertTrue(at > last, t + " out of order in " + header);
            last = at;
        }
        try (SafetensorsFile sf = SafetensorsFile.open(f)) {
            long prevEnd = 0;
            for (String t : order) {
                assertEquals(prevEnd, sf.tensors().get(t).begin(), t);
                prevEnd = sf.tensors().get(t).end();
            }
            assertEquals(Map.of("format", "pt", "note", "x\ny"), sf.metadata());
        }
        try (Checkpoint ck = Checkpoint.open(dir)) {
            TestSupport.assertBits(v, TestSupport.flat(ck.load("z.f32")), "f32", false);
            float[] bf = {1.5f, -2.25f, 0.0f, Float.NEGATIVE_INFINITY, -0.0f, 0x1.c4p127f}; // 3.0e38f = 0x7f61b1e6 rounds to 0x7f62
            TestSupport.assertBits(bf, TestSupport.flat(ck.load("a.bf16")), "bf16", false);
            TestSupport.assertBits(v, TestSupport.flat(ck.load("m.f64")), "f64", false);
            assertArrayEquals(new long[] {-5, 0, Long.MAX_VALUE}, ck.files().get(0).readLongs(ck.require("ids")));
            assertArrayEquals(new long[] {Integer.MIN_VALUE, 7}, ck.files().get(0).readLongs(ck.require("i32")));
            assertArrayEquals(new long[] {1, 0, 1}, ck.files().get(0).readLongs(ck.require("mask")));
            assertArrayEquals(new float[] {1f, -0x1p-24f}, TestSupport.flat(ck.load("half")));
            assertArrayEquals(new long[] {}, ck.require("scalar").shape());
            assertEquals(42f, ck.load("scalar").getFloat(0));
            assertEquals(0, ck.load("empty").length());
        }
        assertEquals(List.of("model.safetensors"), listing());
    }

    @Test
    void noMetadataMeansNoMetadataKey() throws Exception {
        Path f = dir.resolve("a.safetensors");
        SafetensorsWriter.write(f, Map.of("x", Tensor.f32(shape(1), new float[] {1})), null);
        String h = new String(Files.readAllBytes(f), StandardCharsets.UTF_8);
        assertFalse(h.contains("__metadata__"));
        SafetensorsWriter.write(f, Map.of("x", Tensor.f32(shape(1), new float[] {2})), Map.of());
        try (SafetensorsFile sf = SafetensorsFile.open(f)) {
            assertTrue(sf.metadata().isEmpty());
        }
        try (Checkpoint ck = Checkpoint.open(f)) { // overwritten atomically
            assertEquals(2f, ck.load("x").getFloat(0));
        }
    }

    /** torch's float -> bfloat16: round to nearest even, NaN to 0x7FC0, overflow to infinity. */
    @Test
    void bf16RoundsToNearestEven() {
        assertEquals(0x3F80, SafetensorsWriter.toBf16(1 + 0x1p-8f) & 0xFFFF);          // tie, down to even
        assertEquals(0x3F82, SafetensorsWriter.toBf16(1 + 3 * 0x1p-8f) & 0xFFFF);      // tie, up to even
        assertEquals(0x3F81, SafetensorsWriter.toBf16(1 + 0x1p-8f + 0x1p-20f) & 0xFFFF); // above the tie
        assertEquals(0x7FC0, SafetensorsWriter.toBf16(Float.NaN) & 0xFFFF);
        assertEquals(0x7F80, SafetensorsWriter.toBf16(Float.MAX_VALUE) & 0xFFFF);
        assertEquals(0xFF80, SafetensorsWriter.toBf16(-Float.MAX_VALUE) & 0xFFFF);
        assertEquals(0x8000, SafetensorsWriter.toBf16(-0.0f) & 0xFFFF);
        assertEquals(0x0000, SafetensorsWriter.toBf16(0x1p-149f) & 0xFFFF);
        for (int b = 0; b < 65536; b++) {
            float f = Raw.refBf16(b);
            if (!Float.isNaN(f)) assertEquals(b, SafetensorsWriter.toBf16(f) & 0xFFFF, "bf16 pattern " + b + " round trip");
        }
    }

    @Test
    void indarrayViewsAndDtypes() throws Exception {
        float[] vals = new float[24];
        for (int i = 0; i < 24; i++) vals[i] = i * 0.37f - 3;
        INDArray base = Nd4j.create(vals, new long[] {4, 6}, 'c');
        INDArray cols = base.get(NDArrayIndex.all(), NDArrayIndex.interval(1, 4)); // not contiguous
        INDArray rows = base.get(NDArrayIndex.interval(1, 3), NDArrayIndex.all()); // contiguous, offset
        INDArray dbl = Nd4j.createFromArray(new double[] {0.1, 1e-300, -3});
        Map<String, Tensor> m = new TreeMap<>();
        m.put("cols", Tensor.of(cols));
        m.put("rows", Tensor.of(rows));
        m.put("rowsBf16", Tensor.of(DType.BF16, rows));
        m.put("dbl", Tensor.of(DType.F64, dbl));
        m.put("dblAsF32", Tensor.of(dbl));
        Path f = dir.resolve("model.safetensors");
        SafetensorsWriter.write(f, m, null);
        try (Checkpoint ck = Checkpoint.open(dir)) {
            assertArrayEquals(TestSupport.flat(cols), TestSupport.flat(ck.load("cols")));
            assertArrayEquals(new long[] {4, 3}, ck.require("cols").shape());
            assertArrayEquals(TestSupport.flat(rows), TestSupport.flat(ck.load("rows")));
            float[] r = TestSupport.flat(rows);
            float[] rb = new float[r.length];
            for (int i = 0; i < r.length; i++) rb[i] = Raw.refBf16(SafetensorsWriter.toBf16(r[i]));
            TestSupport.assertBits(rb, TestSupport.flat(ck.load("rowsBf16")), "bf16 of view", false);
            assertArrayEquals(new float[] {0.1f, 0f, -3f}, TestSupport.flat(ck.load("dblAsF32")));
            ByteBuffer raw = ByteBuffer.wrap(Files.readAllBytes(f)).order(ByteOrder.LITTLE_ENDIAN);
            TensorInfo d = ck.require("dbl");
            assertEquals(1e-300, raw.getDouble((int) d.fileOffset() + 8)); // F64 from a double array is exact
        }
    }

    @Test
    void lazyTensorsAreMadeOneAtATimeInNameOrder() throws Exception {
        List<String> made = new ArrayList<>();
        Map<String, Tensor> m = new LinkedHashMap<>();
        for (String name : new String[] {"c", "a", "b"}) {
            m.put(name, Tensor.lazy(DType.F32, shape(2), () -> {
                made.add(name);
                return Tensor.f32(shape(2), new float[] {name.charAt(0), 0});
            }));
        }
        assertTrue(made.isEmpty());
        SafetensorsWriter.write(dir.resolve("model.safetensors"), m, null);
        assertEquals(List.of("a", "b", "c"), made);
        try (Checkpoint ck = Checkpoint.open(dir)) {
            assertEquals('b', ck.load("b").getFloat(0));
        }
    }

    /** A 64 MiB tensor pushed in uneven chunks by a streamed content never exists as one array. */
    @Test
    void streamedTensorInChunks() throws Exception {
        long n = 16L << 20;
        Tensor big = Tensor.streamed(DType.F32, shape(n / 1024, 1024), sink -> {
            float[] chunk = new float[100_003];
            for (long done = 0; done < n; ) {
                int m = (int) Math.min(chunk.length, n - done);
                for (int i = 0; i < m; i++) chunk[i] = (float) ((done + i) % 1000);
                sink.floats(chunk, 0, m);
                done += m;
            }
        });
        SafetensorsWriter.write(dir.resolve("model.safetensors"), Map.of("big", big), null);
        try (Checkpoint ck = Checkpoint.open(dir)) {
            INDArray a = ck.load("big");
            assertEquals((float) ((n - 1) % 1000), a.getFloat(n / 1024 - 1, 1023));
            assertEquals((float) (5_000_000 % 1000), a.getFloat(5_000_000 / 1024, 5_000_000 % 1024));
        }
    }

    /** The streaming API: data in the producer's order (layer 0, 1, ..., 10), header still sorted by name. */
    @Test
    void streamInProducerOrder() throws Exception {
        List<Spec> layout = new ArrayList<>();
        for (int l = 0; l <= 10; l++) layout.add(new Spec("resid." + l, DType.F32, shape(3)));
        Path f = dir.resolve("trace.safetensors");
        try (SafetensorsWriter.Stream s = SafetensorsWriter.open(f, layout, Map.of("kind", "trace"))) {
            for (int l = 0; l <= 10; l++) s.next("resid." + l).floats(new float[] {l, l + 0.5f, -l});
            s.commit();
        }
        String h = new String(Files.readAllBytes(f), StandardCharsets.UTF_8);
        assertTrue(h.indexOf("\"resid.10\"") < h.indexOf("\"resid.2\""), "header keys sorted by name");
        try (Checkpoint ck = Checkpoint.open(f)) {
            for (int l = 0; l <= 10; l++) assertArrayEquals(new float[] {l, l + 0.5f, -l}, TestSupport.flat(ck.load("resid." + l)));
            assertTrue(ck.require("resid.1").begin() < ck.require("resid.10").begin());
        }
    }

    @Test
    void failuresLeaveNothingAndKeepAnOldFile() throws Exception {
        Path f = dir.resolve("model.safetensors");
        SafetensorsWriter.write(f, Map.of("old", Tensor.f32(shape(1), new float[] {1})), null);
        byte[] before = Files.readAllBytes(f);

        Map<String, Tensor> boom = new TreeMap<>();
        boom.put("a", Tensor.f32(shape(4), new float[4]));
        boom.put("b", Tensor.lazy(DType.F32, shape(4), () -> {
            throw new IllegalStateException("producer failed");
        }));
        assertThrows(IllegalStateException.class, () -> SafetensorsWriter.write(f, boom, null));
        Map<String, Tensor> shortContent = Map.of("a", Tensor.streamed(DType.F32, shape(4), sink -> sink.floats(new float[3])));
        IllegalStateException e = assertThrows(IllegalStateException.class, () -> SafetensorsWriter.write(f, shortContent, null));
        assertTrue(e.getMessage().contains("'a'") && e.getMessage().contains("12 of its 16 bytes"), e.getMessage());
        Map<String, Tensor> longContent = Map.of("a", Tensor.streamed(DType.F32, shape(2), sink -> sink.floats(new float[3])));
        assertThrows(IllegalStateException.class, () -> SafetensorsWriter.write(f, longContent, null));
        Map<String, Tensor> wrongLazy = Map.of("a", Tensor.lazy(DType.F32, shape(2), () -> Tensor.f32(shape(3), new float[3])));
        assertThrows(IllegalStateException.class, () -> SafetensorsWriter.write(f, wrongLazy, null));
        Map<String, Tensor> badInt = Map.of("a", Tensor.of(DType.U8, shape(1), new long[] {256}));
        assertThrows(IllegalArgumentException.class, () -> SafetensorsWriter.write(f, badInt, null));
        try (SafetensorsWriter.Stream s = SafetensorsWriter.open(f, List.of(new Spec("x", DType.F32, shape(1))), null)) {
            s.next("x").floats(new float[] {1});
            // no commit: closing discards
        }
        try (SafetensorsWriter.Stream s = SafetensorsWriter.open(f, List.of(new Spec("x", DType.F32, shape(1)), new Spec("y", DType.F32, shape(1))), null)) {
            assertThrows(IllegalStateException.class, () -> s.next("y"));
        }

        assertArrayEquals(before, Files.readAllBytes(f));
        assertEquals(List.of("model.safetensors"), listing());

        assertThrows(UncheckedIOException.class,
                () -> SafetensorsWriter.write(dir.resolve("no/such/dir/x.safetensors"), Map.of("a", Tensor.f32(shape(1), new float[1])), null));
        assertThrows(IllegalArgumentException.class, () -> Tensor.f32(shape(2, 2), new float[3]));
        assertThrows(IllegalArgumentException.class, () -> Tensor.f32(shape(-1), new float[0]));
        assertThrows(IllegalArgumentException.class, () -> Tensor.of(DType.F16, shape(1), new float[1]));
        assertThrows(IllegalArgumentException.class,
                () -> SafetensorsWriter.write(f, Map.of("__metadata__", Tensor.f32(shape(1), new float[1])), null));
        assertEquals(List.of("model.safetensors"), listing());
    }

    @Test
    void shardedFailureRemovesItsShards() {
        Map<String, Tensor> m = new TreeMap<>();
        m.put("a", Tensor.f32(shape(30), new float[30]));
        m.put("b", Tensor.f32(shape(30), new float[30]));
        m.put("c", Tensor.lazy(DType.F32, shape(30), () -> {
            throw new IllegalStateException("boom");
        }));
        assertThrows(IllegalStateException.class, () -> SafetensorsWriter.writeSharded(dir, m, 100, null));
        assertEquals(List.of(), assertDoesNotThrowListing());
    }

    private List<String> assertDoesNotThrowListing() {
        try {
            return listing();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
