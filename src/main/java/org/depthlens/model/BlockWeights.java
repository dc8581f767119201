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
        for (String role : b.norm().roles()) {
            String name = p + BlockNorm.TENSORS.get(role);
            w.put(role, role.startsWith("res.") ? pool.loadScalar(role, name) : pool.load(role, name, h));
        }
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
     * {@code w2} down), under roles {@code <role>.gu} (gate and up stacked as one [2*intermediate, h]
     * matrix: one gemm computes both) and {@code <role>.down}; replaces what those roles held.
     */
    static void loadSwiGlu(BlockWeights w, String role, String prefix, String gate, String up, String down,
                           long intermediate, long h, WeightPool pool) {
        w.put(role + ".gu", pool.loadStacked(role + ".gu", new String[] {prefix + gate + ".weight", prefix + up + ".weight"},
                new long[][] {{intermediate, h}, {intermediate, h}}));
        w.put(role + ".down", pool.load(role + ".down", prefix + down + ".weight", h, intermediate));
    }

    /** q, k and v stacked as one [q+2kv, h] matrix (role {@code attn.qkv}), and their biases likewise. */
    private static void loadGqa(BlockWeights w, AttentionSpec.Gqa g, String p, long h, WeightPool pool) {
        long qOut = (long) g.heads() * g.headDim();
        long kvOut = (long) g.kvHeads() * g.headDim();
        String[] proj = {p + "q_proj.", p + "k_proj.", p + "v_proj."};
        w.put("attn.qkv", pool.loadStacked("attn.qkv", new String[] {proj[0] + "weight", proj[1] + "weight", proj[2] + "weight"},
                new long[][] {{qOut, h}, {kvOut, h}, {kvOut, h}}));
        w.put("attn.o", pool.load("attn.o", p + "o_proj.weight", h, qOut));
        if (g.qkvBias()) {
            w.put("attn.qkv.bias", pool.loadStacked("attn.qkv.bias", new String[] {proj[0] + "bias", proj[1] + "bias", proj[2] + "bias"},
                    new long[][] {{qOut}, {kvOut}, {kvOut}}));
        }
        if (g.oBias()) w.put("attn.o.bias", pool.load("attn.o.bias", p + "o_proj.bias", h));
        if (g.qkNorm()) {
            w.put("attn.q_norm", pool.load("attn.q_norm", p + "q_norm.weight", g.headDim()));
            w.put("attn.k_norm", pool.load("attn.k_norm", p + "k_norm.weight", g.headDim()));
        }
    }

    /**
     * Weights given directly by role, without a checkpoint (benchmarks): roles as {@link #load} fills them,
     * e.g. {@code norm.in, norm.post, attn.qkv, attn.o, mlp.gu, mlp.down} for a dense GQA Pre-LN block (norm roles:
     * {@link BlockNorm#roles}).
     */
    public static BlockWeights of(BlockSpec spec, Map<String, INDArray> byRole) {
        BlockWeights w = new BlockWeights(spec, null);
        byRole.forEach(w::put);
        return w;
    }

    /** Registers a loaded weight under its role (used by family-specific loaders). */
    public void put(String role, INDArray a) {
        if (a != null) byRole.put(role, a);
    }
}
