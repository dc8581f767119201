package org.depthlens.analysis;

import org.depthlens.pass.Batch;
import org.depthlens.pass.PassPart;
import org.depthlens.pass.Passes;
import org.depthlens.pass.Sequence;
import org.depthlens.probe.LastTokenAngles;
import org.depthlens.probe.Rows;
import org.depthlens.model.WeightPool;
import org.depthlens.util.Progress;
import org.depthlens.Fixtures;
import org.depthlens.TinyCurse;
import org.depthlens.model.family.Architecture;
import org.depthlens.model.BlockForward;
import org.depthlens.model.BlockTrace;
import org.depthlens.model.BlockWeights;
import org.depthlens.model.ExpertUsage;
import org.depthlens.model.Model;
import org.depthlens.model.RopeTables;
import org.depthlens.probe.Metrics;
import org.depthlens.probe.ProbeSums;
import org.depthlens.probe.StreamProbe;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;
import org.junit.jupiter.params.provider.ValueSource;
import org.nd4j.linalg.api.ndarray.INDArray;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.stream.Collectors;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

/**
 * Layer streaming changes nothing: the single block-major pass (weights decoded block by block into
 * reused buffers, one state per open removal branch, each branch born from the main stream's prefix)
 * gives exactly the metrics of a non-streaming run that holds the whole model in memory as float32 and
 * computes every removal with its own full forward pass from the embedding. The computation of each
 * state is the same in both, so the numbers must be identical to the last bit. And the streaming pass
 * reads every block tensor exactly once.
 */
