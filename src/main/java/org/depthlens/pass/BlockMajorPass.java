package org.depthlens.pass;

import org.depthlens.util.Progress;
import org.depthlens.model.family.Architecture;
import org.depthlens.model.BlockForward;
import org.depthlens.model.BlockTrace;
import org.depthlens.model.BlockWeights;
import org.depthlens.model.ExpertUsage;
import org.depthlens.model.Model;
import org.depthlens.model.family.MlpSpec;
import org.depthlens.model.Rope;
import org.depthlens.model.WeightPool;
import org.nd4j.linalg.api.ndarray.INDArray;

import org.depthlens.model.Scratch;
import org.depthlens.model.Workspaces;
import org.nd4j.linalg.api.memory.MemoryWorkspace;

import java.util.ArrayList;
import java.util.IdentityHashMap;
import java.util.Set;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.BiConsumer;

/**
 * One pass over the weights: block j is loaded once and every live stream advances through it —
 * the main stream (observed as x[j] -> x[j+1]) and each removal {@link Branch}, which is born from
 * the main stream's x[from] (the shared prefix is never recomputed) and skips to block {@code to}.
 * Peak memory is one block's weights plus one state per live branch.
 */
public final class BlockMajorPass {
    private final Model model;
    private final WeightPool pool;

    public BlockMajorPass(Model model, WeightPool pool) {
        this.model = model;
        this.pool = pool;
    }

    /** What a pass returns: the final (pre-norm) state of the main stream and of each branch, and expert usage. */
    public record Result(INDArray main, Map<Branch, INDArray> branches, List<long[]> expertUsage) {
    }

    /**
     * Runs the batch through all blocks.
     *
     * @param observer sees (depth, state) for depth 0..L of the main stream; may be null
     */
    public Result run(Batch batch, List<Branch> branchSpecs, BiConsumer<Integer, INDArray> observer, Progress progress) {
        Architecture a = model.arch();
        int layers = a.layers();
        Rope.Tables rope = model.ropeTables(batch.seqLen());
        INDArray x = model.embed(batch.ids());
        if (observer != null) observer.accept(0, x);
        Map<Branch, INDArray> live = new LinkedHashMap<>();
        List<long[]> usage = new ArrayList<>();
        boolean anyMoe = a.blocks().stream().anyMatch(b -> b.mlp() instanceof MlpSpec.Moe);
        long work = (long) layers + branchWork(branchSpecs, layers);
        long done = 0;
        for (int j = 0; j < layers; j++) {
            for (Branch br : branchSpecs) {
                if (br.from() == j) live.put(br, x);
            }
            BlockWeights w = model.loadBlock(j, pool);
            ExpertUsage eu = a.blocks().get(j).mlp() instanceof MlpSpec.Moe m ? new ExpertUsage(m.experts()) : null;
            // every stream that goes through block j: the main one, then the branches that resumed by now
            List<INDArray> inputs = new ArrayList<>();
            List<BlockTrace> traces = new ArrayList<>();
            List<Branch> advancing = new ArrayList<>();
            inputs.add(x);
            traces.add(eu == null ? null : new BlockTrace(false, eu));
            for (Map.Entry<Branch, INDArray> e : live.entrySet()) {
                if (e.getKey().to() <= j) {
                    advancing.add(e.getKey());
                    inputs.add(e.getValue());
                    traces.add(null);
                }
            }
            List<INDArray> outputs = advance(a, w, inputs, batch, rope, traces);
            if (anyMoe) usage.add(eu == null ? null : eu.counts());
            for (int i = 0; i < advancing.size(); i++) live.put(advancing.get(i), outputs.get(i + 1));
            done += inputs.size();
            x = outputs.get(0);
            if (observer != null) observer.accept(j + 1, x);
            release(inputs, x, live);
            progress.update(done, work, "block " + (j + 1) + "/" + layers);
        }
        for (Branch br : branchSpecs) {
            if (!live.containsKey(br)) throw new IllegalArgumentException("branch " + br + " outside 0.." + layers);
        }
        return new Result(x, live, anyMoe ? usage : null);
    }

    private static List<INDArray> advance(Architecture a, BlockWeights w, List<INDArray> xs, Batch batch, Rope.Tables rope,
                                          List<BlockTrace> traces) {
        try (MemoryWorkspace ws = Workspaces.scratch("depthlens-block")) {
            // the outputs are Scratch states, allocated outside the workspace
            return BlockForward.forwardAll(a, w, xs, batch.batch(), batch.seqLen(), rope, traces);
        }
    }

    /** Recycles replaced states right away (off-heap memory is otherwise only reclaimed by a GC that rarely runs). */
    private static void release(List<INDArray> replaced, INDArray main, Map<Branch, INDArray> live) {
        Set<INDArray> held = java.util.Collections.newSetFromMap(new IdentityHashMap<>());
        held.add(main);
        held.addAll(live.values());
        Set<INDArray> done = java.util.Collections.newSetFromMap(new IdentityHashMap<>());
        for (INDArray r : replaced) {
            if (!held.contains(r) && done.add(r)) Scratch.get().recycle(r);
        }
    }

    /** Block evaluations the branches cost: each runs blocks to..L-1. */
    static long branchWork(List<Branch> branches, int layers) {
        long w = 0;
        for (Branch b : branches) w += Math.max(0, layers - b.to());
        return w;
    }
}
