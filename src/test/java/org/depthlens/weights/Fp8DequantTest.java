package org.depthlens.weights;

import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.nd4j.linalg.api.ndarray.INDArray;

import java.nio.FloatBuffer;
import java.nio.file.Path;

import static org.depthlens.weights.Raw.shape;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * DeepSeek-V3 FP8: W[r][c] = fp8(X[r][c]) * scale_inv[r / B][c / B] with B from the config
 * (default 128), on a [130, 260] weight whose last blocks are partial on both axes.
 */
class Fp8DequantTest {
    @TempDir
    Path dir;

    static final int R = 130, C = 260;
    static final float[] SCALE = {0.5f, 3.0f, 1.0f / 3, 1e-3f, 7.25f, 2.0e-5f}; // [2, 3]
    byte[] x;

    @BeforeEach
    void write() throws Exception {
        x = new byte[R * C];
        for (int r = 0; r < R; r++) for (int c = 0; c < C; c++) x[r * C + c] = (byte) (r * 31 + c * 7);
        set(0, 1, 0x01);      // smallest subnormal 2^-9
        set(1, 1, 0x07);      // largest subnormal 7 * 2^-9
        set(2, 2, 0x7F);      // NaN
        set(3, 3, 0xFF);      // NaN
        set(4, 4, 0x80);      // -0
        set(129, 259, 0x7E);  // +448, last element, scale [1][2]
        set(128, 128, 0xFE);  // -448, scale [1][1]
        set(127, 255, 0x86);  // negative subnormal, scale [0][1]
        set(100, 0, 0x38);    // 1.0: row 100 is block 0 at B=128 but block 1 at B=100
        set(0, 200, 0x38);    // 1.0: col 200 is block 1 at B=128 but block 2 at B=100
        new Raw().add("m.weight", "F8_E4M3", shape(R, C), x)
                .add("m.weight_scale_inv", "F32", shape(2, 3), Raw.f32(SCALE))
                .add("raw.weight", "F8_E4M3", shape(2, 2), Raw.u8(0x38, 0x7E, 0x01, 0x7F))
                .add("bad.weight", "F8_E4M3", shape(R, C), x)
                .add("bad.weight_scale_inv", "F32", shape(1, 1), Raw.f32(2f))
                .write(dir.resolve("model.safetensors"));
    }

    private void set(int r, int c, int b) {
        x[r * C + c] = (byte) b;
    }

    private float[] expected(int block) {
        float[] w = new float[R * C];
        for (int r = 0; r < R; r++) {
            for (int c = 0; c < C; c++) {
                float s = SCALE[(r / block) * 3 + c / block];
                w[r * C + c] = Raw.refE4M3(x[r * C + c] & 0xFF) * s;
            }
        }
        return w;
    }

    @Test
    void dequantizesWith128BlocksByDefault() throws Exception {
        try (Checkpoint ck = Checkpoint.open(dir)) {
            float[] want = expected(128);
            TestSupport.assertAllPaths(ck, "m.weight", want, true);
            INDArray w = ck.load("m.weight");
            assertEquals(0x1p-9f * 0.5f, w.getFloat(0, 1));
            assertEquals(7 * 0x1p-9f * 0.5f, w.getFloat(1, 1));
            assertTrue(Float.isNaN(w.getFloat(2, 2)));
            assertTrue(Float.isNaN(w.getFloat(3, 3)));
            assertEquals(Float.floatToRawIntBits(-0.0f), Float.floatToRawIntBits(w.getFloat(4, 4)));
            assertEquals(448f * 2.0e-5f, w.getFloat(129, 259));
            assertEquals(-448f * 7.25f, w.getFloat(128, 128));
            assertEquals(-6 * 0x1p-9f * 3.0f, w.getFloat(127, 255));
            assertEquals(0.5f, w.getFloat(100, 0));
            assertEquals(3.0f, w.getFloat(0, 200));
            // the file-level reader returns the raw fp8 values
            float[] raw = new float[R * C];
            ck.files().get(0).readF32(ck.require("m.weight"), 0, R * C, FloatBuffer.wrap(raw));
            float[] unscaled = new float[R * C];
            for (int i = 0; i < unscaled.length; i++) unscaled[i] = Raw.refE4M3(x[i] & 0xFF);
            TestSupport.assertBits(unscaled, raw, "unscaled", true);
        }
    }

    /** Same file, B = 100: the scale grid is still [2, 3], so only a config-driven block size gets this right. */
    @Test
    void blockSizeComesFromTheConfigNotTheShapes() throws Exception {
        try (Checkpoint ck = Checkpoint.open(dir)) {
            ck.setFp8BlockSize(100, 100);
            float[] want = expected(100);
            TestSupport.assertAllPaths(ck, "m.weight", want, true);
            INDArray w = ck.load("m.weight");
            assertEquals(1e-3f, w.getFloat(100, 0));   // scale[1][0]
            assertEquals(1.0f / 3, w.getFloat(0, 200)); // scale[0][2]
            assertNotEquals(expected(128)[100 * C], w.getFloat(100, 0));

            ck.setFp8BlockSize(64, 64); // needs a [3, 5] grid
            SafetensorsException e = assertThrows(SafetensorsException.class, () -> ck.load("m.weight"));
            TestSupport.assertOneLine(e, dir.resolve("model.safetensors"), "m.weight_scale_inv");
            assertTrue(e.getMessage().contains("[3, 5]"), e.getMessage());
        }
    }

