package org.depthlens.analysis;

import org.depthlens.model.Model;
import org.depthlens.model.Sublayer;
import org.depthlens.model.WeightPool;
import org.depthlens.pass.Batch;
import org.depthlens.pass.Branch;
import org.depthlens.pass.PassProbe;
import org.depthlens.pass.Passes;
import org.depthlens.pass.PrunedRemoval;
import org.depthlens.pass.RequestOptions;
import org.depthlens.pass.Sequence;
import org.depthlens.probe.Metrics;
import org.depthlens.probe.JacobianSums;
import org.depthlens.probe.LensSums;
import org.depthlens.probe.ProbeSums;
import org.depthlens.probe.StreamProbe;
import org.depthlens.stats.Bootstrap;
import org.depthlens.util.Progress;
import org.nd4j.linalg.api.ndarray.INDArray;

import java.io.Serializable;
import java.util.ArrayList;
import java.util.List;

/**
 * The probe analysis of one model, through the pass planner ({@link Passes}): the first stage computes every
 * probe metric and the full single-block removal sweep in one pass over the weights per group of windows;
 * once angular_last is known, a second stage measures the contiguous pruning Gromov et al. choose.
 */
public final class Analyzer {
    /**
     * Options of one analysis: the one value a driver sends to wherever the model runs (a Spark executor builds
     * the request from it), so every probe switch travels with it.
     */
    public record Options(boolean removalSweep, int prune, long memoryBudgetBytes, DepthProbes probes) implements RequestOptions {
        /** The paper's probes only. */
        public Options(boolean removalSweep, int prune, long memoryBudgetBytes) {
            this(removalSweep, prune, memoryBudgetBytes, DepthProbes.NONE);
        }

        @Override
        public Passes.Request request(Model model) {
            return Analyzer.request(model, this);
        }
    }

    /**
     * Which probes beyond the paper run (docs/metrics.md). Cost over the paper's probes and removal sweep:
     * the logit lens reads the head for L+1 more states, the Jacobian probe adds 2 block evaluations per block,
     * the sublayer removal adds 2L branches, L(L+1) block evaluations and 2L head states (bench/README.md).
     */
    public record DepthProbes(boolean logitLens, boolean jacobian, boolean sublayerRemoval) implements Serializable {
        public static final DepthProbes NONE = new DepthProbes(false, false, false);
        /** The default of {@code analyze}: the cheap two; sublayer removal roughly doubles the pass. */
        public static final DepthProbes DEFAULT = new DepthProbes(true, true, false);
        public static final DepthProbes ALL = new DepthProbes(true, true, true);
    }

    /**
     * Metrics, pruning and expert usage of one model; {@code intervalSeconds}: wall time of the bootstrap intervals
     * (bench/README.md reports it against the analysis).
     */
    public record Outcome(Metrics metrics, List<PrunedRemoval> pruned, List<long[]> expertUsage, long tokens, int windows,
                          double intervalSeconds) {
    }

    private final Model model;
    private final Options options;
    private final Passes passes;

    public Analyzer(Model model, Options options, Progress progress) {
        this(model, model.newPool(), options, progress);
    }

    /** With the weight pool the passes load blocks into (tests count its loads). */
    public Analyzer(Model model, WeightPool pool, Options options, Progress progress) {
        this.model = model;
        this.options = options;
        this.passes = new Passes(model, pool, options.memoryBudgetBytes(), progress);
    }

    public Outcome run(List<int[]> windows) {
        if (windows.isEmpty()) throw new IllegalArgumentException("no windows to analyse");
        List<Sequence> seqs = sequences(windows);
        return outcome(seqs, passes.run(seqs, request(model, options)), options);
    }

    /** Every window scores each position's next token; its last position predicts nothing. */
    public static List<Sequence> sequences(List<int[]> windows) {
        return windows.stream().map(Sequence::window).toList();
    }

