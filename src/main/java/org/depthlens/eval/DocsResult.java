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
 * @param loglik full-model log-likelihood summed over all documents (natural log)
 */
public record DocsResult(String name, int documents, long tokens, long words, long bytes, double loglik,
                         Map<String, Double> full, List<Map<String, Double>> removal, List<Pruned> pruned) implements FileScores {
    public static final List<String> METRICS = List.of("token_ppl", "word_ppl", "byte_ppl", "bits_per_byte");

    @Override
    public List<String> metrics() {
        return METRICS;
    }

    /** lm-eval's aggregation: exp(-sum ll / sum tokens|words|bytes) and -sum ll / sum bytes / ln 2. */
    public static Map<String, Double> metrics(double loglik, long tokens, long words, long bytes) {
        Map<String, Double> m = new LinkedHashMap<>();
        m.put("token_ppl", Math.exp(-loglik / tokens));
        m.put("word_ppl", Math.exp(-loglik / words));
        m.put("byte_ppl", Math.exp(-loglik / bytes));
        m.put("bits_per_byte", -loglik / bytes / Math.log(2));
        return m;
    }
}
