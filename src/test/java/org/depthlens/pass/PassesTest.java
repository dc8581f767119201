package org.depthlens.pass;

import org.depthlens.Fixtures;
import org.depthlens.TinyCurse;
import org.depthlens.model.BlockForward;
import org.depthlens.model.BlockWeights;
import org.depthlens.model.Model;
import org.depthlens.model.RopeTables;
import org.depthlens.model.Sublayer;
import org.depthlens.model.family.Architecture;
import org.depthlens.probe.Rows;
import org.depthlens.util.Progress;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Test;
import org.nd4j.linalg.api.ndarray.INDArray;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.ObjectInputStream;
import java.io.ObjectOutputStream;
import java.io.Serializable;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.List;
import java.util.Set;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The pass planner's plumbing on the trained tiny-curse-24 model: branches of every kind give the states a
 * plain forward gives (to the last bit), observers see every depth and can run the loaded block again, and
 * parts of a run survive serialisation and merge in any grouping.
 */
class PassesTest {
    static Model model;
    static List<int[]> windows;

    @BeforeAll
    static void open() {
        model = Model.open(Fixtures.tinyCurse().resolve("pre_ln"), Architecture.LnsMode.AUTO);
        windows = TinyCurse.windows(3, 24);
    }

    @AfterAll
    static void close() {
        model.close();
    }

    /** Every branch kind against its plain forward: blocks held in memory, the branch's blocks run one by one. */
    @Test
    void branchesAreThePlainForwardsTheyDescribe() {
        List<Sequence> seqs = windows.stream().map(Sequence::window).toList();
        List<Branch> branches = List.of(Branch.skip(3, 6), Branch.without(0), Branch.without(5, Sublayer.ATTENTION),
                Branch.without(5, Sublayer.MLP), Branch.without(23, Sublayer.MLP));
        Passes.Outcome o = new Passes(model, 1L << 30, Progress.NONE).run(seqs, new Passes.Request(branches, true, false, 0, null, List.of()));
        assertEquals(1, o.passes());

        Batch batch = Batch.of(windows);
        Architecture a = model.arch();
        List<BlockWeights> blocks = new ArrayList<>();
        for (int j = 0; j < a.layers(); j++) blocks.add(model.loadBlock(j, model.newPool()));
        RopeTables rope = model.ropeTables(batch.seqLen());
        assertArrayEquals(o.main(), loglik(forward(a, blocks, batch, rope, null), seqs), "main stream");
        for (Branch b : branches) {
            assertArrayEquals(o.loglik().get(b), loglik(forward(a, blocks, batch, rope, b), seqs), b.toString());
        }
        // and they differ from the full model: the branches really changed something
        for (Branch b : branches) assertTrue(!Arrays.equals(o.main(), o.loglik().get(b)), b + " equals the main stream");
    }

    private static INDArray forward(Architecture a, List<BlockWeights> blocks, Batch batch, RopeTables rope, Branch b) {
        INDArray x = model.embed(batch.ids());
        for (int j = 0; j < a.layers(); j++) {
            Branch.Step step = b == null || j < b.fork() ? Branch.Step.RUN : b.step(j);
            if (step == Branch.Step.SKIP) continue;
            Set<Sublayer> zero = step == Branch.Step.NO_ATTENTION ? Set.of(Sublayer.ATTENTION)
                    : step == Branch.Step.NO_MLP ? Set.of(Sublayer.MLP) : null;
            x = BlockForward.forwardAll(a, blocks.get(j), List.of(x), Collections.singletonList(zero), batch.batch(), batch.seqLen(),
                    rope, Collections.singletonList(null)).get(0);
        }
        return x;
    }

    /** Each window's next-token log-likelihood, its rows summed in order. */
    private static double[] loglik(INDArray x, List<Sequence> seqs) {
        int t = seqs.get(0).length();
        int[] rows = new int[seqs.size() * (t - 1)];
        int[] targets = new int[rows.length];
        for (int b = 0, k = 0; b < seqs.size(); b++) {
            for (int j = 0; j < t - 1; j++, k++) {
                rows[k] = b * t + j;
                targets[k] = seqs.get(b).targets()[j];
            }
        }
        double[] lp = model.head().logProbs(List.of(Rows.gather(x, rows)), targets, org.depthlens.model.Gemm.Segments.uniform(seqs.size(), t - 1))[0];
        double[] out = new double[seqs.size()];
        for (int b = 0, k = 0; b < seqs.size(); b++) {
            for (int j = 0; j < t - 1; j++) out[b] += lp[k++];
        }
        return out;
    }

    @Test
    void observersSeeEveryDepthAndCanRunTheLoadedBlockAgain() {
        int layers = model.arch().layers();
        List<Integer> depths = new ArrayList<>();
        int[] sameOutput = {0};
        StreamObserver o = new StreamObserver() {
            @Override
            public void state(int depth, INDArray x) {
                depths.add(depth);
            }

            @Override
            public void block(int block, INDArray in, INDArray out, BlockEvaluator evaluate) {
                INDArray again = evaluate.forward(in);
                if (Arrays.equals(again.dup('c').data().asFloat(), out.dup('c').data().asFloat())) sameOutput[0]++;
                again.close();
            }
        };
        new BlockMajorPass(model, model.newPool()).run(Batch.of(windows), List.of(Branch.without(2)), List.of(o), Progress.NONE);
        List<Integer> want = new ArrayList<>();
        for (int d = 0; d <= layers; d++) want.add(d);
        assertEquals(want, depths);
        assertEquals(layers, sameOutput[0], "evaluating block j again on x[j] gives x[j+1] exactly");
    }

