package org.depthlens.model;

import org.nd4j.linalg.api.ndarray.INDArray;

import java.util.HashMap;
import java.util.Map;

/**
 * One block's float32 weights by role ("attn.q", "mlp.gate", ...), held in {@link WeightPool}
 * buffers that the next block reuses: valid only until the next {@link #load}. MoE experts are
 * not loaded here but on demand through {@link #pool()}, so a block never holds all its experts.
 */
public final class BlockWeights {
    private final BlockSpec spec;
    private final WeightPool pool;
    private final Map<String, INDArray> byRole = new HashMap<>();

    private BlockWeights(BlockSpec spec, WeightPool pool) {
        this.spec = spec;
        this.pool = pool;
    }

    public BlockSpec spec() {
        return spec;
    }

    public WeightPool pool() {
        return pool;
    }

    /** The weight of {@code role}, or null when the block has none (an absent optional bias). */
    public INDArray get(String role) {
        return byRole.get(role);
    }

    public static BlockWeights load(Architecture a, BlockSpec b, WeightPool pool) {
        BlockWeights w = new BlockWeights(b, pool);
        String p = b.prefix();
        long h = a.hidden();
        w.put("norm.in", pool.load("norm.in", p + "input_layernorm.weight", h));
        w.put("norm.post", pool.load("norm.post", p + "post_attention_layernorm.weight", h));
        if (a.attention() instanceof AttentionSpec.Gqa g) {
            loadGqa(w, g, p + "self_attn.", h, pool);
        } else {
            Mla.load(w, (AttentionSpec.Mla) a.attention(), p + "self_attn.", h, pool);
        }
        if (b.mlp() instanceof MlpSpec.Dense d) {
            loadDense(w, "mlp", p + "mlp.", d.intermediate(), h, pool);
        } else {
            Moe.load(w, (MlpSpec.Moe) b.mlp(), p, h, pool);
        }
        return w;
    }

    /** A SwiGLU MLP {@code <prefix>{gate,up,down}_proj} under roles {@code <role>.gate/up/down}. */
    static void loadDense(BlockWeights w, String role, String prefix, long intermediate, long h, WeightPool pool) {
        loadSwiGlu(w, role, prefix, "gate_proj", "up_proj", "down_proj", intermediate, h, pool);
    }

    /**
     * A SwiGLU MLP whose projections have other names (Mixtral's experts: {@code w1} gate, {@code w3} up,
     * {@code w2} down), under roles {@code <role>.gate/up/down}; replaces what those roles held.
     */
    static void loadSwiGlu(BlockWeights w, String role, String prefix, String gate, String up, String down,
                           long intermediate, long h, WeightPool pool) {
        w.put(role + ".gate", pool.load(role + ".gate", prefix + gate + ".weight", intermediate, h));
        w.put(role + ".up", pool.load(role + ".up", prefix + up + ".weight", intermediate, h));
        w.put(role + ".down", pool.load(role + ".down", prefix + down + ".weight", h, intermediate));
    }

    private static void loadGqa(BlockWeights w, AttentionSpec.Gqa g, String p, long h, WeightPool pool) {
        long qOut = (long) g.heads() * g.headDim();
        long kvOut = (long) g.kvHeads() * g.headDim();
        w.put("attn.q", pool.load("attn.q", p + "q_proj.weight", qOut, h));
        w.put("attn.k", pool.load("attn.k", p + "k_proj.weight", kvOut, h));
        w.put("attn.v", pool.load("attn.v", p + "v_proj.weight", kvOut, h));
        w.put("attn.o", pool.load("attn.o", p + "o_proj.weight", h, qOut));
        if (g.qkvBias()) {
            w.put("attn.q.bias", pool.load("attn.q.bias", p + "q_proj.bias", qOut));
            w.put("attn.k.bias", pool.load("attn.k.bias", p + "k_proj.bias", kvOut));
            w.put("attn.v.bias", pool.load("attn.v.bias", p + "v_proj.bias", kvOut));
        }
        if (g.oBias()) w.put("attn.o.bias", pool.load("attn.o.bias", p + "o_proj.bias", h));
        if (g.qkNorm()) {
            w.put("attn.q_norm", pool.load("attn.q_norm", p + "q_norm.weight", g.headDim()));
            w.put("attn.k_norm", pool.load("attn.k_norm", p + "k_norm.weight", g.headDim()));
        }
    }

    /** Registers a loaded weight under its role (used by family-specific loaders). */
    public void put(String role, INDArray a) {
        if (a != null) byRole.put(role, a);
    }
}
