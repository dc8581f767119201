package org.depthlens.weights;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

import java.nio.file.Path;
import java.util.Random;

import static org.depthlens.weights.Raw.shape;
import static org.depthlens.weights.TestSupport.assertAllPaths;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

/** Every float dtype on hand-made files, against literal expected floats and independent formulas, through every decode path. */
class DTypeDecodeTest {
    @TempDir
    Path dir;

    private Checkpoint one(String dtype, long[] shape, byte[] bytes) throws Exception {
        Raw raw = new Raw().add("t", dtype, shape, bytes);
        if (dtype.startsWith("F8_")) {
            // FP8 is read with its block scales only: scales of 1 leave every decoded code as it is (NaN, -0 and inf too)
            long[] grid = {(shape[0] + 127) / 128, (shape[1] + 127) / 128};
            float[] ones = new float[(int) (grid[0] * grid[1])];
            java.util.Arrays.fill(ones, 1f);
            raw.add("t_scale_inv", "F32", grid, Raw.f32(ones));
        }
        raw.write(dir.resolve("model.safetensors"));
        return Checkpoint.open(dir);
    }

    @Test
    void f32KnownValues() throws Exception {
        float[] v = {1.5f, -2.25f, 0x1p-149f, -0x1.fffffcp-127f, Float.POSITIVE_INFINITY, Float.NEGATIVE_INFINITY,
                Float.intBitsToFloat(0x7FC00001), -0.0f, Float.MAX_VALUE, 3.4e-38f};
        try (Checkpoint ck = one("F32", shape(2, 5), Raw.f32(v))) {
            assertAllPaths(ck, "t", v, false); // NaN payload preserved bit for bit
            assertArrayEquals(new long[] {2, 5}, ck.load("t").shape());
        }
    }

    @Test
    void bf16KnownValues() throws Exception {
        int[] bits = {0x3F80, 0xC020, 0x0001, 0x8001, 0x7F80, 0xFF80, 0x7FC0, 0x7F81, 0x8000, 0x4049, 0x7F7F, 0x007F};
        float[] expected = {1.0f, -2.5f, 0x1p-133f, -0x1p-133f, Float.POSITIVE_INFINITY, Float.NEGATIVE_INFINITY,
                Float.intBitsToFloat(0x7FC00000), Float.intBitsToFloat(0x7F810000), -0.0f, 3.140625f, 0x1.fep127f, 0x1.fcp-127f};
        try (Checkpoint ck = one("BF16", shape(3, 4), Raw.u16(bits))) {
            assertAllPaths(ck, "t", expected, false);
        }
    }

    /** The classic BF16 bug: a path that silently returns zeros (e.g. Nd4j.createBuffer(ByteBuffer, BFLOAT16, n)). */
    @Test
    void bf16IsNeverSilentlyZero() throws Exception {
        Random r = new Random(7);
        int n = 4099;
        int[] bits = new int[n];
        float[] expected = new float[n];
        for (int i = 0; i < n; i++) {
            bits[i] = 0x3C00 + r.nextInt(0x0800) | (r.nextBoolean() ? 0x8000 : 0); // |x| in [2^-7, 2^9)
            expected[i] = Float.intBitsToFloat(bits[i] << 16);
        }
        try (Checkpoint ck = one("BF16", shape(n), Raw.u16(bits))) {
            for (Object[] p : TestSupport.allPaths(ck, "t")) {
                float[] got = (float[]) p[1];
                int zeros = 0;
                for (float g : got) if (g == 0f) zeros++;
                assertEquals(0, zeros, p[0] + " returned zeros");
                TestSupport.assertBits(expected, got, "t via " + p[0], false);
            }
            assertNotEquals(0.0, ck.load("t").norm2Number().doubleValue());
        }
    }

    /** All 65536 BF16 patterns: ND4J's zero-copy fast path equals the Java loop bit for bit (NaN payloads, subnormals, -0). */
    @Test
    void bf16FastPathEqualsJavaOnAllPatterns() throws Exception {
        int[] bits = new int[65536];
        float[] expected = new float[65536];
        for (int i = 0; i < bits.length; i++) {
            bits[i] = i;
            expected[i] = Raw.refBf16(i);
        }
        try (Checkpoint ck = one("BF16", shape(256, 256), Raw.u16(bits))) {
            assertAllPaths(ck, "t", expected, false);
        }
    }

