package org.depthlens.model;

import org.depthlens.model.family.NormSpec;
import org.depthlens.util.Par;
import org.nd4j.linalg.api.ndarray.INDArray;

import java.nio.FloatBuffer;

/**
 * One norm of a block or of the head, ready to run: its kind ({@link NormSpec}), its gain and bias on the heap (null:
 * none; Gemma's {@code 1 + w} was formed when the gain was loaded) and eps. An RMSNorm runs exactly
 * {@link Ops#rmsNormRow}; a LayerNorm subtracts the mean first (mean and variance accumulated in double).
 */
record Norm(NormSpec.Kind kind, float[] gain, float[] bias, double eps) {

    /** The norm of {@code role} in {@code w} ({@code role}, {@code role.bias}), or null when the model has none there. */
    static Norm of(NormSpec spec, BlockWeights w, String role) {
        INDArray g = w.get(role);
        if (g == null && spec.kind() != NormSpec.Kind.LAYER_NO_PARAMS) return null;
        return new Norm(spec.kind(), Ops.heap(g), Ops.heap(w.get(role + ".bias")), spec.eps());
    }

    /** A norm of the given weights (null gain: a parameter-free LayerNorm). */
    static Norm of(NormSpec spec, INDArray gain, INDArray bias) {
        return new Norm(spec.kind(), Ops.heap(gain), Ops.heap(bias), spec.eps());
    }

    /** {@code dst[doff..]} = norm({@code src[off..off+width)}) times {@code scale} (the LNS factor; 1 otherwise); may be in place. */
    void row(float[] src, int off, float[] dst, int doff, double scale, int width) {
        if (!kind.centred()) {
            Ops.rmsNormRow(src, off, dst, doff, gain, eps, scale, width);
        } else {
            Ops.layerNormRow(src, off, dst, doff, gain, bias, eps, scale, width);
        }
    }

    /** The norm of every row of {@code in} into {@code out}, rows in parallel. */
    void apply(FloatBuffer in, FloatBuffer out, double scale, int rows, int width) {
        if (!kind.centred()) {
            Ops.rmsNorm(in, out, gain, eps, scale, rows, width);
            return;
        }
        Par.rows(rows, Par.grain(rows, Math.max(1, 16384 / width)), (r0, r1) -> {
            float[] row = new float[width];
            for (int r = r0; r < r1; r++) {
                in.get(r * width, row);
                row(row, 0, row, 0, scale, width);
                out.put(r * width, row);
            }
        });
    }
}
