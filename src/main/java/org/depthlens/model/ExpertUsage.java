package org.depthlens.model;

/** Counts how often each expert of one MoE block is chosen (one count per token and selected expert). */
public final class ExpertUsage {
    private final long[] counts;

    public ExpertUsage(int experts) {
        this.counts = new long[experts];
    }

    public void add(int expert) {
        counts[expert]++;
    }

    public long[] counts() {
        return counts.clone();
    }
}