class StreamingEquivalenceTest {
    static Stream<String> fixtures() {
        return org.depthlens.FixtureSet.all();
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("fixtures")
    void fixtureStreamingEqualsInMemory(String fixture) {
        compare(Fixtures.dir(fixture).resolve("model"), Fixtures.windows(fixture), fixture);
    }

    @ParameterizedTest(name = "tiny-curse-24/{0}")
    @ValueSource(strings = {"pre_ln", "lns"})
    void tinyCurseStreamingEqualsInMemory(String dir) {
        // bitwise equality of the states holds at any length; 4 x 64 tokens keep the 24 separate removal forwards cheap
        compare(Fixtures.tinyCurse().resolve(dir), TinyCurse.windows(4, 64), "tiny-curse-24/" + dir);
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("fixtures")
    void fixtureSweepLoadsEachBlockTensorOnce(String fixture) {
        checkLoads(Fixtures.dir(fixture).resolve("model"), Fixtures.windows(fixture), fixture);
    }

    @ParameterizedTest(name = "tiny-curse-24/{0}")
    @ValueSource(strings = {"pre_ln", "lns"})
    void tinyCurseSweepLoadsEachBlockTensorOnce(String dir) {
        // which tensors are read does not depend on the windows
        checkLoads(Fixtures.tinyCurse().resolve(dir), TinyCurse.windows(2, 16), "tiny-curse-24/" + dir);
    }

    private static void compare(Path dir, List<int[]> windows, String what) {
        try (Model m = Model.open(dir, Architecture.LnsMode.AUTO)) {
            Analyzer.Options options = new Analyzer.Options(true, 0, 8L << 30);
            Passes.Plan plan = Analyzer.request(m, options).firstStage();
            assertEquals(1, new Passes(m, 8L << 30, Progress.NONE).groups(Analyzer.sequences(windows), plan).size(),
                    "one pass over the weights");
            Metrics streamed = new Analyzer(m, options, Progress.NONE).run(windows).metrics();
            Metrics held = inMemory(m, windows);
            assertIdentical(held, streamed, what);
            System.out.printf("%s: streaming == in-memory on all %d metrics arrays, loss %.6f%n", what, 9, streamed.loss());
        }
    }

    /**
     * The non-streaming reference: every block's float32 weights loaded up front (each block in its own pool, so
     * the whole model is resident), the main stream observed depth by depth, and each single-block removal run
     * from the embedding through all other blocks on its own.
     */
    static Metrics inMemory(Model m, List<int[]> windows) {
        Architecture a = m.arch();
        int layers = a.layers();
        Batch batch = Batch.of(windows);
        List<BlockWeights> blocks = new ArrayList<>();
        for (int j = 0; j < layers; j++) blocks.add(m.loadBlock(j, m.newPool()));
        RopeTables rope = m.ropeTables(batch.seqLen());
        StreamProbe probe = new StreamProbe(layers, a.hidden(), batch.batch(), batch.seqLen());
        LastTokenAngles angles = new LastTokenAngles(layers, batch.lastRows());
        INDArray x0 = m.embed(batch.ids());
        probe.observe(0, x0);
        angles.observe(0, x0);
        INDArray x = x0;
        for (int j = 0; j < layers; j++) {
            ExpertUsage eu = ExpertUsage.forBlock(a.blocks().get(j));
            x = BlockForward.forward(a, blocks.get(j), x, batch.batch(), batch.seqLen(), rope, eu == null ? null : new BlockTrace(false, eu));
            probe.observe(j + 1, x);
            angles.observe(j + 1, x);
        }
        List<INDArray> states = new ArrayList<>();
        states.add(x);
        for (int l = 0; l < layers; l++) {
            INDArray y = x0;
            for (int j = 0; j < layers; j++) {
                if (j != l) y = BlockForward.forward(a, blocks.get(j), y, batch.batch(), batch.seqLen(), rope, null);
            }
            states.add(y);
        }
        // the same reductions as the pass: each window's scored rows (all but its last) summed in order, then windows
        int[] targets = batch.nextTokenTargets();
        int[] rows = java.util.stream.IntStream.range(0, targets.length).filter(r -> targets[r] >= 0).toArray();
        int[] scoredTargets = java.util.Arrays.stream(rows).map(r -> targets[r]).toArray();
        List<INDArray> scored = states.stream().map(st -> Rows.gather(st, rows)).toList();
        double[][] lp = m.head().logProbs(scored, scoredTargets, org.depthlens.model.Gemm.Segments.uniform(batch.batch(), batch.seqLen() - 1));
        double[] loss = new double[lp.length];
        int perWindow = batch.seqLen() - 1;
        for (int s = 0; s < lp.length; s++) {
            double[] perSeq = new double[batch.batch()];
            for (int b = 0; b < batch.batch(); b++) {
                double sum = 0;
                for (int j = 0; j < perWindow; j++) sum += lp[s][b * perWindow + j];
                perSeq[b] = sum;
            }
            loss[s] = -Passes.sum(perSeq) / rows.length;
        }
        return org.depthlens.probe.ProbeSums.total(layers, a.hidden(), probe.sums()).finish(LastTokenAngles.mean(layers, angles.perSequence()), loss[0],
                java.util.Arrays.copyOfRange(loss, 1, loss.length));
    }

    static void assertIdentical(Metrics want, Metrics got, String what) {
        List<String> bad = new ArrayList<>();
        tri(want.angularAll(), got.angularAll(), "angular_all", bad);
        tri(want.angularLast(), got.angularLast(), "angular_last", bad);
        vec(want.blockInfluence(), got.blockInfluence(), "block_influence", bad);
        vec(want.variance(), got.variance(), "variance", bad);
        vec(want.tokenVariance(), got.tokenVariance(), "token_variance", bad);
        vec(want.rms(), got.rms(), "rms", bad);
        vec(want.updateRatio(), got.updateRatio(), "update_ratio", bad);
        vec(new double[] {want.loss()}, new double[] {got.loss()}, "loss", bad);
        vec(want.lossWithoutLayer(), got.lossWithoutLayer(), "loss_without_layer", bad);
        if (!bad.isEmpty()) fail(what + ": streaming differs from in-memory: " + String.join("; ", bad));
    }

    private static void tri(double[][] want, double[][] got, String name, List<String> bad) {
        for (int l = 0; l < want.length; l++) vec(want[l], got[l], name + "[" + l + "]", bad);
    }

    private static void vec(double[] want, double[] got, String name, List<String> bad) {
        if (want.length != got.length) {
            bad.add(name + " length " + got.length + " != " + want.length);
            return;
        }
        for (int i = 0; i < want.length; i++) {
            if (Double.doubleToLongBits(want[i]) != Double.doubleToLongBits(got[i])) {
                bad.add(name + "[" + i + "] " + got[i] + " != " + want[i]);
            }
        }
    }

    /**
     * The analysis pass (all probes and the full removal sweep) loads every block tensor exactly once, MoE experts
     * at most once (only those some stream chose); the pruning pass is a separate pass with its own single read.
     */
    private static void checkLoads(Path dir, List<int[]> windows, String what) {
        try (Model m = Model.open(dir, Architecture.LnsMode.AUTO)) {
            // the planner's stages run one by one, as a distributed driver would, counting the pool's loads in each
            WeightPool pool = m.newPool();
            Passes passes = new Passes(m, pool, 8L << 30, Progress.NONE);
            List<Sequence> seqs = Analyzer.sequences(windows);
            Passes.Request request = Analyzer.request(m, new Analyzer.Options(true, 2, 8L << 30));
            List<Map<String, Integer>> loadsPerPass = new ArrayList<>();
            List<Long> totalPerPass = new ArrayList<>();
            Passes.Plan first = request.firstStage();
            Passes.Totals firstTotals = Passes.merge(seqs.size(), first, m.arch().layers(), List.of(counted(pool, loadsPerPass, totalPerPass,
                    () -> passes.run(seqs, single(passes.groups(seqs, first)), first))));
            Passes.Plan pruning = request.pruningStage(firstTotals);
            assertTrue(pruning != null, "n = 2 needs a pruning pass");
            counted(pool, loadsPerPass, totalPerPass, () -> passes.run(seqs, single(passes.groups(seqs, pruning)), pruning));
            Set<String> blockTensors = m.checkpoint().tensors().keySet().stream()
                    .filter(n -> n.startsWith(m.arch().names().blocks()) && !n.endsWith("_scale_inv"))
                    .collect(Collectors.toCollection(TreeSet::new));
            for (int pass = 0; pass < 2; pass++) {
                Map<String, Integer> loads = loadsPerPass.get(pass);
                for (Map.Entry<String, Integer> e : loads.entrySet()) {
                    assertTrue(blockTensors.contains(e.getKey()), what + ": pass " + pass + " loaded " + e.getKey() + " through the block pool");
                    assertEquals(1, e.getValue(), what + ": pass " + pass + " loads " + e.getKey() + " once");
                }
                for (String t : blockTensors) {
                    if (!t.contains(".experts.")) assertTrue(loads.containsKey(t), what + ": pass " + pass + " never loaded " + t);
                }
                assertEquals(totalPerPass.get(pass).longValue(), loads.values().stream().mapToLong(Integer::longValue).sum());
            }
            long experts = loadsPerPass.get(0).keySet().stream().filter(n -> n.contains(".experts.")).count();
            System.out.printf("%s: %d block tensors, each read once per pass (%d expert projections read)%n", what,
                    totalPerPass.get(0), experts);
        }
    }

    private static int[] single(List<int[]> groups) {
        assertEquals(1, groups.size(), "one group");
        return groups.get(0);
    }

    /** Runs {@code pass}, recording which tensors the pool loaded meanwhile and how often. */
    private static PassPart counted(WeightPool pool, List<Map<String, Integer>> byName, List<Long> total,
                                    java.util.function.Supplier<PassPart> pass) {
        org.depthlens.LoadCounts loads = org.depthlens.LoadCounts.on(pool);
        PassPart part = pass.get();
        pool.listen(null);
        byName.add(loads.byName());
        total.add(loads.total());
        return part;
    }
}
