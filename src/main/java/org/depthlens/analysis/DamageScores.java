package org.depthlens.analysis;

import org.depthlens.probe.Metrics;

import java.util.LinkedHashMap;
import java.util.Map;
import java.util.function.Function;

/**
 * The cheap scores compared with the damage of removing a block (docs/metrics.md, "Which score predicts the
 * damage"), one value per block each, declared once for score_vs_damage, its intervals and the report's scatter.
 */
public final class DamageScores {
    /** Per score key, how it is read off the metrics (null when its probe did not run). */
    public static final Map<String, Function<Metrics, double[]>> SCORES = scores();

    private DamageScores() {}

    private static Map<String, Function<Metrics, double[]>> scores() {
        Map<String, Function<Metrics, double[]>> s = new LinkedHashMap<>();
        s.put("block_influence", Metrics::blockInfluence);
        s.put("angular_all_n1", m -> firstColumn(m.angularAll()));
        s.put("angular_last_n1", m -> firstColumn(m.angularLast()));
        s.put("update_ratio", Metrics::updateRatio);
        s.put("jacobian_deviation", Metrics::jacobianDeviation);
        s.put("logit_lens_kl_drop", m -> m.logitLens() == null ? null : klDrop(m.logitLens().kl()));
        return java.util.Collections.unmodifiableMap(s);
    }

    /** kl[l] - kl[l+1]: how much closer to the final prediction block l brings the lens. */
    public static double[] klDrop(double[] kl) {
        double[] d = new double[kl.length - 1];
        for (int l = 0; l < d.length; l++) d[l] = kl[l] - kl[l + 1];
        return d;
    }

    private static double[] firstColumn(double[][] tri) {
        if (tri == null) return null;
        double[] v = new double[tri.length];
        for (int l = 0; l < v.length; l++) v[l] = tri[l][0];
        return v;
    }
}
