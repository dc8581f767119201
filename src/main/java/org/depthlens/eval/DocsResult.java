package org.depthlens.eval;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Perplexity of one documents file (lm-eval's rolling log-likelihood).
 *
 * @param tokens predicted tokens (every token of every document, encoded without special tokens)
 * @param words  whitespace-separated pieces of the documents
 * @param bytes  UTF-8 bytes of the documents
 * @param loglik      full-model log-likelihood summed over all documents (natural log)
 * @param uncertainty the intervals of every number, resampling documents; null when not computed (an eval.json written
 *                    before)
 */
public record DocsResult(String name, int documents, long tokens, long words, long bytes, double loglik,
                         Map<String, Double> full, List<Map<String, Double>> removal, List<Pruned> pruned,
                         FileIntervals uncertainty) implements FileScores {
    public static final List<String> METRICS = List.of("token_ppl", "word_ppl", "byte_ppl", "bits_per_byte");

    @Override
    public List<String> metrics() {
        return METRICS;
    }

    /** lm-eval's aggregation: exp(-sum ll / sum tokens|words|bytes) and -sum ll / sum bytes / ln 2. */
    public static Map<String, Double> metrics(double loglik, long tokens, long words, long bytes) {
        Map<String, Double> m = new LinkedHashMap<>();
        for (int i = 0; i < METRICS.size(); i++) m.put(METRICS.get(i), value(i, loglik, tokens, words, bytes));
        return m;
    }

    /**
     * Metric {@code METRICS.get(metric)} from summed log-likelihood and summed counts (the bootstrap over documents
     * calls it on resampled totals, so point value and intervals share one formula).
     */
    public static double value(int metric, double loglik, double tokens, double words, double bytes) {
        return switch (metric) {
            case 0 -> Math.exp(-loglik / tokens);
            case 1 -> Math.exp(-loglik / words);
            case 2 -> Math.exp(-loglik / bytes);
            case 3 -> -loglik / bytes / Math.log(2);
            default -> throw new IllegalArgumentException("metric " + metric);
        };
    }
}
