package org.depthlens.eval;

import org.depthlens.pass.Provenance;

import java.util.List;

/**
 * Everything {@code eval} (or {@code analyze --tasks/--docs}) learned about one model.
 *
 * @param settings how it was computed
 * @param inputs   every task and documents file with its SHA-256, in the order given
 */
public record EvalResult(String label, String family, boolean lns, int blocks, Settings settings, List<TaskResult> tasks,
                         List<DocsResult> perplexity, List<Input> inputs, Provenance provenance) {

    /**
     * @param maxLength       tokens per model input (lm-eval's max_length)
     * @param removal         "single" (every single block removed) or "none"
     * @param prune           K of the contiguous pruning (0 = none)
     * @param pruningChosenOn where the angular distance that chose the pruned blocks was measured
     * @param prefixToken     the token a document's first token is predicted from (BOS, else EOS)
     * @param requests        scored sequences (choices and document windows)
     * @param inputTokens     tokens read by the model per pass
     * @param passes          passes over the weights (per batch of requests)
     * @param seconds         wall time of the evaluation of this model (logged, not written to eval.json)
     */
    public record Settings(int maxLength, String removal, int prune, String pruningChosenOn, int prefixToken, int requests,
                           long inputTokens, int passes, double seconds) {
    }

    /** An input file and the SHA-256 of its bytes. */
    public record Input(String kind, String path, String sha256) {
    }

    /** The result with provenance and inputs filled in. */
    public EvalResult with(List<Input> in, Provenance p) {
        return new EvalResult(label, family, lns, blocks, settings, tasks, perplexity, List.copyOf(in), p);
    }
}
