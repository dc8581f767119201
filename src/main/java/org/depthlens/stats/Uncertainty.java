package org.depthlens.stats;

import java.util.Map;

/**
 * The intervals of one model's metrics (docs/metrics.md, "Uncertainty").
 *
 * @param method        how they were made ({@link Bootstrap#METHOD})
 * @param resamples     bootstrap resamples
 * @param seed          the seed of the resampling indices ({@link Bootstrap#indices})
 * @param windows       windows resampled
 * @param windowsSha256 SHA-256 of the windows' token ids in order: two models' differences are paired only when
 *                      theirs are equal (the same --text cut by two tokenizers gives other windows); null when
 *                      not recorded
 * @param ci95          per metric key (e.g. "block_influence", "logit_lens.kl", "damage"), its 95 % interval
 * @param scoreVsDamage per score, Spearman's rho against damage and its interval
 * @param table         the per-window sums the intervals came from, for paired intervals between models on the
 *                      same windows; null when read back from a file
 */
public record Uncertainty(String method, int resamples, long seed, int windows, String windowsSha256, Map<String, Band> ci95,
                          Map<String, Correlation> scoreVsDamage, WindowTable table) {

    /** Spearman's rho with its 95 % interval. */
    public record Correlation(double spearman, double lo, double hi) {
    }
}
