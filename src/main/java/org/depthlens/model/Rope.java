package org.depthlens.model;

import org.depthlens.util.Par;
import org.depthlens.BadInputException;
import org.depthlens.model.family.RopeSpec;
import org.depthlens.weights.RopeConfig;

import java.nio.FloatBuffer;

/**
 * Rotary position embedding with HF's numerics: the inverse-frequency table in float32 for each
 * rope type, angles as a single float32 product {@code p * invFreq[i]}, cos/sin in float32 and
 * scaled by the YaRN attention factor.
 */
public final class Rope {
    private final RopeConfig config;
    private final int dim;
    private final boolean interleaved;
    private final int maxPositions;
    private final float[] invFreq;
    private final float attentionScaling;

    /**
     * @param dim          rotary dimension (head_dim, or qk_rope_head_dim for DeepSeek)
     * @param interleaved  GPT-J pairs (DeepSeek) instead of rotate-half
     * @param maxPositions max_position_embeddings (for dynamic NTK and YaRN fallbacks)
     */
    public Rope(RopeConfig config, int dim, boolean interleaved, int maxPositions) {
        if (dim % 2 != 0) throw new BadInputException("rotary dimension " + dim + " is odd");
        this.config = config;
        this.dim = dim;
        this.interleaved = interleaved;
        this.maxPositions = maxPositions;
        float[] inv = defaultInvFreq(config.theta(), dim);
        float scaling = 1f;
        switch (config.type()) {
            case "default", "dynamic" -> { }
            case "linear" -> {
                float f = (float) factor();
                for (int i = 0; i < inv.length; i++) inv[i] = inv[i] / f;
            }
            case "llama3" -> inv = llama3(inv);
            case "yarn" -> {
                inv = yarn();
                scaling = (float) yarnAttentionFactor();
            }
            default -> throw new BadInputException("unsupported rope type '" + config.type() + "'");
        }
        this.invFreq = inv;
        this.attentionScaling = scaling;
    }

    /** The table of a model's rope description. */
    public Rope(RopeSpec s) {
        this(s.config(), s.dim(), s.interleaved(), s.maxPositions());
    }

    public int dim() {
        return dim;
    }

    /** rope_type: default, linear, dynamic, llama3 or yarn. */
    public String type() {
        return config.type();
    }

    public boolean interleaved() {
        return interleaved;
    }

    public float[] invFreq() {
        return invFreq.clone();
    }

    public float attentionScaling() {
        return attentionScaling;
    }

    private double factor() {
        if (config.factor() == null) throw new BadInputException("rope type '" + config.type() + "' needs a 'factor' (rope_parameters or rope_scaling)");
        return config.factor();
    }

    /** inv[i] = 1 / base^(2i/dim), each step in float32 as torch does. */
    static float[] defaultInvFreq(double base, int dim) {
        float[] inv = new float[dim / 2];
        for (int i = 0; i < inv.length; i++) {
            float e = (float) (2 * i) / (float) dim;
            float p = (float) Math.pow((float) base, e);
            inv[i] = 1f / p;
        }
        return inv;
    }

    private float[] llama3(float[] inv) {
        double factor = factor();
        float lowF = req(config.lowFreqFactor(), "low_freq_factor").floatValue();
        float highF = req(config.highFreqFactor(), "high_freq_factor").floatValue();
        float old = req(config.originalMaxPositionEmbeddings(), "original_max_position_embeddings").floatValue();
        float f = (float) factor;
        float lowWave = old / lowF;
        float highWave = old / highF;
        float[] out = new float[inv.length];
        for (int i = 0; i < inv.length; i++) {
            float wavelen = (float) (2 * Math.PI) / inv[i];
            float v = wavelen > lowWave ? inv[i] / f : inv[i];
            boolean medium = !(wavelen < highWave) && !(wavelen > lowWave);
            if (medium) {
                float smooth = (old / wavelen - lowF) / (highF - lowF);
                v = (1 - smooth) * v / f + smooth * v;
            }
            out[i] = v;
        }
        return out;
    }

    private double yarnOriginal() {
        return config.originalMaxPositionEmbeddings() != null ? config.originalMaxPositionEmbeddings() : maxPositions;
    }

    private double yarnFactor() {
        return config.factor() != null ? config.factor() : maxPositions / yarnOriginal();
    }

