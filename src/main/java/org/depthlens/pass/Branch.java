package org.depthlens.pass;

import java.io.Serializable;

/**
 * A copy of the residual stream that a pass carries next to the main stream: it is born from the main
 * stream's state x[{@link #fork}] (the shared prefix is never recomputed) and then goes through every later
 * block as {@link #step} says. Branches are values (equal descriptions are one branch) and serialisable, so
 * a distributed run can name them in its tasks and results.
 */
public sealed interface Branch extends Serializable permits Branch.Skip, Branch.Sublayer {

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

    /** Block {@code block} with one half zeroed ({@link Step#NO_ATTENTION} or {@link Step#NO_MLP}), the rest run. */
    record Sublayer(int block, Step zeroed) implements Branch {
        public Sublayer {
            if (block < 0) throw new IllegalArgumentException("block " + block);
            if (zeroed != Step.NO_ATTENTION && zeroed != Step.NO_MLP) throw new IllegalArgumentException("not a sublayer: " + zeroed);
        }

        @Override
        public int fork() {
            return block;
        }

        @Override
        public Step step(int b) {
            return b == block ? zeroed : Step.RUN;
        }
    }

    /** Blocks [from, to) removed. */
    static Skip skip(int from, int to) {
        return new Skip(from, to);
    }

    /** Block {@code block} removed (the single-block removal sweep). */
    static Skip without(int block) {
        return new Skip(block, block + 1);
    }
}
