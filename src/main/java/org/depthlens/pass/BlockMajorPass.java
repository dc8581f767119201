package org.depthlens.pass;

import org.depthlens.util.Progress;
import org.depthlens.model.family.Architecture;
import org.depthlens.model.BlockForward;
import org.depthlens.model.BlockTrace;
import org.depthlens.model.BlockWeights;
import org.depthlens.model.ExpertUsage;
import org.depthlens.model.Model;
import org.depthlens.model.family.MlpSpec;
import org.depthlens.model.RopeTables;
import org.depthlens.model.Scratch;
import org.depthlens.model.Sublayer;
import org.depthlens.model.WeightPool;
import org.depthlens.model.Workspaces;
import org.nd4j.linalg.api.memory.MemoryWorkspace;
import org.nd4j.linalg.api.ndarray.INDArray;

import java.util.ArrayList;
import java.util.Collections;
import java.util.IdentityHashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * One pass over the weights for one batch: block j is loaded once and every live stream advances through
 * it — the main stream (observed as x[j] -> x[j+1]) and each {@link Branch}, which is born from the main
 * stream's x[fork] (the shared prefix is never recomputed) and then does at each block what its
 * {@link Branch#step} says. Peak memory is one block's weights plus one state per live stream.
 */
public final class BlockMajorPass {
    private final Model model;
    private final WeightPool pool;

    public BlockMajorPass(Model model, WeightPool pool) {
        this.model = model;
        this.pool = pool;
    }

    /**
     * What a pass returns: the final (pre-norm) state of the main stream and of each branch (the caller owns
     * them), and the main stream's expert choices per block (null for a dense model, null entries for dense blocks).
     */
    public record Result(INDArray main, Map<Branch, INDArray> branches, List<long[]> expertUsage) {
    }

    /** Runs the batch through all blocks; {@code observers} see the main stream. */
    public Result run(Batch batch, List<? extends Branch> branchSpecs, List<? extends StreamObserver> observers, Progress progress) {
        Architecture a = model.arch();
        int layers = a.layers();
        for (Branch br : branchSpecs) {
            if (br.fork() >= layers || br instanceof Branch.Skip s && s.to() > layers
                    || br instanceof Branch.Drop d && d.blocks().get(d.blocks().size() - 1) >= layers) {
                throw new IllegalArgumentException("branch " + br + " outside the model's " + layers + " blocks");
            }
        }
        RopeTables rope = model.ropeTables(batch.seqLen());
        INDArray x = model.embed(batch.ids());
        for (StreamObserver o : observers) o.state(0, x);
        Map<Branch, INDArray> live = new LinkedHashMap<>();
        List<long[]> usage = new ArrayList<>();
        boolean anyMoe = a.blocks().stream().anyMatch(b -> b.mlp() instanceof MlpSpec.Moe);
        long work = (long) layers + branchWork(branchSpecs, layers);
        long done = 0;
        for (int j = 0; j < layers; j++) {
            for (Branch br : branchSpecs) {
                if (br.fork() == j) live.put(br, x);
            }
            BlockWeights w = model.loadBlock(j, pool);
            ExpertUsage eu = ExpertUsage.forBlock(a.blocks().get(j));
            // every stream that runs block j whole: the main one, then the live branches whose step is RUN
            List<INDArray> inputs = new ArrayList<>();
            List<BlockTrace> traces = new ArrayList<>();
            List<Set<Sublayer>> zeroed = new ArrayList<>();
            List<Branch> advancing = new ArrayList<>();
            inputs.add(x);
            traces.add(eu == null ? null : new BlockTrace(false, eu));
            zeroed.add(null);
            for (Map.Entry<Branch, INDArray> e : live.entrySet()) {
                Branch.Step step = e.getKey().step(j);
                if (step == Branch.Step.SKIP) continue;
                advancing.add(e.getKey());
                inputs.add(e.getValue());
                traces.add(null);
                zeroed.add(switch (step) {
                    case NO_ATTENTION -> Set.of(Sublayer.ATTENTION);
                    case NO_MLP -> Set.of(Sublayer.MLP);
                    default -> null;
                });
            }
            List<INDArray> outputs = advance(a, w, inputs, zeroed, batch, rope, traces);
            if (anyMoe) usage.add(eu == null ? null : eu.counts());
            for (int i = 0; i < advancing.size(); i++) live.put(advancing.get(i), outputs.get(i + 1));
            done += inputs.size();
            INDArray in = x;
            x = outputs.get(0);
            if (!observers.isEmpty()) {
                StreamObserver.BlockEvaluator eval = ys -> advance(a, w, ys, null, batch, rope, Collections.nCopies(ys.size(), null));
                for (StreamObserver o : observers) o.block(j, in, x, eval);
                for (StreamObserver o : observers) o.state(j + 1, x);
            }
            release(inputs, x, live);
            progress.update(done, work, "block " + (j + 1) + "/" + layers);
        }
        return new Result(x, live, anyMoe ? usage : null);
    }

    private static List<INDArray> advance(Architecture a, BlockWeights w, List<INDArray> xs, List<Set<Sublayer>> zeroed, Batch batch,
                                          RopeTables rope, List<BlockTrace> traces) {
        try (MemoryWorkspace ws = Workspaces.scratch("depthlens-block")) {
            // the outputs are Scratch states, allocated outside the workspace
            return BlockForward.forwardAll(a, w, xs, zeroed, batch.batch(), batch.seqLen(), batch.lengths(), rope, traces);
        }
    }

    /** Recycles replaced states right away (off-heap memory is otherwise only reclaimed by a GC that rarely runs). */
    private static void release(List<INDArray> replaced, INDArray main, Map<Branch, INDArray> live) {
        Set<INDArray> held = Collections.newSetFromMap(new IdentityHashMap<>());
        held.add(main);
        held.addAll(live.values());
        Set<INDArray> done = Collections.newSetFromMap(new IdentityHashMap<>());
        for (INDArray r : replaced) {
            if (!held.contains(r) && done.add(r)) Scratch.get().recycle(r);
        }
    }

    /** Block evaluations the branches cost: each runs the blocks after its fork that it does not skip. */
    static long branchWork(List<? extends Branch> branches, int layers) {
        long w = 0;
        for (Branch b : branches) {
            for (int j = b.fork(); j < layers; j++) if (b.step(j) != Branch.Step.SKIP) w++;
        }
        return w;
    }
}
