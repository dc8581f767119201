package org.depthlens.analysis;

import org.depthlens.model.Model;
import org.depthlens.pass.Branch;
import org.depthlens.pass.PassProbe;
import org.depthlens.pass.Passes;
import org.depthlens.pass.Sequence;
import org.depthlens.probe.MetricSpec;
import org.depthlens.stats.Bootstrap;
import org.depthlens.stats.WindowTable;

import java.io.Serializable;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.function.IntFunction;

/**
 * One probe of the analysis, declared in one place (docs/design.md, "The metric registry"): the metrics it
 * writes, the command-line switch that turns it on or off, what it asks of the pass (branches, a
 * {@link PassProbe} on the main stream), how its metrics come out of the run, and the statistics of per-window
 * sums its intervals are resampled from. {@link MetricRegistry#SOURCES} lists them; the analysis, metrics.json,
 * per_block.csv, the intervals, score_vs_damage, the glossary and the charts all read that list, so a new probe
 * is one class and one line there.
 */
public abstract class MetricSource {
    private final Switch toggle;
    private final List<MetricSpec> metrics;
    private final List<Score> scores;

    /**
     * @param toggle  its switch, or null when it runs whenever its pass runs
     * @param metrics its metrics, in metrics.json's order
     * @param scores  its per-block scores for score_vs_damage
     */
    protected MetricSource(Switch toggle, List<MetricSpec> metrics, List<Score> scores) {
        this.toggle = toggle;
        this.metrics = List.copyOf(metrics);
        this.scores = List.copyOf(scores);
    }

    /**
     * A probe's command-line switch: {@code --probe NAME} / {@code --no-probe NAME}.
     *
     * @param name        its name on the command line and in {@link Analyzer.DepthProbes}
     * @param onByDefault whether {@code analyze} runs it when not told
     * @param help        one line for {@code --help}: what it measures and what it costs
     */
    public record Switch(String name, boolean onByDefault, String help) implements Serializable {
    }

    /**
     * A per-block score compared with the damage of removing the block (docs/metrics.md, "Which score predicts
     * the damage").
     *
     * @param key    its key in score_vs_damage
     * @param metric the registered metric it is read from
     * @param pick   how: the metric itself, the n = 1 entries of a triangle, or the drop kl[l] - kl[l+1] of a
     *               per-depth metric
     */
    public record Score(String key, String metric, Pick pick) {
        /** The score's L values from the metric's values flattened row after row (a triangle row l has L-l). */
        public double[] of(double[] flat, int blocks) {
            double[] v = new double[blocks];
            switch (pick) {
                case SAME -> System.arraycopy(flat, 0, v, 0, blocks);
                case SPAN_ONE -> {
                    for (int l = 0, at = 0; l < blocks; at += blocks - l, l++) v[l] = flat[at];
                }
                case DROP -> {
                    for (int l = 0; l < blocks; l++) v[l] = flat[l] - flat[l + 1];
                }
            }
            return v;
        }
    }

    /** How a score is read off its metric. */
    public enum Pick { SAME, SPAN_ONE, DROP }

    /** Its switch, or null when it runs whenever its pass runs. */
    public final Switch toggle() {
        return toggle;
    }

    /** Whether it runs under {@code options}. */
    public boolean enabled(Analyzer.Options options) {
        return toggle == null || options.probes().has(toggle.name());
    }

    /** Its metrics, in metrics.json's order. */
    public final List<MetricSpec> metrics() {
        return metrics;
    }

    /** Its per-block scores for score_vs_damage. */
    public final List<Score> scores() {
        return scores;
    }

    /** Adds what it needs to the pass. */
    public abstract void request(Model model, Plan plan);

    /** Its stored metrics' values after the run, by key (a key left out, or null, is absent). */
    public abstract Map<String, double[][]> values(Run run);

    /**
     * Declares each of its metrics (stored or derived) in {@code table} as a statistic of per-window sums whose
     * value on all windows is the metric (docs/metrics.md, "Uncertainty"); metrics declared earlier (e.g. "loss")
     * can be used.
     */
    public abstract void declare(WindowTable table, Run run);

    /** What the sources ask of the pass planner, gathered. */
    public static final class Plan {
        final List<Branch> branches = new ArrayList<>();
        final List<PassProbe<?>> probes = new ArrayList<>();
        boolean lastAngles;

        public void branch(Branch b) {
            branches.add(b);
        }

        public void probe(PassProbe<?> p) {
            probes.add(p);
        }

        /** Measure angular_last per sequence (the planner does it alongside the pruning choice). */
        public void lastAngles() {
            lastAngles = true;
        }
    }

    /**
     * A finished run as the sources read it.
     *
     * @param seqs    the windows, in order
     * @param outcome what the planner measured
     * @param layers  L
     * @param scored  positions scored over all windows
     */
    public record Run(List<Sequence> seqs, Passes.Outcome outcome, int layers, long scored) {
        /** A probe's partials added up over every window. */
        @SuppressWarnings("unchecked")
        public <P> P total(String probe) {
            return (P) outcome.probes().get(probe);
        }

        /** A probe's partials, one per window in window order, as the planner kept them. */
        @SuppressWarnings("unchecked")
        public <P> List<P> windows(String probe) {
            return (List<P>) (List<?>) outcome.perSequence().get(probe);
        }

        /** The full model's mean next-token NLL. */
        public double loss() {
            return -Passes.sum(outcome.main()) / scored;
        }

        /** Per block l, the mean next-token NLL of branch {@code branch(l)}. */
        public double[][] losses(IntFunction<Branch> branch) {
            double[] out = new double[layers];
            for (int l = 0; l < layers; l++) out[l] = -Passes.sum(outcome.loglik().get(branch.apply(l))) / scored;
            return new double[][] {out};
        }

        /**
         * Adds each window's scored positions and the NLL of every block's {@code branch(l)} to {@code table}
         * (the main stream's when {@code branch} is null), and returns their mean NLL per block (one value for the
         * main stream) as a statistic.
         */
        public Bootstrap.Statistic lossStatistic(WindowTable table, IntFunction<Branch> branch) {
            return lossStatistic(table, branch, branch == null ? 1 : layers);
        }

        /** The same for the {@code n} branches {@code branch(0..n-1)}. */
        public Bootstrap.Statistic lossStatistic(WindowTable table, IntFunction<Branch> branch, int n) {
            int w = seqs.size();
            double[][] rows = new double[w][n + 1];
            for (int k = 0; k < w; k++) {
                rows[k][0] = seqs.get(k).targets().length;
                for (int i = 0; i < n; i++) rows[k][i + 1] = -(branch == null ? outcome.main() : outcome.loglik().get(branch.apply(i)))[k];
            }
            int at = table.columns(rows);
            return s -> {
                double[] v = new double[n];
                for (int i = 0; i < n; i++) v[i] = s[at + 1 + i] / s[at];
                return v;
            };
        }

        /** {@code statistic} minus the registered loss of the same resample: a paired loss increase. */
        public static Bootstrap.Statistic minusLoss(WindowTable table, Bootstrap.Statistic statistic) {
            Bootstrap.Statistic loss = table.metrics().get(LossMetric.KEY).statistic();
            return s -> {
                double[] v = statistic.apply(s);
                double base = loss.apply(s)[0];
                for (int i = 0; i < v.length; i++) v[i] -= base;
                return v;
            };
        }
    }
}