    /** What {@code analyze} asks of the planner: the removal sweep, angular_last, the probe sums, the pruning. */
    public static Passes.Request request(Model model, Options options) {
        List<Branch> removal = new ArrayList<>();
        if (options.removalSweep()) for (int l = 0; l < model.arch().layers(); l++) removal.add(Branch.without(l));
        int layers = model.arch().layers(), hidden = model.arch().hidden();
        DepthProbes d = options.probes();
        if (d.sublayerRemoval()) {
            for (int l = 0; l < layers; l++) removal.add(Branch.without(l, Sublayer.ATTENTION));
            for (int l = 0; l < layers; l++) removal.add(Branch.without(l, Sublayer.MLP));
        }
        List<PassProbe<?>> probes = new ArrayList<>();
        probes.add(new Probe(layers, hidden));
        if (d.logitLens()) probes.add(new LogitLensPass(model.head(), layers, hidden));
        if (d.jacobian()) probes.add(new JacobianPass(layers, hidden));
        return new Passes.Request(removal, true, true, Math.min(options.prune(), layers), null, probes);
    }

    /** The metrics and pruning of a run of {@link #request} on {@code seqs}. */
    public static Outcome outcome(List<Sequence> seqs, Passes.Outcome o, Options options) {
        long count = 0;
        for (Sequence s : seqs) count += s.targets().length;
        ProbeSums sums = (ProbeSums) o.probes().get(Probe.NAME);
        int layers = sums.layers();
        double[] without = options.removalSweep() ? losses(o, count, layers, Branch::without) : null;
        Metrics metrics = sums.finish(o.angularLast(), -Passes.sum(o.main()) / count, without);
        DepthProbes d = options.probes();
        LensSums lens = (LensSums) o.probes().get(LogitLensPass.NAME);
        JacobianSums jac = (JacobianSums) o.probes().get(JacobianPass.NAME);
        metrics = metrics.withProbes(lens == null ? null : lens.finish(), jac == null ? null : jac.finish(),
                d.sublayerRemoval() ? losses(o, count, layers, l -> Branch.without(l, Sublayer.ATTENTION)) : null,
                d.sublayerRemoval() ? losses(o, count, layers, l -> Branch.without(l, Sublayer.MLP)) : null);
        List<PrunedRemoval> pruned = new ArrayList<>();
        for (Branch.Skip b : o.pruning()) pruned.add(new PrunedRemoval(b.n(), b.from(), -Passes.sum(o.loglik().get(b)) / count));
        long t0 = System.nanoTime();
        metrics = metrics.withUncertainty(Intervals.of(seqs, o, options, metrics, Bootstrap.RESAMPLES, Bootstrap.SEED));
        double intervals = (System.nanoTime() - t0) / 1e9;
        return new Outcome(metrics, pruned, o.expertUsage(), sums.tokens(), seqs.size(), intervals);
    }

    /** Per block l, the mean next-token NLL of branch {@code branch(l)}. */
    private static double[] losses(Passes.Outcome o, long count, int layers, java.util.function.IntFunction<Branch> branch) {
        double[] out = new double[layers];
        for (int l = 0; l < layers; l++) out[l] = -Passes.sum(o.loglik().get(branch.apply(l))) / count;
        return out;
    }

    /** The probe sums of docs/metrics.md over every token ({@link StreamProbe}), as a pass probe. */
    static final class Probe implements PassProbe<ProbeSums> {
        static final String NAME = "probe_sums";
        private final int layers;
        private final int hidden;

        Probe(int layers, int hidden) {
            this.layers = layers;
            this.hidden = hidden;
        }

        @Override
        public String name() {
            return NAME;
        }

        /** Every depth's state of the batch, kept for the pairwise angles. */
        @Override
        public long floatsPerToken() {
            return (long) hidden * (layers + 1);
        }

        @Override
        public ProbeSums empty() {
            return new ProbeSums(layers, hidden);
        }

        @Override
        public Observer<ProbeSums> observe(Batch batch) {
            StreamProbe p = new StreamProbe(layers, hidden, batch.batch(), batch.seqLen());
            return new Observer<>() {
                @Override
                public void state(int depth, INDArray x) {
                    p.observe(depth, x);
                }

                @Override
                public List<ProbeSums> result() {
                    return p.sums();
                }
            };
        }

        @Override
        public ProbeSums merge(ProbeSums acc, ProbeSums later) {
            return acc.merge(later);
        }
    }
}
