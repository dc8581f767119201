package org.depthlens.model;

import org.depthlens.model.family.Architecture;
import org.depthlens.model.family.BlockSpec;
import org.depthlens.model.family.Weight;
import org.nd4j.linalg.api.ndarray.INDArray;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * One block's float32 weights by the roles of its description ({@link Weight#role()}: "attn.qkv",
 * "mlp.gu", "norm.in", ...), held in {@link WeightPool} buffers that the next block reuses: valid
 * only until the next {@link #load}. Routed experts are not loaded with the block but one at a time
 * by {@link #loadExpert}, into the same "expert.*" roles, so a block never holds all its experts.
 */
public final class BlockWeights {
    private final BlockSpec spec;
    private final WeightPool pool;
    private final Map<String, INDArray> byRole = new HashMap<>();
    /** The on-demand weights of each routed expert. */
    private final Map<Integer, List<Weight>> experts = new HashMap<>();

    private BlockWeights(BlockSpec spec, WeightPool pool) {
        this.spec = spec;
        this.pool = pool;
    }

    public BlockSpec spec() {
        return spec;
    }

    /** The weight of {@code role}, or null when the block has none (e.g. a bias the config does not ask for). */
    public INDArray get(String role) {
        return byRole.get(role);
    }

    /** Loads every weight block {@code j} of {@code a} owns except its routed experts. */
    public static BlockWeights load(Architecture a, int j, WeightPool pool) {
        BlockWeights w = new BlockWeights(a.blocks().get(j), pool);
        for (Weight x : a.blockWeights(j)) {
            if (x.onDemand()) {
                w.experts.computeIfAbsent(x.expert(), e -> new ArrayList<>()).add(x);
            } else {
                w.byRole.put(x.role(), pool.load(x));
            }
        }
        return w;
    }

    /** Loads routed expert {@code e} into the expert roles, replacing the previous expert's weights. */
    void loadExpert(int e) {
        for (Weight x : experts.getOrDefault(e, List.of())) byRole.put(x.role(), pool.load(x));
    }

    /**
     * Weights given directly by role, without a checkpoint (benchmarks): roles as {@link #load} fills them,
     * e.g. {@code norm.in, norm.post, attn.qkv, attn.o, mlp.gu, mlp.down} for a dense GQA block.
     */
    public static BlockWeights of(BlockSpec spec, Map<String, INDArray> byRole) {
        BlockWeights w = new BlockWeights(spec, null);
        w.byRole.putAll(byRole);
        return w;
    }
}