    /** A [1, 1] grid would "fit" a [130, 260] weight if the block size were inferred from shapes; it must be refused. */
    @Test
    void scaleGridThatDoesNotMatchTheBlockSizeIsRefused() throws Exception {
        try (Checkpoint ck = Checkpoint.open(dir)) {
            TestSupport.assertOneLine(assertThrows(SafetensorsException.class, () -> ck.load("bad.weight")),
                    dir.resolve("model.safetensors"), "bad.weight_scale_inv");
            assertThrows(SafetensorsException.class, () -> ck.countNonFinite("bad.weight"));
            assertThrows(SafetensorsException.class, () -> ck.setFp8BlockSize(0, 128));
        }
    }

    /** Raw FP8 codes without their block scales would be silently wrong numbers: refused, naming file and tensor. */
    @Test
    void fp8WithoutScaleIsRefused() throws Exception {
        try (Checkpoint ck = Checkpoint.open(dir)) {
            SafetensorsException e = assertThrows(SafetensorsException.class, () -> ck.load("raw.weight"));
            TestSupport.assertOneLine(e, dir.resolve("model.safetensors"), "raw.weight_scale_inv");
            assertTrue(e.getMessage().contains("'raw.weight' is F8_E4M3 without"), e.getMessage());
            assertThrows(SafetensorsException.class, () -> ck.read("raw.weight", 0, 4, FloatBuffer.allocate(4)));
        }
        // the file-level reader still decodes the codes themselves (inspect and the decoder tests use it)
        try (SafetensorsFile f = SafetensorsFile.open(dir.resolve("model.safetensors"))) {
            FloatBuffer fb = FloatBuffer.allocate(4);
            f.readF32(f.tensors().get("raw.weight"), 0, 4, fb);
            assertEquals(448f, fb.get(1));
        }
    }

    @Test
    void partialReadsCrossRowAndBlockBoundaries() throws Exception {
        try (Checkpoint ck = Checkpoint.open(dir)) {
            float[] want = expected(128);
            for (long from : new long[] {0, 255, 259, 127 * C + 250, 128 * C - 3, R * C - 17}) {
                int count = (int) Math.min(600, R * C - from);
                FloatBuffer fb = FloatBuffer.allocate(count + 5);
                fb.position(5);
                ck.read("m.weight", from, count, fb);
                for (int i = 0; i < count; i++) {
                    float w = want[(int) from + i], g = fb.get(5 + i);
                    assertTrue(Float.isNaN(w) ? Float.isNaN(g) : Float.floatToRawIntBits(w) == Float.floatToRawIntBits(g), "at " + (from + i));
                }
            }
        }
    }

    /** Row reads (embeddings, lm_head) of a block-scaled weight are dequantized with the rows' own block scales. */
    @Test
    void loadRowsDequantizesAcrossTheBlockBoundary() throws Exception {
        try (Checkpoint ck = Checkpoint.open(dir)) {
            float[] want = expected(128);
            INDArray buf = org.nd4j.linalg.factory.Nd4j.valueArrayOf(new long[] {6, C}, -1f, org.nd4j.linalg.api.buffer.DataType.FLOAT);
            INDArray rows = buf.get(org.nd4j.linalg.indexing.NDArrayIndex.interval(1, 5), org.nd4j.linalg.indexing.NDArrayIndex.all());
            ck.loadRows("m.weight", 126, 4, rows);
            float[] got = TestSupport.flat(rows);
            TestSupport.assertBits(java.util.Arrays.copyOfRange(want, 126 * C, 130 * C), got, "rows 126..129", true);
            assertEquals(-1f, buf.getFloat(0, 0));
            assertEquals(-1f, buf.getFloat(5, C - 1));
            assertThrows(IllegalArgumentException.class, () -> ck.loadRows("m.weight", 127, 4, rows));
            assertThrows(IllegalArgumentException.class, () -> ck.loadRows("m.weight", -1, 4, rows));
            assertThrows(IllegalArgumentException.class, () -> ck.loadRows("m.weight", Long.MAX_VALUE, 4, rows));
        }
    }

    @Test
    void checkFiniteCountsNaNAfterDequantization() throws Exception {
        try (Checkpoint ck = Checkpoint.open(dir)) {
            long nans = 0;
            for (byte b : x) if ((b & 0x7F) == 0x7F) nans++;
            assertEquals(nans, ck.countNonFinite("m.weight"));
            SafetensorsException e = assertThrows(SafetensorsException.class, () -> ck.checkFinite("m.weight"));
            TestSupport.assertOneLine(e, dir.resolve("model.safetensors"), "m.weight");
            assertTrue(e.getMessage().contains(nans + " non-finite"), e.getMessage());
        }
    }
}
