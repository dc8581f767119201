package org.depthlens.model;

import org.nd4j.linalg.api.ndarray.INDArray;

/**
 * Optional per-block outputs for parity checks and MoE statistics: the attention and MLP module
 * outputs before their residual adds, and the expert choices. Leave fields null to skip them.
 */
public final class BlockTrace {
    public INDArray attnOut;
    public INDArray mlpOut;
    public final boolean keepOutputs;
    public final ExpertUsage expertUsage;

    public BlockTrace(boolean keepOutputs, ExpertUsage expertUsage) {
        this.keepOutputs = keepOutputs;
        this.expertUsage = expertUsage;
    }
}
