package org.depthlens.probe;

import org.depthlens.model.Head;

import org.depthlens.stats.WindowTable;

import java.io.Serializable;
import java.util.List;

/**
 * Mergeable partial sums (of one window, or of windows added up in window order) of the logit lens (docs/metrics.md) per depth 0..L: the next-token NLL of p_l over
 * the scored positions, KL(p_L || p_l) and top-1 agreement over all positions. They come from one streaming
 * read of the head over every depth's state at once, with x[L] as the reference ({@link Head#read}).
 */
public final class LensSums implements Serializable {
    private static final long serialVersionUID = 1L;

    private final double[] nll;
    private final long[] scored;
    private final double[] kl;
    private final long[] agree;
    private final long[] positions;

    public LensSums(int layers) {
        nll = new double[layers + 1];
        scored = new long[layers + 1];
        kl = new double[layers + 1];
        agree = new long[layers + 1];
        positions = new long[layers + 1];
    }

    /**
     * Adds one batch: the head read {@code r} holds x[d] at index {@code first + d} and used x[L] (index
     * {@code first + L}) as its reference.
     *
     * @param targets the next token of each row, -1 where none is scored (the last position of a window)
     * @param from    first row added (one window's rows [from, to))
     */
    public void add(Head.Readings r, int first, int[] targets, int from, int to) {
        if (r.kl() == null) throw new IllegalArgumentException("the logit lens needs the head read against x[L]");
        int layers = nll.length - 1;
        int[] top = r.argmax()[first + layers];
        for (int d = 0; d <= layers; d++) {
            double[] lp = r.logProb()[first + d], k = r.kl()[first + d];
            int[] arg = r.argmax()[first + d];
            for (int row = from; row < to; row++) {
                if (targets[row] >= 0) {
                    nll[d] -= lp[row];
                    scored[d]++;
                }
                kl[d] += k[row];
                if (arg[row] == top[row]) agree[d]++;
            }
            positions[d] += to - from;
        }
    }

    /** Adds {@code o} into this ({@code o} is not modified). */
    public LensSums merge(LensSums o) {
        for (int d = 0; d < nll.length; d++) {
            nll[d] += o.nll[d];
            scored[d] += o.scored[d];
            kl[d] += o.kl[d];
            agree[d] += o.agree[d];
            positions[d] += o.positions[d];
        }
        return this;
    }

    public Metrics.LogitLens finish() {
        int n = nll.length;
        double[] loss = new double[n], k = new double[n], top1 = new double[n];
        for (int d = 0; d < n; d++) {
            loss[d] = nll[d] / scored[d];
            k[d] = kl[d] / positions[d];
            top1[d] = (double) agree[d] / positions[d];
        }
        return new Metrics.LogitLens(loss, k, top1);
    }

    /**
     * Adds the per-window sums of {@code windows} (one partial per window, in window order) and the metrics
     * logit_lens.loss, .kl and .top1_agreement they define to a bootstrap table (docs/metrics.md, "Uncertainty").
     */
    public static void declare(WindowTable table, List<LensSums> windows) {
        int n = windows.get(0).nll.length;
        double[][] rows = new double[windows.size()][5 * n];
        for (int k = 0; k < rows.length; k++) {
            LensSums w = windows.get(k);
            for (int d = 0; d < n; d++) {
                rows[k][d] = w.nll[d];
                rows[k][n + d] = w.scored[d];
                rows[k][2 * n + d] = w.kl[d];
                rows[k][3 * n + d] = w.agree[d];
                rows[k][4 * n + d] = w.positions[d];
            }
        }
        int o = table.columns(rows);
        // loss = NLL / scored positions; kl and top-1 agreement over all positions
        int[][] numDen = {{0, n}, {2 * n, 4 * n}, {3 * n, 4 * n}};
        String[] keys = {"logit_lens.loss", "logit_lens.kl", "logit_lens.top1_agreement"};
        for (int i = 0; i < keys.length; i++) {
            int num = o + numDen[i][0], den = o + numDen[i][1];
            table.metric(keys[i], 1, new int[] {n}, s -> {
                double[] v = new double[n];
                for (int d = 0; d < n; d++) v[d] = s[num + d] / s[den + d];
                return v;
            });
        }
    }
}
