package org.depthlens.eval;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The metrics of one evaluation file (a task or a documents file) for one model: the full model, the
 * model without each single block, and each contiguous pruning. Values are the model's own; the
 * performance drop of a removal is {@link #delta}, {@code value_without - value_full}.
 */
public sealed interface FileScores permits TaskResult, DocsResult {
    /** The file name (the key in eval.json). */
    String name();

    /** The metric names, in report order. */
    List<String> metrics();

    /** Full-model values by metric name. */
    Map<String, Double> full();

    /** {@code removal().get(l)}: the values with block l removed; empty when the sweep was not run. */
    List<Map<String, Double>> removal();

    /** The contiguous prunings, n = 1..K. */
    List<Pruned> pruned();

    /** The 95 % intervals of every number above and of every change; null when not computed. */
    FileIntervals uncertainty();

    /** {lo, hi} of an interval key ({@link FileIntervals#ci95}), or null without it. */
    default double[][] bounds(String key) {
        return uncertainty() == null ? null : uncertainty().bounds(key);
    }

    /** Blocks [start, start+n) removed together (Gromov et al.'s choice by angular distance). */
    record Pruned(int n, int start, Map<String, Double> values) {
    }

    /** {@code without - full} for every metric. */
    default Map<String, Double> delta(Map<String, Double> without) {
        Map<String, Double> d = new LinkedHashMap<>();
        for (String k : metrics()) d.put(k, without.get(k) - full().get(k));
        return d;
    }

    /** {@code delta} of one metric for every removed block (empty array without the sweep). */
    default double[] removalDelta(String metric) {
        double[] d = new double[removal().size()];
        for (int l = 0; l < d.length; l++) d[l] = removal().get(l).get(metric) - full().get(metric);
        return d;
    }
}
