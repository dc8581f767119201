package org.depthlens.stats;

/**
 * The 95 % interval of every value of one metric, in the metric's own shape: {@code rank} 0 (a number, one row of
 * one entry), 1 (a vector, one row) or 2 (a triangle or matrix, one row per row). {@code lo[i][j] <= hi[i][j]}
 * bound value {@code [i][j]}.
 */
public record Band(int rank, double[][] lo, double[][] hi) {
    /** The bounds of the first row (a vector, or a number at [0]). */
    public double[] lo0() {
        return lo[0];
    }

    public double[] hi0() {
        return hi[0];
    }
}
