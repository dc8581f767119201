package org.depthlens.model;

import org.nd4j.linalg.api.ndarray.INDArray;

/** Routed mixture-of-experts feed-forward. */
final class Moe {
    private Moe() {}

    static void load(BlockWeights w, MlpSpec.Moe m, String blockPrefix, long hidden, WeightPool pool) {
        throw new UnsupportedOperationException("MoE blocks are not implemented yet");
    }

    static INDArray forward(MlpSpec.Moe m, BlockWeights w, INDArray h, ExpertUsage usage) {
        throw new UnsupportedOperationException("MoE blocks are not implemented yet");
    }
}