    /** A BF16 tensor at an odd file offset (after a 1-byte tensor): the fast path must not be fed unaligned data. */
    @Test
    void bf16AtOddOffset() throws Exception {
        int[] bits = {0x3F80, 0xC020, 0x7FC1, 0x0001, 0x4049};
        float[] expected = new float[bits.length];
        for (int i = 0; i < bits.length; i++) expected[i] = Raw.refBf16(bits[i]);
        new Raw().add("a", "U8", shape(1), Raw.u8(5)).add("t", "BF16", shape(5), Raw.u16(bits)).write(dir.resolve("model.safetensors"));
        try (Checkpoint ck = Checkpoint.open(dir)) {
            assertEquals(1, ck.require("t").fileOffset() % 2);
            assertAllPaths(ck, "t", expected, false);
        }
    }

    @Test
    void f16KnownValues() throws Exception {
        int[] bits = {0x3C00, 0xC000, 0x0001, 0x03FF, 0x0400, 0x7BFF, 0xFBFF, 0x7C00, 0xFC00, 0x7E00, 0x8000, 0x3555, 0x8001};
        float[] expected = {1.0f, -2.0f, 0x1p-24f, 0x1.ff8p-15f, 0x1p-14f, 65504f, -65504f, Float.POSITIVE_INFINITY,
                Float.NEGATIVE_INFINITY, Float.intBitsToFloat(0x7FC00000), -0.0f, 0x1.554p-2f, -0x1p-24f};
        try (Checkpoint ck = one("F16", shape(13), Raw.u16(bits))) {
            assertAllPaths(ck, "t", expected, false);
        }
    }

    @Test
    void f16AllPatternsMatchFormula() throws Exception {
        int[] bits = new int[65536];
        float[] expected = new float[65536];
        for (int i = 0; i < bits.length; i++) {
            bits[i] = i;
            expected[i] = Raw.refF16(i);
        }
        try (Checkpoint ck = one("F16", shape(65536), Raw.u16(bits))) {
            assertAllPaths(ck, "t", expected, true);
        }
    }

    @Test
    void e4m3KnownValues() throws Exception {
        int[] b = {0x38, 0xB8, 0x01, 0x81, 0x07, 0x08, 0x7E, 0xFE, 0x7F, 0xFF, 0x80, 0x00, 0x3C, 0x77, 0x78};
        float[] expected = {1.0f, -1.0f, 0x1p-9f, -0x1p-9f, 7 * 0x1p-9f, 0x1p-6f, 448f, -448f, Float.NaN, Float.NaN, -0.0f, 0.0f,
                1.5f, 240f, 256f};
        try (Checkpoint ck = one("F8_E4M3", shape(1, 15), Raw.u8(b))) {
            assertAllPaths(ck, "t", expected, true);
            for (Object[] p : TestSupport.allPaths(ck, "t")) {
                float[] got = (float[]) p[1];
                for (float g : got) assertEquals(false, Float.isInfinite(g), "E4M3 has no infinities, " + p[0]);
            }
        }
    }

    @Test
    void e4m3AllPatternsMatchFormula() throws Exception {
        int[] b = new int[256];
        float[] expected = new float[256];
        for (int i = 0; i < 256; i++) {
            b[i] = i;
            expected[i] = Raw.refE4M3(i);
        }
        try (Checkpoint ck = one("F8_E4M3", shape(16, 16), Raw.u8(b))) {
            assertAllPaths(ck, "t", expected, true);
        }
        int nan = 0;
        float max = 0;
        for (int i = 0; i < 256; i++) {
            if (Float.isNaN(FloatDecoder.e4m3(i))) nan++;
            else max = Math.max(max, Math.abs(FloatDecoder.e4m3(i)));
        }
        assertEquals(2, nan); // 0x7F and 0xFF only
        assertEquals(448f, max);
    }