    private float[] yarn() {
        double base = config.theta();
        double factor = yarnFactor();
        double l0 = yarnOriginal();
        double betaFast = config.betaFast() != null ? config.betaFast() : 32;
        double betaSlow = config.betaSlow() != null ? config.betaSlow() : 1;
        boolean truncate = config.truncate() == null || config.truncate();
        double low = correctionDim(betaFast, l0, base);
        double high = correctionDim(betaSlow, l0, base);
        if (truncate) {
            low = Math.floor(low);
            high = Math.ceil(high);
        }
        low = Math.max(low, 0);
        high = Math.min(high, dim - 1);
        if (low == high) high += 0.001;
        float[] out = new float[dim / 2];
        float f = (float) factor;
        for (int i = 0; i < out.length; i++) {
            float e = (float) (2 * i) / (float) dim;
            float posFreq = (float) Math.pow((float) base, e);
            float extra = 1f / posFreq;
            float inter = 1f / (f * posFreq);
            float ramp = (float) ((i - (float) low) / (float) (high - low));
            ramp = Math.min(1f, Math.max(0f, ramp));
            float extraFactor = 1f - ramp;
            out[i] = inter * (1 - extraFactor) + extra * extraFactor;
        }
        return out;
    }

    private double correctionDim(double rotations, double l0, double base) {
        return dim * Math.log(l0 / (rotations * 2 * Math.PI)) / (2 * Math.log(base));
    }

    private double yarnAttentionFactor() {
        if (config.attentionFactor() != null) return config.attentionFactor();
        double factor = yarnFactor();
        Double m = config.mscale(), mAll = config.mscaleAllDim();
        if (m != null && mAll != null && m != 0 && mAll != 0) return yarnMscale(factor, m) / yarnMscale(factor, mAll);
        return yarnMscale(factor, 1);
    }

    private static double yarnMscale(double scale, double k) {
        return RopeSpec.yarnMscale(scale, k);
    }

    private static <T> T req(T v, String key) {
        if (v == null) throw new BadInputException("rope scaling needs '" + key + "'");
        return v;
    }

    /** Inverse frequencies for a sequence of {@code seqLen} positions (dynamic NTK rescales beyond the context). */
    private float[] invFreqFor(int seqLen) {
        if (!config.type().equals("dynamic") || seqLen <= maxPositions) return invFreq;
        double factor = factor();
        double base = config.theta() * Math.pow(factor * seqLen / maxPositions - (factor - 1), dim / (double) (dim - 2));
        return defaultInvFreq(base, dim);
    }

    /** cos/sin tables [seqLen][dim/2] for positions 0..seqLen-1, attention scaling included. */
    public Tables tables(int seqLen) {
        float[] inv = invFreqFor(seqLen);
        int half = dim / 2;
        float[] cos = new float[seqLen * half];
        float[] sin = new float[seqLen * half];
        for (int p = 0; p < seqLen; p++) {
            for (int i = 0; i < half; i++) {
                float ang = (float) p * inv[i];
                cos[p * half + i] = (float) Math.cos(ang) * attentionScaling;
                sin[p * half + i] = (float) Math.sin(ang) * attentionScaling;
            }
        }
        return new Tables(seqLen, half, cos, sin, interleaved);
    }

    /** Precomputed cos/sin for one sequence length. */
    public record Tables(int seqLen, int half, float[] cos, float[] sin, boolean interleaved) {

        /**
         * Rotates, in place, dims {@code [offset, offset+2*half)} of each of {@code heads} heads laid out
         * with {@code stride} floats per head in rows of {@code rowStride} floats; row r is position r % seqLen.
         */
        public void apply(FloatBuffer x, int rows, int heads, int stride, int offset, int rowStride) {
            Par.rows(rows, Par.grain(rows, 64), (r0, r1) -> {
                float[] row = new float[rowStride];
                for (int r = r0; r < r1; r++) {
                    x.get(r * rowStride, row);
                    for (int h = 0; h < heads; h++) rotate(row, h * stride + offset, r % seqLen);
                    x.put(r * rowStride, row);
                }
            });
        }

        /** Rotates the {@code 2*half} rotary dims at {@code a[off..]} of one head at position {@code pos}, in place. */
        public void rotate(float[] a, int off, int pos) {
            int cb = pos * half;
            if (interleaved) {
                for (int i = 0; i < half; i++) {
                    float c = cos[cb + i], s = sin[cb + i];
                    float x1 = a[off + 2 * i], x2 = a[off + 2 * i + 1];
                    a[off + 2 * i] = x1 * c - x2 * s;
                    a[off + 2 * i + 1] = x1 * s + x2 * c;
                }
            } else {
                for (int i = 0; i < half; i++) {
                    float c = cos[cb + i], s = sin[cb + i];
                    float x1 = a[off + i], x2 = a[off + i + half];
                    a[off + i] = x1 * c - x2 * s;
                    a[off + i + half] = x2 * c + x1 * s;
                }
            }
        }
    }
}
