package org.depthlens.analysis;

/** Contiguous pruning (Gromov et al.): blocks [start, start+n) removed, chosen by argmin angular_last[l][n-1]. */
public record PrunedRemoval(int n, int start, double loss) {
    /** A pruning depth the user asked for must fit the model: refused on its config.json before anything runs. */
    public static void checkDepth(org.depthlens.weights.ModelConfig c, int prune) {
        if (prune > c.numLayers()) {
            throw new org.depthlens.BadInputException(c.file() + ": --prune " + prune + " is more than the model's " + c.numLayers()
                    + " blocks (num_hidden_layers); give --prune " + c.numLayers() + " or less");
        }
    }
}
