package org.depthlens.probe;

import org.depthlens.model.Head;

/**
 * The logit lens from one streaming pass of the head over the depth states x[0..L] (docs/metrics.md):
 * the head reads every depth with the final norm recomputed on that depth's state, the final depth L as
 * the reference of the KL, and this turns the per-position readings into {@link ProbeSums}.
 */
public final class LogitLensProbe {
    private LogitLensProbe() {}

    /**
     * Adds the lens of depths 0..L to {@code sums}; the head read {@code r} must hold x[d] at index
     * {@code first + d} and use x[L] (index {@code first + L}) as its reference.
     *
     * @param targets the next token of each row, -1 where none is scored (the last position of a window)
     */
    public static void add(Head.Readings r, int first, int layers, int[] targets, ProbeSums sums) {
        if (r.kl() == null) throw new IllegalArgumentException("the logit lens needs the head read against x[L]");
        int[] top = r.argmax()[first + layers];
        for (int d = 0; d <= layers; d++) {
            double[] lp = r.logProb()[first + d], kl = r.kl()[first + d];
            int[] arg = r.argmax()[first + d];
            double nll = 0, klSum = 0;
            long scored = 0, agree = 0;
            for (int row = 0; row < targets.length; row++) {
                if (targets[row] >= 0) {
                    nll -= lp[row];
                    scored++;
                }
                klSum += kl[row];
                if (arg[row] == top[row]) agree++;
            }
            sums.addLens(d, nll, scored, klSum, agree, targets.length);
        }
    }
}
