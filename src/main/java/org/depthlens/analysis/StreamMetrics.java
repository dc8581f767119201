package org.depthlens.analysis;

import org.depthlens.model.Model;
import org.depthlens.pass.Batch;
import org.depthlens.pass.PassProbe;
import org.depthlens.probe.LastTokenAngles;
import org.depthlens.probe.MetricSpec;
import org.depthlens.probe.MetricSpec.Chart;
import org.depthlens.probe.MetricSpec.Shape;
import org.depthlens.probe.ProbeSums;
import org.depthlens.probe.StreamProbe;
import org.depthlens.stats.WindowTable;
import org.nd4j.linalg.api.ndarray.INDArray;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The paper's probes of the residual stream (docs/metrics.md): the angular distances over all tokens and over the
 * last token, the variances, the RMS, block influence and the update ratio. All but angular_last come from the
 * probe sums over every token ({@link StreamProbe}); angular_last is measured by the planner per window.
 */
final class StreamMetrics extends MetricSource {
    static final String PROBE = "probe_sums";

    private static final List<MetricSpec> METRICS = List.of(
            MetricSpec.stored("angular_all", Shape.TRIANGLE, "angle / pi (0..1)",
                    "Mean over all tokens of arccos(cos(x[l], x[l+n]))/pi: how far the residual stream turns between depth l "
                            + "and depth l+n (0 = same direction, 0.5 = orthogonal).", null, null),
            MetricSpec.stored("angular_last", Shape.TRIANGLE, "angle / pi (0..1)",
                    "The same over the last token of each window only (the choice of Gromov et al. and of the LNS repository).",
                    null, null),
            MetricSpec.stored("variance", Shape.DEPTHS, "squared units of x",
                    "Population variance of all elements of x[l] (all tokens and dimensions together); its growth with depth "
                            + "is the Curse of Depth's symptom.",
                    "variance", new Chart("variance", "residual-stream variance vs depth", "Variance of x[l] (all elements)",
                            "variance (all elements of x[l])")),
            MetricSpec.stored("token_variance", Shape.DEPTHS, "squared units of x",
                    "Mean over tokens of the population variance of x[l][t] over the hidden dimension.",
                    "token_variance", new Chart("token_variance", "token variance vs depth", "Token variance of x[l]",
                            "token variance (mean over tokens of Var over d)")),
            MetricSpec.stored("rms", Shape.DEPTHS, "units of x", "Mean over tokens of |x[l][t]| / sqrt(d), d = hidden size.",
                    "rms", new Chart("rms", "residual-stream RMS vs depth", "RMS of x[l]", "rms = mean over tokens of |x[l]| / sqrt(d)")),
            MetricSpec.stored("block_influence", Shape.BLOCKS, "1 - cosine (0..2)",
                    "1 - mean over tokens of cos(x[l], x[l+1]) (ShortGPT's Block Influence): how much block l changes the "
                            + "direction of the stream; ShortGPT prunes the blocks with the lowest values.",
                    "block_influence", new Chart("block_influence", "block influence", "Block influence 1 - mean cos(x[l], x[l+1])",
                            "block influence (all tokens)")),
            MetricSpec.stored("update_ratio", Shape.BLOCKS, "ratio of norms",
                    "Mean over tokens of |x[l+1][t] - x[l][t]| / |x[l][t]|: the size of block l's update relative to its input.",
                    "update_ratio", new Chart("update_ratio", "update ratio", "Update ratio |x[l+1] - x[l]| / |x[l]|",
                            "update ratio (mean over tokens)")));

    /** Declared after the constants its constructor reads. */
    static final StreamMetrics SOURCE = new StreamMetrics();

    private StreamMetrics() {
        super(null, METRICS, List.of(new Score("block_influence", "block_influence", Pick.SAME),
                new Score("angular_all_n1", "angular_all", Pick.SPAN_ONE),
                new Score("angular_last_n1", "angular_last", Pick.SPAN_ONE),
                new Score("update_ratio", "update_ratio", Pick.SAME)));
    }

    @Override
    public void request(Model model, Plan plan) {
        int layers = model.arch().layers(), hidden = model.arch().hidden();
        plan.probe(PassProbe.of(PROBE, (long) hidden * (layers + 1), () -> new ProbeSums(layers, hidden), ProbeSums::merge,
                batch -> observe(layers, hidden, batch)));
        plan.lastAngles();
    }

    @Override
    public Map<String, double[][]> values(Run run) {
        ProbeSums sums = run.total(PROBE);
        var m = sums.finish(run.outcome().angularLast(), run.loss(), null);
        Map<String, double[][]> v = new LinkedHashMap<>();
        for (MetricSpec s : METRICS) v.put(s.key(), m.rows(s.key()));
        return v;
    }

    @Override
    public void declare(WindowTable t, Run run) {
        ProbeSums.declare(t, run.windows(PROBE));
        double[][] last = run.outcome().lastAngles();
        int layers = run.layers(), w = run.seqs().size(), pairs = LastTokenAngles.pairs(layers);
        double[][] rows = new double[w][pairs + 1];
        for (int k = 0; k < w; k++) {
            System.arraycopy(last[k], 0, rows[k], 0, pairs);
            rows[k][pairs] = 1;
        }
        int at = t.columns(rows);
        t.metric("angular_last", 2, Shape.TRIANGLE.rows(layers), s -> {
            double[] v = new double[pairs];
            for (int i = 0; i < pairs; i++) v[i] = s[at + i] / s[at + pairs];
            return v;
        });
    }

    /** Keeps every depth's state of the batch, for the pairwise angles ({@link StreamProbe}). */
    private static PassProbe.Observer<ProbeSums> observe(int layers, int hidden, Batch batch) {
        StreamProbe p = new StreamProbe(layers, hidden, batch.batch(), batch.seqLen());
        return new PassProbe.Observer<>() {
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
}
