package org.depthlens.probe;

import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

/**
 * How far block l is from the identity around its input (docs/metrics.md, jacobian_deviation): for each
 * window's X = x[l] and V = X minus its mean over the window's tokens, the central difference
 * D = (F(X + eps V) - F(X - eps V)) / (2 eps) along V, and |D - V|_F / |V|_F.
 *
 * <p>The two perturbed inputs are rounded to float32; the difference is taken against the direction they
 * actually realise, V' = (X+ - X-) / (2 eps) computed in double, so the rounding of the inputs does not
 * count as a response of the block. The block outputs are float32 too: their rounding error, divided by
 * 2 eps, bounds the accuracy (about 1e-5 |x| / |V| here).
 */
public final class JacobianProbe {
    /** The step of the central difference. */
    public static final double EPS = 1e-2;

    private JacobianProbe() {}

    /** {X + eps V, X - eps V} for a state [B*T, H] of B windows of T tokens. */
    public static INDArray[] perturb(INDArray x, int batch, int seqLen) {
        int h = (int) x.columns();
        float[] v = x.dup('c').data().asFloat();
        float[] plus = new float[v.length], minus = new float[v.length];
        double[] mean = new double[h];
        for (int b = 0; b < batch; b++) {
            java.util.Arrays.fill(mean, 0);
            int base = b * seqLen * h;
            for (int t = 0; t < seqLen; t++) for (int i = 0; i < h; i++) mean[i] += v[base + t * h + i];
            for (int i = 0; i < h; i++) mean[i] /= seqLen;
            for (int t = 0; t < seqLen; t++) {
                for (int i = 0; i < h; i++) {
                    int at = base + t * h + i;
                    double d = EPS * (v[at] - mean[i]);
                    plus[at] = (float) (v[at] + d);
                    minus[at] = (float) (v[at] - d);
                }
            }
        }
        long[] shape = {x.rows(), h};
        return new INDArray[] {Nd4j.create(plus, shape, 'c'), Nd4j.create(minus, shape, 'c')};
    }

    /**
     * Each window's |D - V'|_F / |V'|_F, from the perturbed inputs and the block's outputs for them. A window
     * whose input does not vary over its tokens (V' = 0) counts as 0.
     */
    public static double[] deviations(INDArray xPlus, INDArray xMinus, INDArray fPlus, INDArray fMinus, int batch, int seqLen) {
        float[] xp = floats(xPlus), xm = floats(xMinus), fp = floats(fPlus), fm = floats(fMinus);
        int per = xp.length / batch;
        double[] out = new double[batch];
        for (int b = 0; b < batch; b++) {
            double num = 0, den = 0;
            for (int i = b * per; i < (b + 1) * per; i++) {
                double v = ((double) xp[i] - xm[i]) / (2 * EPS);
                double d = ((double) fp[i] - fm[i]) / (2 * EPS);
                num += (d - v) * (d - v);
                den += v * v;
            }
            out[b] = den == 0 ? 0 : Math.sqrt(num / den);
        }
        return out;
    }

    private static float[] floats(INDArray a) {
        if (a.dataType() != DataType.FLOAT) throw new IllegalArgumentException("float32 state expected");
        return a.isView() || a.ordering() != 'c' || a.offset() != 0 || a.data().length() != a.length()
                ? a.dup('c').data().asFloat() : a.data().asFloat();
    }
}
