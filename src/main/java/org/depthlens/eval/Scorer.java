package org.depthlens.eval;

import org.depthlens.pass.Batch;
import org.depthlens.pass.BlockMajorPass;
import org.depthlens.pass.Branch;
import org.depthlens.util.Progress;
import org.depthlens.model.Model;
import org.depthlens.model.Ops;
import org.depthlens.model.WeightPool;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

import java.nio.FloatBuffer;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;

/**
 * Token-level log-likelihood scoring: ids in, summed log-likelihood (double) out, for the full model and,
 * in the same pass over the weights, for any set of removal {@link Branch}es.
 *
 * <p>Requests of different lengths share a batch by <b>right padding</b>: every request is padded at its
 * end to the batch's longest input. In a causal decoder a position only attends to positions at or before
 * it (and MoE routing, norms and MLPs are per token), so tokens appended after a request's last input
 * position cannot change the states, logits or log-probabilities of its own positions; padded rows are
 * simply never scored. Requests are sorted by length (longest first) and a batch only holds lengths within a
 * factor of two of each other, so little is padded.
 *
 * <p>Each batch is one {@link BlockMajorPass}: block j is loaded once, the main stream and every branch
 * advance through it, and a branch starts from the main stream's state at its first removed block (the
 * shared prefix is never recomputed). Only the scored rows (the positions that predict a continuation
 * token) go through the LM head.
 */
public final class Scorer {
    /** Token id written into padding positions (any id in the vocabulary will do: padding is never read back). */
    static final int PAD = 0;

    /**
     * Summed log-likelihood of each request: {@code full[i]} for the full model (null when not asked for),
     * {@code branches.get(b)[i]} for the model with the blocks of branch b removed.
     */
    public record Scores(double[] full, Map<Branch, double[]> branches, int batches, long inputTokens, long weightLoads) {
    }

    private final Model model;
    private final long memoryBudgetBytes;
    private final Progress progress;
    private final WeightPool pool;

    public Scorer(Model model, long memoryBudgetBytes, Progress progress) {
        this.model = model;
        this.memoryBudgetBytes = memoryBudgetBytes;
        this.progress = progress == null ? Progress.NONE : progress;
        this.pool = model.newPool();
    }

    /** Summed log-likelihood of each request under the full model. */
    public double[] logLikelihood(List<LoglikRequest> requests, int maxLength) {
        return score(requests, maxLength, List.of(), true, null).full();
    }

    /**
     * Scores every request under the full model (if {@code scoreFull}) and each branch.
     *
     * @param angular if not null, observes the main stream's last real position of every request
     */
    public Scores score(List<LoglikRequest> requests, int maxLength, List<Branch> branches, boolean scoreFull,
                        LastTokenAngular angular) {
        List<Branch> br = List.copyOf(new LinkedHashSet<>(branches));
        int n = requests.size();
        int[][] inputs = new int[n][];
        long inputTokens = 0;
        for (int i = 0; i < n; i++) {
            inputs[i] = requests.get(i).input(maxLength);
            inputTokens += inputs[i].length;
        }
        List<int[]> batches = batches(inputs, br.size() + (scoreFull ? 1 : 0));
        double[] full = scoreFull ? new double[n] : null;
        Map<Branch, double[]> out = new LinkedHashMap<>();
        for (Branch b : br) out.put(b, new double[n]);
        long loadsBefore = pool.loads();
        int no = 0;
        for (int[] members : batches) {
            int p = ++no;
            runBatch(requests, inputs, members, br, scoreFull, full, out, angular,
                    (d, t, w) -> progress.update(d, t, "batch " + p + "/" + batches.size() + ", " + w));
        }
        return new Scores(full, out, batches.size(), inputTokens, pool.loads() - loadsBefore);
    }

