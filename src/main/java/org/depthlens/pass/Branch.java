package org.depthlens.pass;

/**
 * A copy of the stream that skips blocks {@code [from, to)}: it starts as the main stream's
 * x[from] and resumes at block {@code to}. Single-block removal of l is {@code Branch(l, l+1)}.
 */
public record Branch(int from, int to) {
    public Branch {
        if (from < 0 || to <= from) throw new IllegalArgumentException("empty branch [" + from + ", " + to + ")");
    }

    public static Branch without(int block) {
        return new Branch(block, block + 1);
    }
}
