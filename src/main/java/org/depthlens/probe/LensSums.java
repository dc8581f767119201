package org.depthlens.probe;

import org.depthlens.model.Head;
import org.depthlens.stats.WindowSums;
import org.depthlens.stats.WindowTable;

import java.io.Serializable;

/**
 * Mergeable partial sums of the logit lens (docs/metrics.md) per depth 0..L, kept per window ({@link WindowSums}):
 * the next-token NLL of p_l over the scored positions, KL(p_L || p_l) and top-1 agreement over all positions. They
 * come from one streaming read of the head over every depth's state at once, with x[L] as the reference
 * ({@link Head#read}). Row layout: NLL sums, scored counts, KL sums, agreements, positions (each L+1).
 */
public final class LensSums implements Serializable {
    private static final long serialVersionUID = 2L;

    private final int depths;
    private WindowSums windows;

    public LensSums(int layers) {
        depths = layers + 1;
        windows = new WindowSums(5 * depths);
    }

    /**
     * Adds one batch: the head read {@code r} holds x[d] at index {@code first + d} and used x[L] (index
     * {@code first + L}) as its reference.
     *
     * @param targets the next token of each row, -1 where none is scored (the last position of a window)
     * @param members the run's index of each window of the batch, whose rows are {@code seqLen} consecutive rows
     */
    public void add(Head.Readings r, int first, int[] targets, int[] members, int seqLen) {
        if (r.kl() == null) throw new IllegalArgumentException("the logit lens needs the head read against x[L]");
        if (targets.length != members.length * seqLen) throw new IllegalArgumentException("rows do not match the windows");
        int layers = depths - 1;
        int[] top = r.argmax()[first + layers];
        for (int w = 0; w < members.length; w++) {
            double[] row = windows.row(members[w]);
            for (int d = 0; d <= layers; d++) {
                double[] lp = r.logProb()[first + d], k = r.kl()[first + d];
                int[] arg = r.argmax()[first + d];
                for (int i = w * seqLen; i < (w + 1) * seqLen; i++) {
                    if (targets[i] >= 0) {
                        row[d] -= lp[i];
                        row[depths + d]++;
                    }
                    row[2 * depths + d] += k[i];
                    if (arg[i] == top[i]) row[3 * depths + d]++;
                }
                row[4 * depths + d] += seqLen;
            }
        }
    }

    /** These sums with window k renamed {@code ids[k]}. */
    public LensSums relabel(int[] ids) {
        LensSums out = new LensSums(depths - 1);
        out.windows = windows.relabel(ids);
        return out;
    }

    /** Places {@code o}'s windows next to these. */
    public LensSums merge(LensSums o) {
        windows.merge(o.windows);
        return this;
    }

    public Metrics.LogitLens finish() {
        double[] t = windows.total();
        double[][] v = values(t, 0);
        return new Metrics.LogitLens(v[0], v[1], v[2]);
    }

    /** loss, kl, top1_agreement from totals whose row starts at {@code o}. */
    private double[][] values(double[] t, int o) {
        int n = depths;
        double[] loss = new double[n], k = new double[n], top1 = new double[n];
        for (int d = 0; d < n; d++) {
            loss[d] = t[o + d] / t[o + n + d];
            k[d] = t[o + 2 * n + d] / t[o + 4 * n + d];
            top1[d] = t[o + 3 * n + d] / t[o + 4 * n + d];
        }
        return new double[][] {loss, k, top1};
    }

    /** Adds the columns and metrics logit_lens.loss, .kl and .top1_agreement to a bootstrap table. */
    public void declare(WindowTable table) {
        int o = table.columns(windows.matrix());
        String[] keys = {"logit_lens.loss", "logit_lens.kl", "logit_lens.top1_agreement"};
        for (int i = 0; i < keys.length; i++) {
            int which = i;
            table.metric(keys[i], 1, new int[] {depths}, s -> values(s, o)[which]);
        }
    }
}
