package org.depthlens.analysis;

import org.depthlens.model.Model;
import org.depthlens.pass.Batch;
import org.depthlens.pass.PassProbe;
import org.depthlens.probe.MetricSpec;
import org.depthlens.probe.MetricSpec.Chart;
import org.depthlens.probe.MetricSpec.Shape;
import org.depthlens.stats.WindowTable;
import org.nd4j.linalg.api.ndarray.INDArray;

import java.io.Serializable;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * token_similarity[l] (docs/metrics.md): the mean cosine between the states of two different tokens of the same
 * window at depth l. When it approaches 1 the tokens' states point the same way (rank collapse), and a deep
 * block can no longer tell positions apart. With u_t = x[l][t] / |x[l][t]| over a window's n tokens of nonzero
 * norm, the sum over ordered pairs t != s of cos = |sum_t u_t|^2 - n, over n(n-1) pairs; windows add both.
 *
 * <p>This probe is the whole metric in one file (docs/design.md, "The metric registry"): its switch, its metric,
 * its per-window sums and their statistic; the registry's one line makes it part of the analysis.
 */
final class TokenSimilarity extends MetricSource {
    static final String KEY = "token_similarity";
    static final Switch TOGGLE = new Switch("token-similarity", true,
            "token_similarity: the mean cosine between two tokens' states at each depth (rank collapse; a pass over each "
                    + "depth's state, no model work).");

    private static final List<MetricSpec> METRICS = List.of(MetricSpec.optional(KEY, Shape.DEPTHS, "cosine (-1..1)",
            "Mean over pairs of different tokens t != s of the same window of cos(x[l][t], x[l][s]): how alike the tokens' "
                    + "states are at depth l (1 = every token points the same way: rank collapse).",
            KEY, new Chart(KEY, "token similarity vs depth", "Mean cos(x[l][t], x[l][s]), t != s",
                    "token similarity (mean over token pairs)", true)));

    /** Declared after the constants its constructor reads. */
    static final TokenSimilarity SOURCE = new TokenSimilarity();

    private TokenSimilarity() {
        super(TOGGLE, METRICS, List.of());
    }

    @Override
    public void request(Model model, Plan plan) {
        int layers = model.arch().layers(), hidden = model.arch().hidden();
        plan.probe(PassProbe.of(KEY, hidden, () -> new Sums(layers), Sums::merge,
                batch -> observe(hidden, layers, batch)));
    }

    @Override
    public Map<String, double[][]> values(Run run) {
        Sums s = run.total(KEY);
        double[] v = new double[s.pairSum.length];
        for (int d = 0; d < v.length; d++) v[d] = s.pairSum[d] / s.pairs[d];
        return Map.of(KEY, new double[][] {v});
    }

    @Override
    public void declare(WindowTable t, Run run) {
        List<Sums> windows = run.windows(KEY);
        int n = run.layers() + 1;
        double[][] rows = new double[windows.size()][2 * n];
        for (int k = 0; k < rows.length; k++) {
            System.arraycopy(windows.get(k).pairSum, 0, rows[k], 0, n);
            System.arraycopy(windows.get(k).pairs, 0, rows[k], n, n);
        }
        int at = t.columns(rows);
        t.metric(KEY, 1, new int[] {n}, s -> {
            double[] v = new double[n];
            for (int d = 0; d < n; d++) v[d] = s[at + d] / s[at + n + d];
            return v;
        });
    }

    /** Per depth, the summed cosines over ordered pairs of different tokens and the number of those pairs. */
    static final class Sums implements Serializable {
        private static final long serialVersionUID = 1L;
        final double[] pairSum;
        final double[] pairs;

        Sums(int layers) {
            pairSum = new double[layers + 1];
            pairs = new double[layers + 1];
        }

        Sums merge(Sums o) {
            for (int d = 0; d < pairSum.length; d++) {
                pairSum[d] += o.pairSum[d];
                pairs[d] += o.pairs[d];
            }
            return this;
        }
    }

    /** Adds window {@code b}'s rows of x[depth] ({@code [B*T, H]} floats, sequence-major) to {@code into}. */
    static void add(Sums into, int depth, float[] x, int hidden, int firstRow, int rows) {
        double[] u = new double[hidden];
        long n = 0;
        for (int r = firstRow; r < firstRow + rows; r++) {
            int base = r * hidden;
            double ss = 0;
            for (int i = 0; i < hidden; i++) ss += (double) x[base + i] * x[base + i];
            if (ss == 0) continue; // a zero state has no direction
            double inv = 1 / Math.sqrt(ss);
            for (int i = 0; i < hidden; i++) u[i] += x[base + i] * inv;
            n++;
        }
        double sq = 0;
        for (double v : u) sq += v * v;
        into.pairSum[depth] += sq - n;
        into.pairs[depth] += (double) n * (n - 1);
    }

    /** Reads each depth's state once as it passes; nothing is kept beyond one copy of it. */
    private static PassProbe.Observer<Sums> observe(int hidden, int layers, Batch batch) {
        List<Sums> sums = new ArrayList<>();
        for (int b = 0; b < batch.batch(); b++) sums.add(new Sums(layers));
        return new PassProbe.Observer<>() {
            @Override
            public void state(int depth, INDArray x) {
                INDArray c = x.isView() || x.ordering() != 'c' || x.offset() != 0 || x.data().length() != x.length() ? x.dup('c') : x;
                float[] f = c.data().asFloat();
                for (int b = 0; b < batch.batch(); b++) add(sums.get(b), depth, f, hidden, b * batch.seqLen(), batch.seqLen());
            }

            @Override
            public List<Sums> result() {
                return sums;
            }
        };
    }
}
