package org.depthlens.analysis;

/** Contiguous pruning (Gromov et al.): blocks [start, start+n) removed, chosen by argmin angular_last[l][n-1]. */
public record PrunedRemoval(int n, int start, double loss) {
}
