package org.depthlens.eval;

import org.depthlens.model.Model;
import org.depthlens.model.WeightPool;
import org.depthlens.pass.Branch;
import org.depthlens.pass.Passes;
import org.depthlens.pass.Sequence;
import org.depthlens.util.Progress;

import java.util.List;
import java.util.Map;

/**
 * Token-level log-likelihood scoring: requests in, summed log-likelihood (double) out, for the full model
 * and, in the same pass over the weights, for any set of removal {@link Branch}es. A thin layer over the pass
 * planner ({@link Passes}), which batches requests of different lengths by right padding and scores only the
 * rows that predict a continuation token.
 */
public final class Scorer {
    /**
     * Summed log-likelihood of each request: {@code full[i]} for the full model (null when not asked for),
     * {@code branches.get(b)[i]} for the model with branch b.
     */
    public record Scores(double[] full, Map<Branch, double[]> branches, int batches, long inputTokens) {
    }

    private final Passes passes;

    public Scorer(Model model, long memoryBudgetBytes, Progress progress) {
        this(model, model.newPool(), memoryBudgetBytes, progress);
    }

    /** With the weight pool the passes load blocks into (tests listen to its loads). */
    public Scorer(Model model, WeightPool pool, long memoryBudgetBytes, Progress progress) {
        this.passes = new Passes(model, pool, memoryBudgetBytes, progress);
    }

    /** Summed log-likelihood of each request under the full model. */
    public double[] logLikelihood(List<LoglikRequest> requests, int maxLength) {
        return score(requests, maxLength, List.of(), true).full();
    }

    /** Scores every request under the full model (if {@code scoreFull}) and each branch, in one stage. */
    public Scores score(List<LoglikRequest> requests, int maxLength, List<? extends Branch> branches, boolean scoreFull) {
        List<Sequence> seqs = sequences(requests, maxLength);
        Passes.Outcome o = passes.run(seqs, new Passes.Request(List.copyOf(branches), scoreFull, false, 0, null, List.of()));
        return new Scores(o.main(), o.loglik(), o.passes(), o.inputTokens());
    }

    /** The planner's batches of these requests (indices), for a stage scoring the full model and {@code branches}. */
    List<int[]> batches(List<LoglikRequest> requests, int maxLength, List<? extends Branch> branches) {
        return passes.groups(sequences(requests, maxLength), new Passes.Plan(List.copyOf(branches), true, false, List.of()));
    }

    static List<Sequence> sequences(List<LoglikRequest> requests, int maxLength) {
        return requests.stream().map(r -> r.sequence(maxLength)).toList();
    }
}
