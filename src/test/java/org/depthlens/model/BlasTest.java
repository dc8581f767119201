package org.depthlens.model;

import org.junit.jupiter.api.Test;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

import java.util.Set;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The OpenBLAS kernel depthlens chooses, and that the kernel in use computes the products the forward pass
 * needs correctly: every shape class (single rows, odd sizes, K up to 8192, operands at offsets inside a
 * larger buffer, more columns than one block) against a double-precision reference; and that {@link Gemm}'s
 * cut makes a sequence's rows independent of the rest of the batch, bit for bit.
 */
class BlasTest {
    @Test
    void coreTypeFollowsCpuFlags() {
        assertEquals("SkylakeX", Blas.fromFlags(Set.of("fma", "avx2", "avx512f", "avx512cd", "avx512bw", "avx512dq", "avx512vl")));
        assertEquals("Haswell", Blas.fromFlags(Set.of("fma", "avx2", "avx512f"))); // AVX-512 without BW/VL
        assertEquals("Haswell", Blas.fromFlags(Set.of("sse4_2", "avx", "avx2", "fma")));
        assertNull(Blas.fromFlags(Set.of("sse4_2", "avx")));
        assertNull(Blas.fromFlags(Set.of()));
    }

    @Test
    void chosenBeforeNd4jLoadedAndVisibleToOpenBlas() {
        Nd4j.create(DataType.FLOAT, 1); // ND4J (and OpenBLAS) loaded by now, in any test order
        Blas.Choice c = Blas.configure();
        assertNotEquals("OpenBLAS was loaded before depthlens could choose", c.source(), "the session listener must run first");
        if (System.getenv("OPENBLAS_THREAD_TIMEOUT") == null) {
            assertEquals(Blas.THREAD_TIMEOUT, Blas.getenv("OPENBLAS_THREAD_TIMEOUT"));
        }
        if (System.getenv("OPENBLAS_CORETYPE") == null && c.coreType() != null) {
            assertEquals(Blas.fromFlags(Blas.cpuFlags()), c.coreType());
            assertEquals(c.coreType(), Blas.getenv("OPENBLAS_CORETYPE"));
        }
    }

    @Test
    void gemmMatchesDoubleReference() {
        int[][] shapes = {{1, 2048, 2048}, {1, 7, 3}, {3, 17, 5}, {7, 128, 384}, {16, 64, 33}, {31, 96, 130}, {64, 128, 512},
                {257, 96, 130}, {512, 256, 512}, {33, 8192, 64}, {130, 2048, 96}, {3, 64, 2500}};
        Nd4j.getRandom().setSeed(7);
        for (int[] s : shapes) {
            int m = s[0], k = s[1], n = s[2];
            INDArray x = Nd4j.randn(DataType.FLOAT, m, k);
            // W as a row block at an offset inside a larger buffer, as the LM head's vocabulary chunks are
            INDArray big = Nd4j.randn(DataType.FLOAT, n + 3, k);
            INDArray w = Scratch.view(big.data(), 3L * k, n, k);
            INDArray out = Nd4j.create(DataType.FLOAT, m, n);
            Gemm.xwT(x, w, out, Gemm.Segments.single(m));
            check(x.toFloatMatrix(), w.toFloatMatrix(), true, out.toFloatMatrix(), "gemm " + m + "x" + k + "x" + n);
        }
    }

    /**
     * A sequence's rows come out bitwise the same whatever other sequences share the product, wherever the
     * sequence sits in the batch and whatever padding follows it (rows outside every sequence are 0): the
     * property the whole forward pass rests on (docs/design.md), for lengths around the piece size.
     */
    @Test
    void aSequencesRowsDependOnItAlone() {
        Nd4j.getRandom().setSeed(13);
        int k = 96, n = Gemm.COLS + 37;
        INDArray w = Nd4j.randn(DataType.FLOAT, n, k);
        for (int len : new int[] {1, 5, Gemm.ROWS - 1, Gemm.ROWS, Gemm.ROWS + 3, 2 * Gemm.ROWS + 1}) {
            INDArray seq = Nd4j.randn(DataType.FLOAT, len, k);
            INDArray alone = Nd4j.create(DataType.FLOAT, len, n);
            Gemm.xwT(seq, w, alone, Gemm.Segments.single(len));
            for (int[] layout : new int[][] {{3, 0}, {3, 2}, {5, 4}}) {
                int count = layout[0], at = layout[1], t = len + 7; // sequences padded to t rows
                INDArray batch = Nd4j.randn(DataType.FLOAT, (long) count * t, k);
                batch.get(org.nd4j.linalg.indexing.NDArrayIndex.interval((long) at * t, (long) at * t + len),
                        org.nd4j.linalg.indexing.NDArrayIndex.all()).assign(seq);
                int[] lengths = new int[count];
                for (int b = 0; b < count; b++) lengths[b] = b == at ? len : t - b;
                INDArray out = Nd4j.create(DataType.FLOAT, (long) count * t, n);
                Gemm.xwT(batch, w, out, Gemm.Segments.padded(count, t, lengths));
                INDArray got = out.get(org.nd4j.linalg.indexing.NDArrayIndex.interval((long) at * t, (long) at * t + len),
                        org.nd4j.linalg.indexing.NDArrayIndex.all());
                assertEquals(alone, got, "sequence of " + len + " rows at " + at + " of " + count);
                assertEquals(0.0, out.getRow((long) at * t + len).norm1Number().doubleValue(), "padding rows are 0");
            }
        }
    }

    /** |c - a op(b)| <= 1e-5 * sum |a_i||b_i| for every element (float32 rounding is ~1e-7 of that sum). */
    private static void check(float[][] a, float[][] b, boolean bTransposed, float[][] c, String what) {
        int m = a.length, k = a[0].length, n = bTransposed ? b.length : b[0].length;
        double worst = 0;
        for (int i = 0; i < m; i++) {
            for (int j = 0; j < n; j++) {
                double sum = 0, mag = 0;
                for (int p = 0; p < k; p++) {
                    double prod = (double) a[i][p] * (bTransposed ? b[j][p] : b[p][j]);
                    sum += prod;
                    mag += Math.abs(prod);
                }
                worst = Math.max(worst, Math.abs(c[i][j] - sum) / Math.max(mag, 1e-30));
            }
        }
        assertTrue(worst <= 1e-5, what + ": worst error " + worst + " of sum |a||b| (kernel " + Blas.configure().describe() + ")");
    }
}
