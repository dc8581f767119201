package org.depthlens.pass;

import org.depthlens.BadInputException;

import java.util.ArrayList;
import java.util.List;

/** Contiguous pruning (Gromov et al.): blocks [start, start+n) removed, chosen by argmin angular_last[l][n-1]. */
public record PrunedRemoval(int n, int start, double loss) {
    /**
     * The one rule for the blocks to prune, for {@code analyze} and {@code eval} alike: for n = 1..min(k, L) the
     * blocks [l, l+n) whose start l minimises angular_last[l][n-1] (the lowest l on ties). Element n-1 is the
     * choice for n; choices may repeat.
     */
    public static List<Branch.Skip> choose(double[][] angularLast, int k) {
        int blocks = angularLast.length;
        List<Branch.Skip> out = new ArrayList<>();
        for (int n = 1; n <= Math.min(k, blocks); n++) {
            int best = 0;
            for (int l = 1; l + n <= blocks; l++) {
                if (angularLast[l][n - 1] < angularLast[best][n - 1]) best = l;
            }
            out.add(Branch.skip(best, best + n));
        }
        return out;
    }

    /** A pruning depth the user asked for must fit the model: refused on its config.json before anything runs. */
    public static void checkDepth(org.depthlens.model.family.Architecture a, int prune) {
        if (prune > a.layers()) {
            throw new org.depthlens.BadInputException(a.configFile() + ": --prune " + prune + " is more than the model's " + a.layers()
                    + " blocks (num_hidden_layers); give --prune " + a.layers() + " or less");
        }
    }
}
