package org.depthlens.weights;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.memory.MemoryWorkspace;
import org.nd4j.linalg.api.memory.conf.WorkspaceConfiguration;
import org.nd4j.linalg.api.memory.enums.AllocationPolicy;
import org.nd4j.linalg.api.memory.enums.LearningPolicy;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.indexing.NDArrayIndex;

import java.nio.file.Path;

import static org.depthlens.weights.Raw.shape;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** loadInto into reused buffers: views with offsets, rejection of what it cannot fill, windows, workspaces. */
class LoadIntoTest {
    @TempDir
    Path dir;

    private static final int ROWS = 3, COLS = 8;

    private Checkpoint checkpoint() throws Exception {
        float[] f = new float[ROWS * COLS];
        int[] b = new int[ROWS * COLS];
        for (int i = 0; i < f.length; i++) {
            f[i] = i + 0.25f;
            b[i] = Float.floatToRawIntBits(-(i + 1) * 0.5f) >>> 16; // exact in bf16
        }
        new Raw().add("f32", "F32", shape(ROWS, COLS), Raw.f32(f)).add("bf16", "BF16", shape(ROWS, COLS), Raw.u16(b))
                .write(dir.resolve("model.safetensors"));
        return Checkpoint.open(dir);
    }

    private static float expected(String name, int i) {
        return name.equals("f32") ? i + 0.25f : -(i + 1) * 0.5f;
    }

    @Test
    void intoRowsOfALargerBufferWithOffset() throws Exception {
        try (Checkpoint ck = checkpoint()) {
            for (String name : new String[] {"f32", "bf16"}) {
                INDArray big = Nd4j.valueArrayOf(new long[] {ROWS + 4, COLS}, -7f, DataType.FLOAT);
                INDArray view = big.get(NDArrayIndex.interval(2, 2 + ROWS), NDArrayIndex.all());
                assertTrue(view.offset() > 0);
                ck.loadInto(name, view);
                for (int r = 0; r < ROWS + 4; r++) {
                    for (int c = 0; c < COLS; c++) {
                        float want = r >= 2 && r < 2 + ROWS ? expected(name, (r - 2) * COLS + c) : -7f;
                        assertEquals(want, big.getFloat(r, c), name + " at " + r + "," + c);
                    }
                }
            }
        }
    }

    @Test
    void intoAFlatIntervalOfAVectorAndAViewOfAView() throws Exception {
        try (Checkpoint ck = checkpoint()) {
            INDArray flat = Nd4j.valueArrayOf(new long[] {100}, 9f, DataType.FLOAT);
            INDArray part = flat.get(NDArrayIndex.interval(11, 11 + ROWS * COLS));
            ck.loadInto("bf16", part);
            for (int i = 0; i < 100; i++) {
                float want = i >= 11 && i < 11 + ROWS * COLS ? expected("bf16", i - 11) : 9f;
                assertEquals(want, flat.getFloat(i), "at " + i);
            }
            INDArray grid = Nd4j.valueArrayOf(new long[] {4, 2, ROWS * COLS}, 1f, DataType.FLOAT);
            INDArray slice = grid.get(NDArrayIndex.point(2)).get(NDArrayIndex.point(1), NDArrayIndex.all());
            ck.loadInto("f32", slice.reshape(ROWS, COLS));
            assertEquals(expected("f32", 5), grid.getFloat(2, 1, 5));
            assertEquals(1f, grid.getFloat(2, 0, 5));
            assertEquals(1f, grid.getFloat(3, 0, 0));
        }
    }

    @Test
    void reusedBufferIsOverwrittenEveryTime() throws Exception {
        try (Checkpoint ck = checkpoint()) {
            INDArray buf = Nd4j.create(DataType.FLOAT, ROWS, COLS);
            ck.loadInto("f32", buf);
            ck.loadInto("bf16", buf);
            assertEquals(expected("bf16", 17), buf.getFloat(17 / COLS, 17 % COLS));
            ck.loadInto("f32", buf);
            assertEquals(expected("f32", 23), buf.getFloat(2, 7));
        }
    }

