package org.depthlens.analysis;

import org.depthlens.model.Model;
import org.depthlens.model.WeightPool;
import org.depthlens.pass.Branch;
import org.depthlens.pass.Passes;
import org.depthlens.pass.PrunedRemoval;
import org.depthlens.pass.RequestOptions;
import org.depthlens.pass.Sequence;
import org.depthlens.probe.Metrics;
import org.depthlens.probe.ProbeSums;
import org.depthlens.stats.Bootstrap;
import org.depthlens.util.Progress;

import java.io.Serializable;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

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
     * Which switchable probes run ({@link MetricRegistry#SWITCHES}, by name; docs/metrics.md). Cost over the
     * paper's probes and removal sweep: the logit lens reads the head for L+1 more states, the Jacobian probe adds
     * 2 block evaluations per block, the sublayer removal adds 2L branches, L(L+1) block evaluations and 2L head
     * states (bench/README.md), token similarity one more read of each depth's state.
     *
     * @param on the names of the probes that run (sorted, unmodifiable)
     */
    public record DepthProbes(java.util.SortedSet<String> on) implements Serializable {
        public DepthProbes {
            for (String n : on) {
                if (MetricRegistry.toggle(n) == null) {
                    throw new IllegalArgumentException("no probe named '" + n + "' (probes: " + String.join(", ", MetricRegistry.switchNames()) + ")");
                }
            }
            on = java.util.Collections.unmodifiableSortedSet(new java.util.TreeSet<>(on));
        }

        /** None of the switchable probes: the paper's probes only. */
        public static final DepthProbes NONE = new DepthProbes(new java.util.TreeSet<>());
        /** The default of {@code analyze}: each probe's own default (sublayer removal, which roughly doubles the pass, is off). */
        public static final DepthProbes DEFAULT = of(MetricRegistry.SWITCHES.stream().filter(MetricSource.Switch::onByDefault)
                .map(MetricSource.Switch::name).toList());
        public static final DepthProbes ALL = of(MetricRegistry.switchNames());

        public static DepthProbes of(java.util.Collection<String> names) {
            return new DepthProbes(new java.util.TreeSet<>(names));
        }

        public boolean has(String name) {
            return on.contains(name);
        }

        /** This with probe {@code name} on or off. */
        public DepthProbes with(String name, boolean run) {
            java.util.TreeSet<String> s = new java.util.TreeSet<>(on);
            if (run) s.add(name);
            else s.remove(name);
            return new DepthProbes(s);
        }
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

    /** What {@code analyze} asks of the planner: what every probe that runs asks for ({@link MetricRegistry}), and the pruning. */
    public static Passes.Request request(Model model, Options options) {
        MetricSource.Plan plan = new MetricSource.Plan();
        for (MetricSource s : MetricRegistry.SOURCES) if (s.enabled(options)) s.request(model, plan);
        return new Passes.Request(plan.branches, true, plan.lastAngles, Math.min(options.prune(), model.arch().layers()), null,
                plan.probes);
    }

    /** The metrics and pruning of a run of {@link #request} on {@code seqs}. */
    public static Outcome outcome(List<Sequence> seqs, Passes.Outcome o, Options options) {
        long count = 0;
        for (Sequence s : seqs) count += s.targets().length;
        ProbeSums sums = (ProbeSums) o.probes().get(StreamMetrics.PROBE);
        int layers = sums.layers();
        MetricSource.Run run = new MetricSource.Run(seqs, o, layers, count);
        Map<String, double[][]> values = new LinkedHashMap<>();
        for (MetricSource s : MetricRegistry.SOURCES) if (s.enabled(options)) values.putAll(s.values(run));
        Metrics metrics = new Metrics(layers, values, null);
        List<PrunedRemoval> pruned = new ArrayList<>();
        for (Branch.Skip b : o.pruning()) pruned.add(new PrunedRemoval(b.n(), b.from(), -Passes.sum(o.loglik().get(b)) / count));
        long t0 = System.nanoTime();
        metrics = metrics.withUncertainty(Intervals.of(run, options, metrics, Bootstrap.RESAMPLES, Bootstrap.SEED));
        double intervals = (System.nanoTime() - t0) / 1e9;
        return new Outcome(metrics, pruned, o.expertUsage(), sums.tokens(), seqs.size(), intervals);
    }
}
