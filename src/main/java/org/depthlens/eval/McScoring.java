package org.depthlens.eval;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * lm-eval's multiple-choice metrics from summed log-likelihoods: {@code acc} = mean of [argmax ll == gold],
 * {@code acc_norm} = mean of [argmax ll / len(choice) == gold], with len in characters (Unicode code points,
 * Python's len) of the choice string as given, and ties going to the first choice (numpy's argmax).
 */
public final class McScoring {
    private McScoring() {}

    /** {@code {"acc": ..., "acc_norm": ...}} over all items. */
    public static Map<String, Double> score(double[][] lls, List<List<String>> choices, int[] gold) {
        int accHits = 0, normHits = 0;
        for (int[] h : hits(lls, choices, gold)) {
            accHits += h[0];
            normHits += h[1];
        }
        Map<String, Double> m = new LinkedHashMap<>();
        m.put("acc", (double) accHits / lls.length);
        m.put("acc_norm", (double) normHits / lls.length);
        return m;
    }

    /** {@code [item] = {acc hit, acc_norm hit}} (1 or 0): the per-item sums the bootstrap over items resamples. */
    public static int[][] hits(double[][] lls, List<List<String>> choices, int[] gold) {
        int[][] out = new int[lls.length][2];
        for (int i = 0; i < lls.length; i++) {
            double[] ll = lls[i];
            int best = 0, bestNorm = 0;
            double bestNormValue = ll[0] / length(choices.get(i).get(0));
            for (int c = 1; c < ll.length; c++) {
                if (ll[c] > ll[best]) best = c;
                double norm = ll[c] / length(choices.get(i).get(c));
                if (norm > bestNormValue) {
                    bestNorm = c;
                    bestNormValue = norm;
                }
            }
            out[i][0] = best == gold[i] ? 1 : 0;
            out[i][1] = bestNorm == gold[i] ? 1 : 0;
        }
        return out;
    }

    static int length(String s) {
        return s.codePointCount(0, s.length());
    }
}
