package org.depthlens.pass;

import org.depthlens.model.Sublayer;

import java.io.Serializable;

/**
 * A copy of the residual stream that a pass carries next to the main stream: it is born from the main
 * stream's state x[{@link #fork}] (the shared prefix is never recomputed) and then goes through every later
 * block as {@link #step} says. Branches are values (equal descriptions are one branch) and serialisable, so
 * a distributed run can name them in its tasks and results.
 */
public sealed interface Branch extends Serializable permits Branch.Skip, Branch.ZeroSublayer, Branch.Drop {

    /** What a branch does at one block. */
    enum Step {
        /** the whole block, as the main stream does */
        RUN,
        /** nothing: the block is replaced by the identity */
        SKIP,
        /** the block with its attention output zeroed (only the feed-forward half adds to the stream) */
        NO_ATTENTION,
        /** the block with its feed-forward output zeroed (only the attention half adds to the stream) */
        NO_MLP
    }

    /** The depth of the main stream this branch starts from: it first differs at block {@code fork()}. */
    int fork();

    /** What the branch does at block {@code block} (at or after {@link #fork}). */
    Step step(int block);

    /** Blocks [from, to) removed: x[from] goes straight to block {@code to}. */
    record Skip(int from, int to) implements Branch {
        public Skip {
            if (from < 0 || to <= from) throw new IllegalArgumentException("empty branch [" + from + ", " + to + ")");
        }

        @Override
        public int fork() {
            return from;
        }

        @Override
        public Step step(int block) {
            return block < to ? Step.SKIP : Step.RUN;
        }

        /** Blocks removed. */
        public int n() {
            return to - from;
        }
    }

    /**
     * Any set of blocks removed, contiguous or not (what {@code prune} exports): each is replaced by the identity,
     * every other block runs.
     */
    record Drop(java.util.List<Integer> blocks) implements Branch {
        public Drop {
            blocks = java.util.List.copyOf(new java.util.TreeSet<>(blocks));
            if (blocks.isEmpty() || blocks.get(0) < 0) throw new IllegalArgumentException("blocks " + blocks);
        }

        @Override
        public int fork() {
            return blocks.get(0);
        }

        @Override
        public Step step(int block) {
            return blocks.contains(block) ? Step.SKIP : Step.RUN;
        }
    }

    /** Block {@code block} with the output of one sublayer replaced by zero, every other block run. */
    record ZeroSublayer(int block, Sublayer sublayer) implements Branch {
        public ZeroSublayer {
            if (block < 0) throw new IllegalArgumentException("block " + block);
            java.util.Objects.requireNonNull(sublayer);
        }

        @Override
        public int fork() {
            return block;
        }

        @Override
        public Step step(int b) {
            return b != block ? Step.RUN : sublayer == Sublayer.ATTENTION ? Step.NO_ATTENTION : Step.NO_MLP;
        }
    }

    /** Blocks [from, to) removed. */
    static Skip skip(int from, int to) {
        return new Skip(from, to);
    }

    /** Block {@code block} with {@code sublayer}'s output zeroed (the sublayer removal sweep). */
    static ZeroSublayer without(int block, Sublayer sublayer) {
        return new ZeroSublayer(block, sublayer);
    }

    /** Block {@code block} removed (the single-block removal sweep). */
    static Skip without(int block) {
        return new Skip(block, block + 1);
    }
}