    /** A probe that counts the tokens of its batches: its partials must merge in part order. */
    record Count(long tokens) implements Serializable {
    }

    static PassProbe<Count> counter(boolean padding) {
        return new PassProbe<>() {
            @Override
            public String name() {
                return "count";
            }

            @Override
            public long floatsPerToken() {
                return 0;
            }

            @Override
            public boolean allowsPadding() {
                return padding;
            }

            @Override
            public Observer<Count> observe(Batch batch) {
                return new Observer<>() {
                    @Override
                    public void state(int depth, INDArray x) {
                    }

                    @Override
                    public List<Count> result() {
                        return Arrays.stream(batch.lengths()).mapToObj(Count::new).toList();
                    }
                };
            }

            @Override
            public Count empty() {
                return new Count(0);
            }

            @Override
            public Count merge(Count earlier, Count later) {
                return new Count(earlier.tokens() + later.tokens());
            }
        };
    }

    @Test
    void partsSurviveSerialisationAndMergeInAnyGrouping() throws Exception {
        // sequences of different lengths: the scored rows of each are its last 3
        List<Sequence> seqs = new ArrayList<>();
        int[] lengths = {24, 7, 19, 12};
        for (int i = 0; i < lengths.length; i++) {
            int[] w = Arrays.copyOf(windows.get(i % windows.size()), lengths[i]);
            seqs.add(new Sequence(w, lengths[i] - 3, new int[] {w[1], w[2], w[3]}));
        }
        Passes.Plan plan = new Passes.Plan(List.of(Branch.without(4), Branch.skip(10, 13)), true, true, List.of(counter(true)));
        Passes big = new Passes(model, 1L << 30, Progress.NONE);
        Passes small = new Passes(model, 1, Progress.NONE); // one sequence per group
        List<int[]> oneGroup = big.groups(seqs, plan);
        List<int[]> single = small.groups(seqs, plan);
        assertEquals(seqs.size(), single.size());
        for (int[] g : oneGroup) {
            int t = seqs.get(g[0]).length();
            for (int m : g) assertTrue(seqs.get(m).length() <= t && 2 * seqs.get(m).length() > t, "lengths in (t/2, t]");
        }
        int layers = model.arch().layers();
        List<PassPart> parts = new ArrayList<>();
        for (int[] g : single) parts.add(roundTrip(small.run(seqs, g, plan)));
        Passes.Totals bySequence = Passes.merge(seqs.size(), plan, layers, parts);
        List<PassPart> grouped = new ArrayList<>();
        for (int[] g : oneGroup) grouped.add(big.run(seqs, g, plan));
        Passes.Totals byGroup = Passes.merge(seqs.size(), plan, layers, grouped);

        assertEquals(Arrays.stream(lengths).sum(), ((Count) bySequence.probes().get("count")).tokens());
        assertEquals(Arrays.stream(lengths).sum(), ((Count) byGroup.probes().get("count")).tokens());
        assertEquals(bySequence.inputTokens(), byGroup.inputTokens());
        // a sequence's numbers depend on it alone (model/Gemm cuts every product per sequence): padding and batch
        // size change nothing, bit for bit
        assertArrayEquals(bySequence.main(), byGroup.main());
        for (Branch b : plan.branches()) assertArrayEquals(bySequence.loglik().get(b), byGroup.loglik().get(b), b.toString());
        for (int l = 0; l < layers; l++) assertArrayEquals(bySequence.angularLast()[l], byGroup.angularLast()[l]);
        // merging is by sequence: the same parts in another order give the same numbers, bit for bit
        List<PassPart> reversed = new ArrayList<>(parts);
        Collections.reverse(reversed);
        Passes.Totals again = Passes.merge(seqs.size(), plan, layers, reversed);
        assertArrayEquals(bySequence.main(), again.main());
        for (int l = 0; l < layers; l++) assertArrayEquals(bySequence.angularLast()[l], again.angularLast()[l]);

        List<PassPart> twice = new ArrayList<>(parts);
        twice.add(parts.get(0));
        assertThrows(IllegalArgumentException.class, () -> Passes.merge(seqs.size(), plan, layers, twice));
        assertThrows(IllegalArgumentException.class, () -> Passes.merge(seqs.size(), plan, layers, parts.subList(1, parts.size())));
    }

    @Test
    void aProbeThatSeesEveryRowGetsBatchesOfEqualLengths() {
        List<Sequence> seqs = List.of(Sequence.window(windows.get(0)), Sequence.window(Arrays.copyOf(windows.get(1), 20)),
                Sequence.window(windows.get(2)));
        Passes.Plan plan = new Passes.Plan(List.of(), true, false, List.of(counter(false)));
        List<int[]> groups = new Passes(model, 1L << 30, Progress.NONE).groups(seqs, plan);
        assertEquals(2, groups.size());
        assertArrayEquals(new int[] {0, 2}, groups.get(0));
        assertArrayEquals(new int[] {1}, groups.get(1));
    }

    private static PassPart roundTrip(PassPart p) throws Exception {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        try (ObjectOutputStream out = new ObjectOutputStream(bytes)) {
            out.writeObject(p);
        }
        try (ObjectInputStream in = new ObjectInputStream(new ByteArrayInputStream(bytes.toByteArray()))) {
            return (PassPart) in.readObject();
        }
    }
}
