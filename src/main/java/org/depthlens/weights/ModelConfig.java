package org.depthlens.weights;

import java.nio.file.Path;
import java.util.List;

/**
 * A model's config.json, resolved: every key the forward pass needs, with the family's code
 * defaults filled in where the file is silent. Fields that only some families use are null
 * (or empty) elsewhere.
 *
 * @param layernormScaling LNS factor per block from {@code "layernorm_scaling"} (true = 1/sqrt(l+1), or
 *                         an explicit list); null when the key is absent or false
 * @param layerTypes       explicit {@code layer_types} ("full_attention"/"sliding_attention"), or null
 * @param firstKDenseReplace DeepSeek: blocks below this index use a dense MLP
 * @param normType         {@code "norm_type"}: the Curse-of-Depth code's NORM_TYPE, or null (its checkpoints do not record it)
 * @param postNum          {@code "post_num"}: Mix-LN's POST_NUM, or null
 * @param architecture     the first of {@code "architectures"}, or null
 */
public record ModelConfig(
        Path file,
        String modelType,
        int vocabSize,
        int hiddenSize,
        int intermediateSize,
        int numLayers,
        int numHeads,
        int numKvHeads,
        int headDim,
        double rmsNormEps,
        RopeConfig rope,
        int maxPositionEmbeddings,
        boolean tieWordEmbeddings,
        boolean attentionBias,
        boolean qkvBias,
        boolean mlpBias,
        Integer slidingWindow,
        boolean useSlidingWindow,
        Integer maxWindowLayers,
        List<String> layerTypes,
        Integer bosTokenId,
        Integer eosTokenId,
        double[] layernormScaling,
        // mixture of experts
        int numExperts,
        int numExpertsPerTok,
        int moeIntermediateSize,
        int sharedExpertIntermediateSize,
        int nSharedExperts,
        boolean normTopkProb,
        int decoderSparseStep,
        List<Integer> mlpOnlyLayers,
        int firstKDenseReplace,
        String topkMethod,
        int nGroup,
        int topkGroup,
        double routedScalingFactor,
        // multi-head latent attention (DeepSeek)
        Integer qLoraRank,
        int kvLoraRank,
        int qkNopeHeadDim,
        int qkRopeHeadDim,
        int vHeadDim,
        boolean ropeInterleave,
        int[] fp8BlockSize,
        // block normalisation (Curse-of-Depth training code)
        String normType,
        Integer postNum,
        String architecture) {
}
