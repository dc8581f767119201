package org.depthlens.model;

import org.depthlens.model.family.MlpSpec;

import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;

/** The router rules of architectures.md §3.3-3.9 on hand-made logits, where the families disagree. */
class MoeRoutingTest {

    private static MlpSpec.Moe spec(int experts, int topK, MlpSpec.Scoring scoring, MlpSpec.Selection sel, int nGroup,
                                    int topkGroup, boolean renorm, double scaling, boolean bias) {
        return new MlpSpec.Moe("mlp", experts, topK, 8, "gate_proj", "up_proj", "down_proj", scoring, sel, nGroup, topkGroup,
                renorm, scaling, bias, null);
    }

    private static float[] softmax(float... l) {
        double max = Double.NEGATIVE_INFINITY, sum = 0;
        for (float v : l) max = Math.max(max, v);
        for (float v : l) sum += Math.exp(v - max);
        float[] p = new float[l.length];
        for (int i = 0; i < l.length; i++) p[i] = (float) (Math.exp(l[i] - max) / sum);
        return p;
    }

    @Test
    void mixtralRenormalisesTheTopK() {
        float[] logits = {0.5f, 2f, -1f, 1f};
        Moe.Routing r = Moe.route(spec(4, 2, MlpSpec.Scoring.SOFTMAX, MlpSpec.Selection.TOPK, 1, 1, true, 1, false), logits, null, 1);
        assertArrayEquals(new int[] {1, 3}, r.experts());
        float[] p = softmax(logits);
        float sum = p[1] + p[3];
        assertArrayEquals(new float[] {p[1] / sum, p[3] / sum}, r.weights(), 1e-7f);
    }

    @Test
    void qwenWithoutNormTopkProbKeepsTheProbabilities() {
        float[] logits = {0.5f, 2f, -1f, 1f, 0.1f, 0.2f};
        Moe.Routing r = Moe.route(spec(3, 2, MlpSpec.Scoring.SOFTMAX, MlpSpec.Selection.TOPK, 1, 1, false, 1, false), logits, null, 2);
        assertArrayEquals(new int[] {1, 0, 0, 2}, r.experts());
        float[] p0 = softmax(0.5f, 2f, -1f), p1 = softmax(1f, 0.1f, 0.2f);
        assertArrayEquals(new float[] {p0[1], p0[0], p1[0], p1[2]}, r.weights(), 1e-7f);
    }

    @Test
    void exactTiesGoToTheLowerIndex() {
        Moe.Routing r = Moe.route(spec(4, 2, MlpSpec.Scoring.SOFTMAX, MlpSpec.Selection.TOPK, 1, 1, true, 1, false),
                new float[] {1f, 3f, 3f, 3f}, null, 1);
        assertArrayEquals(new int[] {1, 2}, r.experts());
        int[] out = new int[3];
        Moe.topk(new float[] {1f, Float.NaN, 5f, 5f, 2f}, 0, 5, out);
        assertArrayEquals(new int[] {1, 2, 3}, out, "NaN ranks above everything, as in torch.topk");
    }

    /**
     * DeepSeek-V2 group_limited_greedy: a group is scored by its best expert, so a group with two good
     * experts loses to one with a single better one; no renormalisation, times routed_scaling_factor.
     */
    @Test
    void deepseekV2GroupMax() {
        float[] logits = {3f, 0f, 2.6f, -5f, 2.5f, 2.5f};
        MlpSpec.Moe m = spec(6, 3, MlpSpec.Scoring.SOFTMAX, MlpSpec.Selection.GROUP_MAX, 3, 2, false, 16, false);
        Moe.Routing r = Moe.route(m, logits, null, 1);
        assertArrayEquals(new int[] {0, 2, 1}, r.experts(), "group 2 (max 2.5) is dropped; plain top-3 would give 0, 2, 4");
        float[] p = softmax(logits);
        assertArrayEquals(new float[] {p[0] * 16, p[2] * 16, p[1] * 16}, r.weights(), 1e-6f);
        Moe.Routing greedy = Moe.route(spec(6, 3, MlpSpec.Scoring.SOFTMAX, MlpSpec.Selection.TOPK, 1, 1, false, 16, false),
                logits, null, 1);
        assertArrayEquals(new int[] {0, 2, 4}, greedy.experts());
    }

    /**
     * DeepSeek-V3: sigmoid scores plus the correction bias choose (groups by their top-2 sum), the unbiased
     * sigmoid weighs; experts of dropped groups are -inf, so a kept group whose biased scores are all
     * negative still wins over them (with HF's older 0.0 fill, experts 2 and 3 would be chosen).
     */
    @Test
    void deepseekV3BiasChoosesSigmoidWeighs() {
        float[] logits = {0f, 0.4f, 0f, 0f};
        float[] bias = {-0.6f, -0.65f, -0.9f, -0.9f};
        MlpSpec.Moe m = spec(4, 2, MlpSpec.Scoring.SIGMOID, MlpSpec.Selection.GROUP_TOP2_SUM, 2, 1, true, 2.5, true);
        Moe.Routing r = Moe.route(m, logits, bias, 1);
        assertArrayEquals(new int[] {1, 0}, r.experts());
        float s0 = 0.5f, s1 = (float) (1 / (1 + Math.exp(-0.4)));
        float denom = s1 + s0 + 1e-20f;
        assertArrayEquals(new float[] {s1 / denom * 2.5f, s0 / denom * 2.5f}, r.weights(), 1e-7f);

        // the group score is the sum of the two best, not the max: group 1 = {0.9, 0.9} beats group 0 = {1.0, 0}
        float[] bias2 = {1.0f, 0f, 0.9f, 0.9f};
        Moe.Routing r2 = Moe.route(m, new float[4], bias2, 1);
        assertArrayEquals(new int[] {2, 3}, r2.experts());
        assertArrayEquals(new float[] {1.25f, 1.25f}, r2.weights(), 1e-7f, "weights from the unbiased sigmoid 0.5, renormalised, x2.5");
    }
}