    @Test
    void e5m2KnownValues() throws Exception {
        int[] b = {0x3C, 0xBC, 0x01, 0x03, 0x04, 0x7B, 0xFB, 0x7C, 0xFC, 0x7D, 0x7E, 0xFF, 0x80, 0x3E};
        float[] expected = {1.0f, -1.0f, 0x1p-16f, 3 * 0x1p-16f, 0x1p-14f, 57344f, -57344f, Float.POSITIVE_INFINITY,
                Float.NEGATIVE_INFINITY, Float.NaN, Float.NaN, Float.NaN, -0.0f, 1.5f};
        try (Checkpoint ck = one("F8_E5M2", shape(1, 14), Raw.u8(b))) {
            assertAllPaths(ck, "t", expected, true);
        }
    }

    @Test
    void e5m2AllPatternsMatchFormula() throws Exception {
        int[] b = new int[256];
        float[] expected = new float[256];
        for (int i = 0; i < 256; i++) {
            b[i] = i;
            expected[i] = Raw.refE5M2(i);
        }
        try (Checkpoint ck = one("F8_E5M2", shape(2, 128), Raw.u8(b))) {
            assertAllPaths(ck, "t", expected, true);
        }
    }

    /** F64 to float32 rounds to nearest even, overflows to infinity and underflows to subnormals / zero. */
    @Test
    void f64KnownValues() throws Exception {
        double[] v = {1.5, -2.25, 1 + 0x1p-24, 1 + 0x1p-24 + 0x1p-30, 1 + 3 * 0x1p-24, 0x1p-149, 0x1p-150, 0x1.8p-150, 1e300, -1e300,
                Double.NaN, -0.0, 0x1p-140, Double.NEGATIVE_INFINITY, 0.1};
        float[] expected = {1.5f, -2.25f, 1.0f, 1 + 0x1p-23f, 1 + 2 * 0x1p-23f, 0x1p-149f, 0.0f, 0x1p-149f, Float.POSITIVE_INFINITY,
                Float.NEGATIVE_INFINITY, Float.NaN, -0.0f, 0x1p-140f, Float.NEGATIVE_INFINITY, 0.1f};
        try (Checkpoint ck = one("F64", shape(15), Raw.f64(v))) {
            assertAllPaths(ck, "t", expected, true);
        }
    }

    @Test
    void scalarAndEmptyTensors() throws Exception {
        new Raw().add("s", "F32", shape(), Raw.f32(2.5f)).add("e", "BF16", shape(0, 4), new byte[0])
                .add("z", "F16", shape(3, 0), new byte[0]).write(dir.resolve("model.safetensors"));
        try (Checkpoint ck = Checkpoint.open(dir)) {
            INDArray s = ck.load("s");
            assertArrayEquals(new long[] {1}, s.shape());
            assertEquals(2.5f, s.getFloat(0));
            assertEquals(0, ck.load("e").length());
            assertEquals(0, ck.load("z").length());
            ck.loadInto("e", Nd4j.create(DataType.FLOAT, 0));
            assertEquals(0, ck.countNonFinite("e"));
        }
    }

    @Test
    void integerTensorsReadAsLongsNotFloats() throws Exception {
        new Raw().add("ids", "I64", shape(3), Raw.i64(-1, 0, Long.MAX_VALUE)).add("u", "U16", shape(2), Raw.u16(0xFFFF, 1))
                .add("b", "BOOL", shape(2), Raw.u8(1, 0)).add("i8", "I8", shape(2), Raw.u8(0xFF, 0x7F))
                .write(dir.resolve("model.safetensors"));
        try (Checkpoint ck = Checkpoint.open(dir)) {
            WeightsFile f = ck.files().get(0);
            assertArrayEquals(new long[] {-1, 0, Long.MAX_VALUE}, f.readLongs(ck.require("ids")));
            assertArrayEquals(new long[] {0xFFFF, 1}, f.readLongs(ck.require("u")));
            assertArrayEquals(new long[] {1, 0}, f.readLongs(ck.require("b")));
            assertArrayEquals(new long[] {-1, 127}, f.readLongs(ck.require("i8")));
            TestSupport.assertOneLine(assertThrows(SafetensorsException.class, () -> ck.load("ids")), dir.resolve("model.safetensors"), "ids");
        }
    }
}
