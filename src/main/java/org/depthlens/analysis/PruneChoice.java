package org.depthlens.analysis;

import org.depthlens.BadInputException;
import org.depthlens.pass.Branch;
import org.depthlens.pass.PrunedRemoval;
import org.depthlens.probe.Metrics;

import java.util.Arrays;
import java.util.Comparator;
import java.util.stream.IntStream;

/**
 * Which blocks {@code prune --from-analysis} removes, read off a finished analysis, and the loss the analysis
 * measured for exactly that removal (when it did).
 *
 * @param drop     original 0-based indices, ascending
 * @param expected the analysis' loss without these blocks: loss_without_layer[l] for one block, pruned_removal's
 *                 loss for its span of n = K; null when the analysis did not measure this removal
 * @param source   where {@code expected} comes from, e.g. "loss_without_layer[17]", "pruned_removal n=4 (blocks 21-24)"
 */
public record PruneChoice(int[] drop, Double expected, String source) {

    /** The rules of {@code --rule}. */
    public enum Rule {
        /** the contiguous span of K blocks whose angular_last[l][K-1] is lowest (Gromov et al.), as analyze's pruned_removal chose it */
        SPAN,
        /** the K blocks whose single removal costs least: lowest loss_without_layer[l] - loss */
        DAMAGE,
        /** the K blocks that change the stream least: lowest block_influence[l] (ShortGPT) */
        INFLUENCE
    }

    /** The K blocks {@code rule} picks from {@code r} (ties: the lower index), refused naming {@code file} when they cannot be. */
    public static PruneChoice of(ModelResult r, Rule rule, int k, String file) {
        Metrics m = r.metrics();
        int layers = m.blocks();
        if (k >= layers) {
            throw new BadInputException(file + ": --n " + k + " would remove " + (k == layers ? "all " : "more than the ") + layers
                    + " blocks of the analysed model; give --n " + (layers - 1) + " or less");
        }
        int[] drop = switch (rule) {
            case SPAN -> {
                Branch.Skip s = PrunedRemoval.choose(m.angularLast(), k).get(k - 1);
                yield IntStream.range(s.from(), s.to()).toArray();
            }
            case DAMAGE -> {
                if (m.lossWithoutLayer() == null) throw new BadInputException(file + ": --rule damage needs loss_without_layer, which this analysis did not compute");
                yield lowest(m.lossWithoutLayer(), k);
            }
            case INFLUENCE -> lowest(m.blockInfluence(), k);
        };
        return new PruneChoice(drop, null, null).withExpected(r);
    }

    /** This choice with the loss the analysis measured for it, if it did. */
    public PruneChoice withExpected(ModelResult r) {
        Metrics m = r.metrics();
        if (drop.length == 1 && m.lossWithoutLayer() != null) {
            return new PruneChoice(drop, m.lossWithoutLayer()[drop[0]], "loss_without_layer[" + drop[0] + "]");
        }
        boolean contiguous = drop[drop.length - 1] - drop[0] == drop.length - 1;
        if (contiguous && r.prunedRemoval() != null) {
            for (PrunedRemoval p : r.prunedRemoval()) {
                if (p.n() == drop.length && p.start() == drop[0]) {
                    return new PruneChoice(drop, p.loss(), "pruned_removal n=" + p.n() + " (blocks " + drop[0] + "-" + drop[drop.length - 1] + ")");
                }
            }
        }
        return new PruneChoice(drop, null, null);
    }

    /** Indices of the k smallest values (the lower index first on ties), ascending. */
    static int[] lowest(double[] v, int k) {
        Integer[] idx = IntStream.range(0, v.length).boxed().toArray(Integer[]::new);
        Arrays.sort(idx, Comparator.<Integer>comparingDouble(i -> Double.isNaN(v[i]) ? Double.POSITIVE_INFINITY : v[i]).thenComparingInt(i -> i));
        int[] out = new int[k];
        for (int i = 0; i < k; i++) out[i] = idx[i];
        Arrays.sort(out);
        return out;
    }
}
