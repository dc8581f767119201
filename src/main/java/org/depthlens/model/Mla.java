package org.depthlens.model;

import org.nd4j.linalg.api.ndarray.INDArray;

/** Multi-head latent attention (DeepSeek V2/V3). */
final class Mla {
    private Mla() {}

    static void load(BlockWeights w, AttentionSpec.Mla m, String prefix, long hidden, WeightPool pool) {
        throw new UnsupportedOperationException("MLA attention is not implemented yet");
    }

    static INDArray forward(AttentionSpec.Mla m, BlockWeights w, INDArray h, int batch, int seqLen, int window, Rope.Tables rope) {
        throw new UnsupportedOperationException("MLA attention is not implemented yet");
    }
}
