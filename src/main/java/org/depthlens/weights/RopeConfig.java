package org.depthlens.weights;

/**
 * RoPE parameters as read from either config style ({@code rope_parameters}, or {@code rope_theta}
 * plus {@code rope_scaling} with {@code type}/{@code rope_type}). Optional values are null when
 * absent, so the rope code applies HF's own fallbacks.
 */
public record RopeConfig(String type, double theta, Double factor, Double lowFreqFactor, Double highFreqFactor,
                         Integer originalMaxPositionEmbeddings, Double betaFast, Double betaSlow, Double mscale,
                         Double mscaleAllDim, Double attentionFactor, Boolean truncate) {

    public static RopeConfig defaults(double theta) {
        return new RopeConfig("default", theta, null, null, null, null, null, null, null, null, null, null);
    }
}
