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
 * larger buffer, batched products with and without transposition) against a double-precision reference.
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
                {257, 96, 130}, {512, 256, 512}, {33, 8192, 64}, {130, 2048, 96}};
        Nd4j.getRandom().setSeed(7);
        for (int[] s : shapes) {
            int m = s[0], k = s[1], n = s[2];
            INDArray x = Nd4j.randn(DataType.FLOAT, m, k);
            // W as a row block at an offset inside a larger buffer, as the LM head's vocabulary chunks are
            INDArray big = Nd4j.randn(DataType.FLOAT, n + 3, k);
            INDArray w = Scratch.view(big.data(), 3L * k, n, k);
            INDArray out = Nd4j.create(DataType.FLOAT, m, n);
            Ops.gemm(x, w, out);
            check(x.toFloatMatrix(), w.toFloatMatrix(), true, out.toFloatMatrix(), "gemm " + m + "x" + k + "x" + n);
        }
    }

    @Test
    void batchedMatmulMatchesDoubleReference() {
        int[][] shapes = {{4, 512, 64, 128}, {8, 40, 32, 40}, {2, 3, 128, 3}, {1, 256, 192, 256}};
        Nd4j.getRandom().setSeed(11);
        for (int[] s : shapes) {
            int b = s[0], m = s[1], k = s[2], n = s[3];
            INDArray q = Nd4j.randn(DataType.FLOAT, b, m, k), kk = Nd4j.randn(DataType.FLOAT, b, n, k);
            INDArray scores = Nd4j.create(DataType.FLOAT, b, m, n);
            Nd4j.matmul(q, kk, scores, false, true, false);
            INDArray v = Nd4j.randn(DataType.FLOAT, b, n, k);
            INDArray ctx = Nd4j.create(DataType.FLOAT, b, m, k);
            Nd4j.matmul(scores, v, ctx, false, false, false);
            for (int i = 0; i < b; i++) {
                float[][] qi = q.slice(i).toFloatMatrix(), ki = kk.slice(i).toFloatMatrix();
                float[][] si = scores.slice(i).toFloatMatrix(), vi = v.slice(i).toFloatMatrix();
                check(qi, ki, true, si, "q k^T " + b + "x" + m + "x" + k + "x" + n + " batch " + i);
                check(si, vi, false, ctx.slice(i).toFloatMatrix(), "p v " + b + "x" + m + "x" + n + "x" + k + " batch " + i);
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
