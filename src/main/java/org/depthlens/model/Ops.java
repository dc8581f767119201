package org.depthlens.model;

import org.depthlens.util.Par;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

import java.nio.ByteOrder;
import java.nio.FloatBuffer;

/** The few kernels of the forward pass, on float32 c-order 2-D arrays [rows, features]. */
public final class Ops {
    private Ops() {}

    /** Direct view of an array's float data (respecting its offset); writes go to the array. */
    public static FloatBuffer floats(INDArray a) {
        FloatBuffer fb = a.data().asNio().order(ByteOrder.nativeOrder()).asFloatBuffer();
        fb.position((int) a.offset());
        return fb.slice();
    }

    /** y = x W^T (+ b), W in HF layout [out, in], for the rows of the sequences {@code seq} ({@link Gemm}); no copy of W. */
    public static INDArray linear(INDArray x, INDArray w, INDArray bias, Gemm.Segments seq) {
        INDArray in = x.isView() || x.ordering() != 'c' ? x.dup('c') : x;
        INDArray out = Nd4j.createUninitialized(DataType.FLOAT, x.rows(), w.rows());
        Gemm.xwT(in, w, out, seq);
        if (bias != null) out.addiRowVector(bias);
        return out;
    }

    /** {@link #linear(INDArray, INDArray, INDArray, Gemm.Segments)} with all rows one sequence. */
    public static INDArray linear(INDArray x, INDArray w, INDArray bias) {
        return linear(x, w, bias, Gemm.Segments.single((int) x.rows()));
    }

    /** A float32 vector's values on the heap (weights of norms, biases). */
    public static float[] heap(INDArray v) {
        return v == null ? null : v.dup('c').data().asFloat();
    }

    /**
     * HF RMSNorm over the last dim of rows of width {@code width}: x / sqrt(mean(x^2) + eps) * w, then times
     * {@code scale} (the LNS factor; 1 otherwise). Mean of squares accumulated in double.
     */
    public static INDArray rmsNorm(INDArray x, INDArray weight, double eps, double scale, int width) {
        INDArray in = x.isView() || x.ordering() != 'c' ? x.dup('c') : x;
        INDArray out = Nd4j.createUninitialized(DataType.FLOAT, x.shape());
        rmsNorm(floats(in), floats(out), heap(weight), eps, scale, (int) (x.length() / width), width);
        return out;
    }

    /** {@link #rmsNorm(INDArray, INDArray, double, double, int)} from {@code in} into {@code out}, rows in parallel. */
    public static void rmsNorm(FloatBuffer in, FloatBuffer out, float[] w, double eps, double scale, int rows, int width) {
        Par.rows(rows, Par.grain(rows, Math.max(1, 16384 / width)), (r0, r1) -> {
            float[] row = new float[width];
            for (int r = r0; r < r1; r++) {
                in.get(r * width, row);
                rmsNormRow(row, 0, row, 0, w, eps, scale, width);
                out.put(r * width, row);
            }
        });
    }

    /** One row of {@link #rmsNorm}: {@code dst[doff..]} = norm({@code src[off..off+width)}); may be in place. */
    static void rmsNormRow(float[] src, int off, float[] dst, int doff, float[] w, double eps, double scale, int width) {
        float inv = (float) (1.0 / Math.sqrt(meanSquare(src, off, width) + (float) eps));
        if (scale != 1.0) {
            float fs = (float) scale;
            for (int i = 0; i < width; i++) dst[doff + i] = w[i] * (src[off + i] * inv) * fs;
        } else {
            for (int i = 0; i < width; i++) dst[doff + i] = w[i] * (src[off + i] * inv);
        }
    }

    /**
     * One row of a LayerNorm: {@code dst[doff..]} = (x - mean) / sqrt(var + eps) · w + b, times {@code scale}, for
     * {@code x = src[off..off+width)}; w and b may be null (none). Mean and (biased) variance in double, the
     * normalised value rounded to float before the gain, as torch's float32 layer_norm does.
     */
    static void layerNormRow(float[] src, int off, float[] dst, int doff, float[] w, float[] b, double eps, double scale, int width) {
        double sum = 0;
        for (int i = 0; i < width; i++) sum += src[off + i];
        double mean = sum / width, sq = 0;
        for (int i = 0; i < width; i++) {
            double d = src[off + i] - mean;
            sq += d * d;
        }
        double inv = 1.0 / Math.sqrt(sq / width + eps);
        float fs = (float) scale;
        for (int i = 0; i < width; i++) {
            float v = (float) ((src[off + i] - mean) * inv);
            if (w != null) v *= w[i];
            if (b != null) v += b[i];
            dst[doff + i] = scale != 1.0 ? v * fs : v;
        }
    }

    /** mean(x^2) of {@code a[off..off+n)} accumulated in double (four partial sums), rounded to float as HF's variance. */
    static float meanSquare(float[] a, int off, int n) {
        double s0 = 0, s1 = 0, s2 = 0, s3 = 0;
        int i = 0;
        for (; i + 3 < n; i += 4) {
            double v0 = a[off + i], v1 = a[off + i + 1], v2 = a[off + i + 2], v3 = a[off + i + 3];
            s0 += v0 * v0;
            s1 += v1 * v1;
            s2 += v2 * v2;
            s3 += v3 * v3;
        }
        for (; i < n; i++) {
            double v = a[off + i];
            s0 += v * v;
        }
        return (float) (((s0 + s1) + (s2 + s3)) / n);
    }

