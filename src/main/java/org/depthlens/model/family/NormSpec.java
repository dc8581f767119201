package org.depthlens.model.family;

import java.util.List;

/**
 * What one normalisation of a model computes (every norm of a model is of the same kind: the blocks',
 * the final one, and per-head or whole q/k norms), and which tensors it owns under its base name
 * {@code X}: {@code X.weight} (the gain) and, for LayerNorm with bias, {@code X.bias}.
 * <pre>
 *   RMS              x / sqrt(mean(x²) + eps) · w                (Llama, Qwen, Mistral, DeepSeek, OLMo-2, Phi-3)
 *   RMS_UNIT_OFFSET  x / sqrt(mean(x²) + eps) · (1 + w)          (Gemma: the stored w is an offset from 1)
 *   LAYER            (x - mean) / sqrt(var + eps) · w            (LayerNorm without bias)
 *   LAYER_BIAS       (x - mean) / sqrt(var + eps) · w + b        (GPT-NeoX)
 *   LAYER_NO_PARAMS  (x - mean) / sqrt(var + eps)                (OLMo v1: no tensor at all)
 * </pre>
 * The {@code 1 + w} gain is formed once when the weight is loaded ({@link Weight.Transform#PLUS_ONE}), so the
 * forward pass runs it as a plain RMSNorm.
 */
public record NormSpec(Kind kind, double eps) implements java.io.Serializable {
    public enum Kind {
        RMS("RMSNorm"), RMS_UNIT_OFFSET("RMSNorm, gain 1 + w"), LAYER("LayerNorm without bias"), LAYER_BIAS("LayerNorm with bias"),
        LAYER_NO_PARAMS("LayerNorm without parameters");

        private final String label;

        Kind(String label) {
            this.label = label;
        }

        public String label() {
            return label;
        }

        /** Subtracts the mean (LayerNorm) rather than only dividing by the root mean square. */
        public boolean centred() {
            return this == LAYER || this == LAYER_BIAS || this == LAYER_NO_PARAMS;
        }
    }

    public static NormSpec rms(double eps) {
        return new NormSpec(Kind.RMS, eps);
    }

    /** The tensors of the norm {@code base} (e.g. {@code model.layers.0.input_layernorm}) of width {@code size}, under {@code role}. */
    public List<Weight> weights(String role, String base, long size) {
        return switch (kind) {
            case RMS, LAYER -> List.of(Weight.gain(role, base + ".weight", size));
            case RMS_UNIT_OFFSET -> List.of(Weight.gainOffset(role, base + ".weight", size));
            case LAYER_BIAS -> List.of(Weight.gain(role, base + ".weight", size), Weight.zeros(role + ".bias", base + ".bias", size));
            case LAYER_NO_PARAMS -> List.of();
        };
    }

    /** "RMSNorm, eps 1e-06". */
    public String describe() {
        return kind.label() + ", eps " + eps;
    }
}