    /**
     * Groups request indices into batches, longest first, each padded to its longest input t and holding only
     * inputs longer than t/2 (so padding at most doubles any request's work; short multiple-choice requests do
     * not ride in 2048-token rows). A batch holds at most as many tokens as the memory budget allows for one
     * state per live stream plus working room.
     */
    List<int[]> batches(int[][] inputs, int streams) {
        Integer[] order = new Integer[inputs.length];
        for (int i = 0; i < order.length; i++) order[i] = i;
        Arrays.sort(order, Comparator.comparingInt((Integer i) -> -inputs[i].length).thenComparingInt(i -> i));
        long perToken = 4L * model.arch().hidden() * (streams + 8L);
        long maxTokens = Math.max(1, memoryBudgetBytes / perToken);
        List<int[]> out = new ArrayList<>();
        int i = 0;
        while (i < order.length) {
            int t = inputs[order[i]].length;
            int cap = (int) Math.max(1, Math.min(Integer.MAX_VALUE, maxTokens / t));
            int end = i + 1;
            // a batch holds lengths in (t/2, t]: padding at most doubles the work of any request
            while (end < order.length && end - i < cap && 2 * inputs[order[end]].length > t) end++;
            int[] members = new int[end - i];
            for (int k = i; k < end; k++) members[k - i] = order[k];
            out.add(members);
            i = end;
        }
        return out;
    }

    private void runBatch(List<LoglikRequest> requests, int[][] inputs, int[] members, List<Branch> br, boolean scoreFull,
                          double[] full, Map<Branch, double[]> out, LastTokenAngular angular, Progress prog) {
        int b = members.length;
        int t = inputs[members[0]].length;
        int[] ids = new int[b * t];
        Arrays.fill(ids, PAD);
        int[] last = new int[b];
        int scored = 0;
        for (int s = 0; s < b; s++) {
            int[] in = inputs[members[s]];
            System.arraycopy(in, 0, ids, s * t, in.length);
            last[s] = in.length - 1;
            scored += requests.get(members[s]).continuation().length;
        }
        // rows whose next-token prediction is scored: the last |continuation| input positions of each request
        int[] rows = new int[scored];
        int[] targets = new int[scored];
        int k = 0;
        for (int s = 0; s < b; s++) {
            int[] cont = requests.get(members[s]).continuation();
            int len = inputs[members[s]].length;
            for (int j = 0; j < cont.length; j++) {
                rows[k] = s * t + len - cont.length + j;
                targets[k] = cont[j];
                k++;
            }
        }
        Batch batch = new Batch(b, t, ids);
        BlockMajorPass.Result r = new BlockMajorPass(model, pool).run(batch, br,
                angular == null ? null : angular.observer(b, t, last), prog);
        List<INDArray> states = new ArrayList<>();
        if (scoreFull) states.add(gather(r.main(), rows));
        for (Branch x : br) states.add(gather(r.branches().get(x), rows));
        java.util.Set<INDArray> done = java.util.Collections.newSetFromMap(new java.util.IdentityHashMap<>());
        done.add(r.main());
        done.addAll(r.branches().values());
        for (INDArray a : done) close(a);
        double[][] lp = model.head().logProbs(states, targets);
        for (INDArray a : states) close(a);
        int si = 0;
        if (scoreFull) accumulate(lp[si++], requests, members, full);
        for (Branch x : br) accumulate(lp[si++], requests, members, out.get(x));
    }

    /** Sums each request's rows, in order, in double. */
    private static void accumulate(double[] lp, List<LoglikRequest> requests, int[] members, double[] into) {
        int k = 0;
        for (int member : members) {
            int m = requests.get(member).continuation().length;
            double sum = 0;
            for (int j = 0; j < m; j++) sum += lp[k++];
            into[member] = sum;
        }
    }

    /** A new [rows.length, H] array holding the given rows of x (a copy, so x can be freed). */
    static INDArray gather(INDArray x, int[] rows) {
        int h = (int) x.columns();
        INDArray src = x.isView() || x.ordering() != 'c' ? x.dup('c') : x;
        INDArray out = Nd4j.create(DataType.FLOAT, rows.length, h);
        FloatBuffer in = Ops.floats(src);
        FloatBuffer o = Ops.floats(out);
        float[] row = new float[h];
        for (int i = 0; i < rows.length; i++) {
            in.get(rows[i] * h, row);
            o.put(i * h, row);
        }
        if (src != x) src.close();
        return out;
    }

    private static void close(INDArray a) {
        if (a != null && a.closeable()) a.close();
    }
}
