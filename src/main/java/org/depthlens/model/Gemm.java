package org.depthlens.model;

import org.bytedeco.javacpp.FloatPointer;
import org.bytedeco.openblas.global.openblas_nolapack;
import org.depthlens.util.Par;
import org.nd4j.linalg.api.ndarray.INDArray;

/**
 * Every matrix product of the forward pass, cut so that each output row is a function of its own sequence
 * alone (docs/design.md, "Same numbers whatever the grouping").
 *
 * <p>OpenBLAS computes an output element with a kernel that depends on where the element falls in the
 * product: its edge kernels (the last rows or columns of a tile), its small-matrix kernels (taken below a
 * size threshold) and its split of the rows between threads each sum the k products in another order or
 * with other roundings. With the Haswell kernels a row's values change with the number of rows multiplied
 * together and with the thread count (measured in bench/README.md); the SkylakeX kernels vary less, but no
 * kernel promises anything. So no product here ever spans two sequences, and each is cut the same way
 * whatever else runs: a sequence's rows are split from its first row into pieces of {@link #ROWS} rows
 * and the output columns into blocks of {@link #COLS}, and each (piece, block) is one single-threaded
 * {@code cblas_sgemm}. The pieces run in parallel on {@link Par}'s threads, so a piece never sees the
 * thread count. A row's result then depends only on its sequence's tokens and the BLAS kernel chosen
 * for the machine ({@link Blas}).
 */
public final class Gemm {
    /** Rows per product (a sequence's last piece is shorter): 256-row calls run at 0.93-0.96x the speed of one 512-row call, 128-row calls at 0.79-0.85x (bench/README.md). */
    public static final int ROWS = 256;
    /** Output columns per product (the last block is narrower). */
    public static final int COLS = 1024;

    static {
        Blas.configure();
        // single-threaded calls: parallelism comes from the fixed pieces, never from OpenBLAS' own split
        openblas_nolapack.blas_set_num_threads(1);
    }

    private Gemm() {}

    /** OpenBLAS' own thread count, for the benchmark's one-call roofline only: every product here needs 1. */
    public static void blasThreads(int n) {
        openblas_nolapack.blas_set_num_threads(n);
    }

    /**
     * Runs of rows that are computed apart, each cut into pieces from its own first row: the rows of one
     * sequence (or, in the head, its scored rows). Rows outside every run (padding) are not computed.
     */
    public record Segments(int[] starts, int[] lengths) {
        public Segments {
            if (starts.length != lengths.length) throw new IllegalArgumentException("starts and lengths differ");
        }

        /** {@code count} sequences of {@code len} rows each, back to back. */
        public static Segments uniform(int count, int len) {
            int[] l = new int[count];
            java.util.Arrays.fill(l, len);
            return padded(count, len, l);
        }

        /** {@code count} sequences padded to {@code seqLen} rows each, sequence b holding {@code lengths[b]} real rows. */
        public static Segments padded(int count, int seqLen, int[] lengths) {
            int[] s = new int[count], l = new int[count];
            for (int b = 0; b < count; b++) {
                s[b] = b * seqLen;
                l[b] = lengths == null ? seqLen : lengths[b];
                if (l[b] < 0 || l[b] > seqLen) throw new IllegalArgumentException("sequence length " + l[b] + " of " + seqLen);
            }
            return new Segments(s, l);
        }

        /** Runs back to back with these lengths. */
        public static Segments consecutive(int[] lengths) {
            int[] s = new int[lengths.length];
            for (int i = 1; i < s.length; i++) s[i] = s[i - 1] + lengths[i - 1];
            return new Segments(s, lengths.clone());
        }

        /** One run of all {@code rows} rows (a single sequence). */
        public static Segments single(int rows) {
            return new Segments(new int[] {0}, new int[] {rows});
        }

        public int count() {
            return starts.length;
        }

        /** Rows covered by some run. */
        public int rows() {
            int n = 0;
            for (int l : lengths) n += l;
            return n;
        }

