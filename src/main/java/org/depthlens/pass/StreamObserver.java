package org.depthlens.pass;

import org.nd4j.linalg.api.ndarray.INDArray;

/**
 * Watches the main stream of one batch as a {@link BlockMajorPass} runs it. States are [B*T, H] float32,
 * sequence-major, owned by the pass: valid only during the call (copy what you keep).
 */
public interface StreamObserver {
    /** x[depth] of the main stream: the embeddings at depth 0, then each block's output, in order 0..L. */
    void state(int depth, INDArray x);

    /**
     * Called while block {@code block}'s weights are loaded, after the main stream went through it
     * ({@code in} = x[block], {@code out} = x[block+1]), before {@link #state} sees {@code out}: the moment to
     * evaluate the block again on other inputs (e.g. perturbed copies of {@code in}) without loading it twice.
     */
    default void block(int block, INDArray in, INDArray out, BlockEvaluator evaluate) {
    }

    /** Block {@code block} of the pass, with its loaded weights. */
    @FunctionalInterface
    interface BlockEvaluator {
        /**
         * The block's outputs for inputs {@code xs} (each [B*T, H], the batch's shape), evaluated together (a
         * mixture-of-experts block loads each chosen expert once for all of them, each input routed by the
         * router); the caller owns (and closes) the results.
         */
        java.util.List<INDArray> forward(java.util.List<INDArray> xs);

        /** The block's output for one input. */
        default INDArray forward(INDArray x) {
            return forward(java.util.List.of(x)).get(0);
        }
    }
}