    @Test
    void rejectsWhatItCannotFillClearly() throws Exception {
        try (Checkpoint ck = checkpoint()) {
            INDArray wide = Nd4j.create(DataType.FLOAT, ROWS, COLS * 2);
            INDArray cols = wide.get(NDArrayIndex.all(), NDArrayIndex.interval(0, COLS));
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> ck.loadInto("f32", cols));
            assertTrue(e.getMessage().contains("'f32'") && e.getMessage().contains("contiguous"), e.getMessage());
            assertThrows(IllegalArgumentException.class, () -> ck.loadInto("f32", Nd4j.create(DataType.FLOAT, ROWS, COLS).transpose()));
            assertThrows(IllegalArgumentException.class, () -> ck.loadInto("f32", Nd4j.create(DataType.FLOAT, ROWS * COLS + 1)));
            assertThrows(IllegalArgumentException.class, () -> ck.loadInto("f32", Nd4j.create(DataType.DOUBLE, ROWS, COLS)));
            assertThrows(IllegalArgumentException.class, () -> ck.loadInto("f32", Nd4j.create(DataType.BFLOAT16, ROWS, COLS)));
            assertThrows(SafetensorsException.class, () -> ck.loadInto("nope", Nd4j.create(DataType.FLOAT, ROWS, COLS)));
            // other shapes with the same element count and c-contiguous layout are fine
            INDArray other = Nd4j.create(DataType.FLOAT, COLS, ROWS);
            ck.loadInto("f32", other);
            assertEquals(expected("f32", 5), other.getFloat(1, 2));
            INDArray col = Nd4j.create(DataType.FLOAT, new long[] {ROWS * COLS, 1}, 'f');
            ck.loadInto("f32", col);
            assertEquals(expected("f32", 7), col.getFloat(7, 0));
        }
    }

    @Test
    void loadRowsIntoAView() throws Exception {
        try (Checkpoint ck = checkpoint()) {
            for (String name : new String[] {"f32", "bf16"}) {
                INDArray big = Nd4j.valueArrayOf(new long[] {4, COLS}, 5f, DataType.FLOAT);
                INDArray two = big.get(NDArrayIndex.interval(1, 3), NDArrayIndex.all());
                ck.loadRows(name, 1, 2, two);
                for (int c = 0; c < COLS; c++) {
                    assertEquals(5f, big.getFloat(0, c));
                    assertEquals(expected(name, COLS + c), big.getFloat(1, c), name);
                    assertEquals(expected(name, 2 * COLS + c), big.getFloat(2, c), name);
                    assertEquals(5f, big.getFloat(3, c));
                }
                ck.loadRows(name, 3, 0, Nd4j.create(DataType.FLOAT, 0));
                assertThrows(IllegalArgumentException.class, () -> ck.loadRows(name, 2, 2, two));
                assertThrows(IllegalArgumentException.class, () -> ck.loadRows(name, 0, 1, two));
            }
        }
    }

    @Test
    void smallWindowsGiveTheSameResult() throws Exception {
        try (Checkpoint ck = checkpoint()) {
            for (long step : new long[] {1, 2, 5, 7, 23, 24, 1000}) {
                for (String name : new String[] {"f32", "bf16"}) {
                    INDArray buf = Nd4j.create(DataType.FLOAT, ROWS, COLS);
                    ck.loadInto(name, buf, step);
                    for (int i = 0; i < ROWS * COLS; i++) assertEquals(expected(name, i), buf.getFloat(i / COLS, i % COLS), name + " step " + step);
                }
            }
        }
    }

    @Test
    void insideAnActiveWorkspace() throws Exception {
        WorkspaceConfiguration conf = WorkspaceConfiguration.builder().initialSize(1 << 20)
                .policyAllocation(AllocationPolicy.STRICT).policyLearning(LearningPolicy.FIRST_LOOP).build();
        try (Checkpoint ck = checkpoint()) {
            INDArray outside = Nd4j.create(DataType.FLOAT, ROWS, COLS);
            for (int loop = 0; loop < 3; loop++) {
                try (MemoryWorkspace ws = Nd4j.getWorkspaceManager().getAndActivateWorkspace(conf, "weights-test")) {
                    INDArray inside = Nd4j.create(DataType.FLOAT, ROWS, COLS);
                    ck.loadInto("bf16", inside);
                    ck.loadInto("f32", outside);
                    INDArray loaded = ck.load("bf16");
                    assertEquals(expected("bf16", 9), inside.getFloat(1, 1));
                    assertEquals(expected("bf16", 9), loaded.getFloat(1, 1));
                    assertEquals(expected("f32", 9), outside.getFloat(1, 1));
                }
            }
        }
    }

    /** ND4J frees an array's memory when it is collected: loadInto keeps dst reachable while writing. */
    @Test
    void destinationStaysAliveDuringTheCopy() throws Exception {
        int n = 1 << 20;
        int[] b = new int[n];
        for (int i = 0; i < n; i++) b[i] = 0x3F80 + (i & 0x7F);
        new Raw().add("w", "BF16", shape(n), Raw.u16(b)).write(dir.resolve("model.safetensors"));
        try (Checkpoint ck = Checkpoint.open(dir)) {
            for (int i = 0; i < 50; i++) {
                ck.loadInto("w", Nd4j.create(DataType.FLOAT, n)); // result dropped at once
                if (i % 10 == 0) System.gc();
            }
            assertEquals(Raw.refBf16(0x3F80 + 5), ck.load("w").getFloat(5));
        }
    }
}
