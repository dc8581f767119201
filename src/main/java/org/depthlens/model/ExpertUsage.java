package org.depthlens.model;

import org.depthlens.model.family.BlockSpec;
import org.depthlens.model.family.MlpSpec;

/** Counts how often each expert of one MoE block is chosen (one count per token and selected expert). */
public final class ExpertUsage {
    private final long[] counts;

    public ExpertUsage(int experts) {
        this.counts = new long[experts];
    }

    /** A counter for block {@code b}, or null when its feed-forward is dense. */
    public static ExpertUsage forBlock(BlockSpec b) {
        return b.mlp() instanceof MlpSpec.Moe m ? new ExpertUsage(m.experts()) : null;
    }

    public int experts() {
        return counts.length;
    }

    public void add(int expert) {
        counts[expert]++;
    }

    public long[] counts() {
        return counts.clone();
    }
}
