package org.depthlens.eval;

import java.util.List;
import java.util.Map;

/**
 * Multiple-choice accuracy on one task file.
 *
 * @param n      items
 * @param loglik      full-model summed log-likelihood of every choice of every item
 * @param uncertainty the intervals of every number, resampling items; null when not computed (an eval.json written before)
 */
public record TaskResult(String name, int n, Map<String, Double> full, double[][] loglik, List<Map<String, Double>> removal,
                         List<Pruned> pruned, FileIntervals uncertainty) implements FileScores {
    public static final List<String> METRICS = List.of("acc", "acc_norm");

    @Override
    public List<String> metrics() {
        return METRICS;
    }
}