    private static final float LOG2E = 1.44269504088896341f;
    private static final float LN2_HI = 0.693359375f;
    private static final float LN2_LO = -2.12194440e-4f;
    /** 1.5 * 2^23: adding it rounds a float of magnitude below 2^22 to an integer, kept in the low mantissa bits. */
    private static final float ROUND = 12582912f;
    private static final int ROUND_BITS = 0x4B400000;

    /**
     * {@code dst[i] = exp(src[i] * scale - shift)} for i in [from, to) ({@code dst} may be {@code src}; the product
     * is rounded to float first, as a separate op would, and a scale of 1 changes nothing), in float32 to about
     * 1 ulp (Cephes' expf polynomial; torch's own is as accurate), with the argument clamped to [-87.3, 88].
     * Several times faster than {@code Math.exp}. Written as two simple loops so the JIT vectorises the first,
     * which holds all the arithmetic; {@code tmp} (at least {@code to} long) keeps the rounded exponents.
     */
    static void exp(float[] src, float[] dst, int from, int to, float scale, float shift, float[] tmp) {
        for (int i = from; i < to; i++) {
            float x = Math.min(Math.max(src[i] * scale - shift, -87.3f), 88f);
            float m = x * LOG2E + ROUND;
            float k = m - ROUND;
            float r = x - k * LN2_HI - k * LN2_LO;
            float p = 1.9875691500E-4f;
            p = p * r + 1.3981999507E-3f;
            p = p * r + 8.3334519073E-3f;
            p = p * r + 4.1665795894E-2f;
            p = p * r + 1.6666665459E-1f;
            p = p * r + 5.0000001201E-1f;
            dst[i] = p * r * r + r + 1f;
            tmp[i] = m;
        }
        for (int i = from; i < to; i++) dst[i] *= Float.intBitsToFloat((Float.floatToRawIntBits(tmp[i]) - ROUND_BITS + 127) << 23);
    }

    /** Sum of {@code a[from..to)} in double (four partial sums). */
    public static double sum(float[] a, int from, int to) {
        double s0 = 0, s1 = 0, s2 = 0, s3 = 0;
        int i = from;
        for (; i + 3 < to; i += 4) {
            s0 += a[i];
            s1 += a[i + 1];
            s2 += a[i + 2];
            s3 += a[i + 3];
        }
        for (; i < to; i++) s0 += a[i];
        return (s0 + s1) + (s2 + s3);
    }

    /** Largest of {@code a[from..to)} (NaN if any is NaN, as torch's max). */
    public static float max(float[] a, int from, int to) {
        float m = Float.NEGATIVE_INFINITY;
        for (int i = from; i < to; i++) m = Math.max(m, a[i]); // the JIT vectorises this plain form
        return m;
    }

    /** gelu_pytorch_tanh(g) * u for a row holding gate {@code gu[0..n)} then up {@code gu[n..2n)}, into {@code out[0..n)} (in double, rounded once). */
    static void geluTanhGlu(float[] gu, int n, float[] out) {
        for (int i = 0; i < n; i++) out[i] = (float) (geluTanh(gu[i]) * gu[n + i]);
    }

    /** 0.5 x (1 + tanh(sqrt(2/pi) (x + 0.044715 x^3))), torch's gelu(approximate="tanh"). */
    static double geluTanh(double x) {
        return 0.5 * x * (1 + Math.tanh(0.7978845608028654 * (x + 0.044715 * x * x * x)));
    }

    /** The exact GELU x·Φ(x) = x/2 · erfc(-x/√2) of {@code a[0..n)}, in place. */
    static void gelu(float[] a, int n) {
        for (int i = 0; i < n; i++) a[i] = (float) (0.5 * a[i] * erfc(-a[i] * 0.7071067811865476));
    }

    /**
     * erfc with a relative error below 1.2e-7 everywhere (Numerical Recipes' erfcc, a Chebyshev fit of
     * exp(-z²)·erfc's remainder), which makes the GELU exact to float32 rounding.
     */
    static double erfc(double x) {
        double z = Math.abs(x), t = 1 / (1 + 0.5 * z);
        double r = t * Math.exp(-z * z - 1.26551223 + t * (1.00002368 + t * (0.37409196 + t * (0.09678418 + t * (-0.18628806
                + t * (0.27886807 + t * (-1.13520398 + t * (1.48851587 + t * (-0.82215223 + t * 0.17087277)))))))));
        return x >= 0 ? r : 2 - r;
    }

    /**
     * silu(g) * u as torch computes it in float32 (silu(x) = x / (1 + exp(-x))) for a row holding gate
     * {@code gu[0..n)} then up {@code gu[n..2n)}, into {@code out[0..n)}; {@code t1}, {@code t2} hold n floats.
     */
    static void swiglu(float[] gu, int n, float[] out, float[] t1, float[] t2) {
        exp(gu, t1, 0, n, -1f, 0f, t2); // exp(-g): g * -1 is exact, - 0 changes nothing
        for (int i = 0; i < n; i++) out[i] = gu[i] / (1f + t1[i]) * gu[n + i];
    }
}
