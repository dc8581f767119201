package org.depthlens.model.family;

import org.depthlens.weights.ConfigReader;
import org.depthlens.weights.RopeConfig;

import java.util.List;
import java.util.function.IntFunction;

/** What DeepSeek-V2 and V3 share: latent attention, and dense blocks below first_k_dense_replace, experts above. */
final class Deepseek {
    private Deepseek() {}

    /** The keys both versions read, and those HF's DeepSeek classes set or ignore whatever the file says. */
    static final ConfigKeys KEYS = ConfigKeys.COMMON.read("q_lora_rank", "kv_lora_rank", "qk_nope_head_dim", "qk_rope_head_dim",
                    "v_head_dim", "attention_bias", "first_k_dense_replace", "n_routed_experts", "n_shared_experts",
                    "num_experts_per_tok", "moe_intermediate_size", "n_group", "topk_group", "routed_scaling_factor")
            .ignored("HF sets head_dim to qk_rope_head_dim and qk_head_dim to qk_nope_head_dim + qk_rope_head_dim, whatever the"
                    + " file says; depthlens computes both the same way", "head_dim", "qk_head_dim")
            .ignored(Common.PRETRAINING_TP, "pretraining_tp")
            // keys of DeepSeek's own (trust_remote_code) classes that HF's ignore: refused where the two would compute differently
            .only("moe_layer_freq", "a mixture of experts in every block from first_k_dense_replace on (HF ignores moe_layer_freq,"
                    + " DeepSeek's own code does not)", 1)
            .ignored("expert-parallel group size and auxiliary balance loss, for training", "ep_size", "aux_loss_alpha", "seq_aux");
    /** first_k_dense_replace is a threshold (moe_layer_freq other than 1 is refused when the config is read: ConfigKeys). */
    static final LayerKey[] LAYER_KEYS = {new LayerKey.Threshold("first_k_dense_replace")};

    /** Multi-head latent attention; its softmax scale carries YaRN's correction (mscale_all_dim) squared. */
    static AttentionSpec.Mla attention(ConfigReader c) {
        int heads = c.positiveInt("num_attention_heads");
        Common.kvHeads(c, heads); // read by HF, unused by MLA; refused when inconsistent
        int nope = c.nonNegativeInt("qk_nope_head_dim"), rope = c.positiveInt("qk_rope_head_dim");
        double scale = Math.pow(nope + rope, -0.5);
        RopeConfig r = c.rope();
        if (!r.type().equals("default") && r.mscaleAllDim() != null && r.mscaleAllDim() != 0 && r.factor() != null && r.factor() > 1) {
            double m = RopeSpec.yarnMscale(r.factor(), r.mscaleAllDim());
            scale *= m * m;
        }
        return new AttentionSpec.Mla(heads, c.optionalPositiveInt("q_lora_rank"), c.positiveInt("kv_lora_rank"), nope, rope,
                c.positiveInt("v_head_dim"), c.bool("attention_bias", false), scale);
    }

    /** Routing as the family states it; experts, sizes and shared experts as both versions read them. */
    interface Routing {
        MlpSpec.Moe moe(int experts, int topK, int intermediate, MlpSpec.SharedExpert shared);
    }

    /**
     * Dense SwiGLU blocks below first_k_dense_replace, mixtures of n_routed_experts (or its attribute_map
     * {@code alias}) plus n_shared_experts ungated above.
     */
    static IntFunction<MlpSpec> mlp(ConfigReader c, String alias, Routing routing) {
        int intermediate = c.positiveInt("intermediate_size");
        int experts = Common.aliasedCount(c, "n_routed_experts", alias);
        if (experts <= 0) throw c.error("'n_routed_experts' must be positive, got " + experts);
        int topK = c.positiveInt("num_experts_per_tok");
        int expertIntermediate = c.positiveInt("moe_intermediate_size");
        int nShared = c.has("n_shared_experts") ? c.nonNegativeInt("n_shared_experts") : 0; // null: no shared experts
        int firstMoe = c.nonNegativeInt("first_k_dense_replace");
        MlpSpec.SharedExpert shared = nShared > 0 ? new MlpSpec.SharedExpert("shared_experts", expertIntermediate * nShared, false) : null;
        MlpSpec.Moe moe = routing.moe(experts, topK, expertIntermediate, shared);
        MlpSpec.Dense dense = new MlpSpec.Dense(intermediate);
        return i -> i < firstMoe ? dense : moe;
    }

    static Architecture assemble(String family, ConfigReader c, NormForm norm, boolean interleaved,
                                 IntFunction<MlpSpec> mlp, List<Architecture.Extra> extras) {
        AttentionSpec.Mla a = attention(c);
        return Common.assemble(family, c, norm, a, a.ropeDim(), interleaved, Common.FULL, mlp, extras);
    }
}