        /** Whether every row of {@code [0, total)} is covered. */
        boolean covers(int total) {
            int at = 0;
            for (int i = 0; i < starts.length; i++) {
                if (starts[i] != at) return false;
                at += lengths[i];
            }
            return at == total;
        }

        /** Piece {@code p}'s (first row, rows), pieces numbered run by run. */
        int[][] pieces() {
            int n = 0;
            for (int l : lengths) n += (l + ROWS - 1) / ROWS;
            int[][] out = new int[n][];
            int k = 0;
            for (int i = 0; i < starts.length; i++) {
                for (int r = 0; r < lengths[i]; r += ROWS) out[k++] = new int[] {starts[i] + r, Math.min(ROWS, lengths[i] - r)};
            }
            return out;
        }
    }

    /**
     * A pointer to element {@code at} of {@code a}'s view; float32 arrays only. A view's buffer already points at
     * the view's first element (ND4J gives a view a buffer of its own offset), hence offset minus buffer offset.
     */
    static FloatPointer at(INDArray a, long at) {
        FloatPointer base = (FloatPointer) a.data().addressPointer();
        return new FloatPointer(base).position(base.position() + a.offset() - a.data().offset() + at);
    }

    /**
     * {@code out = x w^T} on the rows of {@code seg}, {@code x} [rows, K] and {@code out} [rows, N] c-order, {@code w}
     * [N, K] (HF layout, no copy). Rows outside the runs are set to 0.
     */
    public static void xwT(INDArray x, INDArray w, INDArray out, Segments seg) {
        int k = (int) x.columns(), n = (int) w.rows(), rows = (int) x.rows();
        if (w.columns() != k || out.rows() != rows || out.columns() != n) {
            throw new IllegalArgumentException("gemm shapes " + java.util.Arrays.toString(x.shape()) + " x "
                    + java.util.Arrays.toString(w.shape()) + "^T into " + java.util.Arrays.toString(out.shape()));
        }
        requireC(x);
        requireC(w);
        requireC(out);
        if (!seg.covers(rows)) out.assign(0);
        int[][] pieces = seg.pieces();
        int blocks = (n + COLS - 1) / COLS;
        Par.rows(pieces.length * blocks, 1, (i0, i1) -> {
            for (int i = i0; i < i1; i++) {
                int[] p = pieces[i / blocks];
                int c0 = (i % blocks) * COLS, nc = Math.min(COLS, n - c0);
                sgemm(false, true, p[1], nc, k, at(x, (long) p[0] * k), k, at(w, (long) c0 * k), k, at(out, (long) p[0] * n + c0), n);
            }
        });
    }

    /**
     * One single-threaded row-major {@code C[m, n] = A[m, k] op(B)}, op(B) = B^T ({@code B} [n, k]) or B
     * ({@code B} [k, n]); for callers that cut their own products per sequence (attention per head).
     */
    static void sgemm(boolean transA, boolean transB, int m, int n, int k, FloatPointer a, int lda, FloatPointer b, int ldb,
                      FloatPointer c, int ldc) {
        if (m == 0 || n == 0) return;
        openblas_nolapack.cblas_sgemm(openblas_nolapack.CblasRowMajor, transA ? openblas_nolapack.CblasTrans : openblas_nolapack.CblasNoTrans,
                transB ? openblas_nolapack.CblasTrans : openblas_nolapack.CblasNoTrans, m, n, k, 1f, a, lda, b, ldb, 0f, c, ldc);
    }

    private static void requireC(INDArray a) {
        boolean dense = a.rank() == 2 && (a.columns() == 1 || a.stride(1) == 1) && (a.rows() == 1 || a.stride(0) == a.columns())
                && (a.ordering() == 'c' || a.rows() == 1 || a.columns() == 1);
        if (!dense) {
            throw new IllegalArgumentException("gemm needs dense c-order matrices, got " + a.shapeInfoToString());
        }
    }
}
