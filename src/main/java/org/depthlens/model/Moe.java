package org.depthlens.model;

import org.depthlens.model.family.MlpSpec;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

import java.nio.FloatBuffer;
import java.util.ArrayList;
import java.util.List;

/**
 * Routed mixture-of-experts feed-forward (architectures.md §3.3, §3.6-3.9, §4), one code path for
 * every family: the differences (scores, group-limited selection, correction bias, renormalisation,
 * scaling, shared experts and their gate) all come from {@link MlpSpec.Moe}.
 *
 * <p>Only the router and the shared expert are loaded with the block. Routed experts are loaded on
 * demand, one at a time, into the block pool's reused {@code expert.*} buffers, and only if at least
 * one token chose them: DeepSeek-V3's 256 experts per block are never resident together.
 */
final class Moe {
    private Moe() {}

    /**
     * The MoE output {@code sum_e w_e expert_e(x) + shared(x)} for each normed input [N, H] of one block
     * (the streams of a block-major pass): every input is routed first, then each expert chosen by any of
     * them is loaded once and applied to the rows of every input that chose it, so each output is what that
     * input alone would give. The routed sum is accumulated in ascending expert order from zero, as HF's
     * {@code index_add_} loop does. Returns new [N, H] arrays from {@link Scratch#state}.
     *
     * <p>Each expert runs on the rows of one sequence at a time ({@link Gemm}), so a token's output never depends
     * on which other sequences (or streams) chose the same expert.
     *
     * @param seq    the sequences' rows in each input (rows outside them are padding: not routed, not counted, 0)
     * @param usages one per input, each may be null
     */
    static List<INDArray> forwardAll(MlpSpec.Moe m, BlockWeights w, List<INDArray> hs, Gemm.Segments seq, List<ExpertUsage> usages) {
        int k = m.topK();
        int states = hs.size(), segs = seq.count(), units = states * segs;
        Scratch scratch = Scratch.get();
        // per unit u = s * segs + g (input s, sequence g): its rows choosing each expert (CSR, token order) and their weights
        int[][] start = new int[units][], rowOf = new int[units][];
        float[][] weightOf = new float[units][];
        INDArray[] hc = new INDArray[states];
        List<INDArray> outs = new ArrayList<>();
        float[] bias = m.correctionBias() ? w.get("moe.bias").dup().data().asFloat() : null;
        for (int s = 0; s < states; s++) {
            INDArray h = hs.get(s);
            ExpertUsage usage = usages.get(s);
            if (usage != null && usage.experts() != m.experts()) {
                throw new IllegalArgumentException("expert usage counts " + usage.experts() + " experts, block " + w.spec().index()
                        + " has " + m.experts());
            }
            int n = (int) h.rows();
            hc[s] = h.isView() || h.ordering() != 'c' ? h.dup('c') : h;
            float[] logits = Ops.linear(hc[s], w.get("moe.router"), null, seq).data().asFloat();
            Routing r = route(m, logits, bias, n);
            for (int g = 0; g < segs; g++) {
                int t0 = seq.starts()[g], t1 = t0 + seq.lengths()[g];
                int[] st = new int[m.experts() + 1];
                for (int i = t0 * k; i < t1 * k; i++) st[r.experts()[i] + 1]++;
                for (int e = 0; e < m.experts(); e++) st[e + 1] += st[e];
                int[] rows = new int[(t1 - t0) * k];
                float[] wts = new float[rows.length];
                int[] fill = st.clone();
                for (int t = t0; t < t1; t++) {
                    for (int j = 0; j < k; j++) {
                        int e = r.experts()[t * k + j];
                        if (usage != null) usage.add(e);
                        rows[fill[e]] = t;
                        wts[fill[e]++] = r.weights()[t * k + j];
                    }
                }
                start[s * segs + g] = st;
                rowOf[s * segs + g] = rows;
                weightOf[s * segs + g] = wts;
            }
            INDArray out = scratch.state(n, h.columns());
            out.assign(0);
            outs.add(out);
        }

        int hidden = (int) hs.get(0).columns();
        for (int e = 0; e < m.experts(); e++) {
            boolean chosen = false;
            for (int u = 0; u < units; u++) chosen |= start[u][e + 1] > start[u][e];
            if (!chosen) continue; // never loaded
            w.loadExpert(e);
            for (int u = 0; u < units; u++) {
                int from = start[u][e], count = start[u][e + 1] - from;
                if (count == 0) continue;
                int s = u / segs;
                // gather the sequence's rows, SwiGLU, scale by the routing weight, scatter-add
                INDArray xe = scratch.get("moe.rows", count, hidden);
                FloatBuffer xf = Ops.floats(xe), hf = Ops.floats(hc[s]), of = Ops.floats(outs.get(s));
                float[] row = new float[hidden], acc = new float[hidden];
                for (int i = 0; i < count; i++) {
                    hf.get(rowOf[u][from + i] * hidden, row);
                    xf.put(i * hidden, row);
                }
                FloatBuffer yf = Ops.floats(BlockForward.dense(w, "expert", xe, Gemm.Segments.single(count)));
                for (int i = 0; i < count; i++) {
                    int t = rowOf[u][from + i];
                    float we = weightOf[u][from + i];
                    yf.get(i * hidden, row);
                    of.get(t * hidden, acc);
                    // (y * w) rounded, then added: HF's mul then index_add_
                    for (int c = 0; c < hidden; c++) acc[c] += row[c] * we;
                    of.put(t * hidden, acc);
                }
            }
        }

        MlpSpec.SharedExpert sh = m.shared();
        if (sh != null) {
            for (int s = 0; s < states; s++) {
                INDArray shared = BlockForward.dense(w, "shared", hc[s], seq);
                if (sh.gated()) {
                    // sigmoid(x w_gate) per row in Java: elementwise native kernels may take other paths for a vector's tail
                    float[] gate = Ops.linear(hc[s], w.get("shared.gate_weight"), null, seq).data().asFloat(); // [N, 1]
                    FloatBuffer sf = Ops.floats(shared);
                    float[] row = new float[hidden];
                    for (int t = 0; t < gate.length; t++) {
                        float gt = (float) (1.0 / (1.0 + Math.exp(-(double) gate[t])));
                        sf.get(t * hidden, row);
                        for (int c = 0; c < hidden; c++) row[c] *= gt;
                        sf.put(t * hidden, row);
                    }
                }
                outs.get(s).addi(shared);
            }
        }
        return outs;
    }

    /**
     * Chosen experts and their weights, {@code topK} per token, token-major; {@code experts[t*k + j]} is the
     * j-th choice of token t in descending (biased) score order.
     */
    record Routing(int[] experts, float[] weights) {
    }

    /**
     * Routes {@code tokens} rows of router logits [tokens, E] (float32, as HF computes them):
     * <ol>
     *   <li>scores: softmax over E, or sigmoid (DeepSeek-V3);</li>
     *   <li>choice scores: the scores plus {@code e_score_correction_bias} when the block has one;</li>
     *   <li>group-limited selection: each of {@code nGroup} contiguous groups is scored by its max choice score
     *       (V2) or the sum of its two largest (V3), the top {@code topkGroup} groups are kept, and the others'
     *       experts get 0.0 (V2, as HF) or -inf (V3, current HF and the official code);</li>
     *   <li>top-k of the choice scores gives the experts; their weights are the unbiased scores;</li>
     *   <li>renormalised as {@code w / (sum w + 1e-20)} when asked, then times {@code routed_scaling_factor}.</li>
     * </ol>
     * The +1e-20 is V3's; for the softmax families the selected sum is at least k/E, so adding 1e-20 in
     * float32 leaves it unchanged and one rule serves Mixtral and Qwen too.
     *
     * <p>Ties: like {@code torch.topk}, larger values come first and NaN counts as the largest; among
     * exactly equal values the lower expert (or group) index wins. torch does not specify its order on
     * exact ties; lower index first is what its CPU kernel returns for these small sizes.
     */
    static Routing route(MlpSpec.Moe m, float[] logits, float[] bias, int tokens) {
        int ne = m.experts(), k = m.topK();
        int[] experts = new int[tokens * k];
        float[] weights = new float[tokens * k];
        float[] score = new float[ne];
        float[] choice = new float[ne];
        int groupSize = ne / m.nGroup();
        float[] groupScore = new float[m.nGroup()];
        int[] keptGroups = new int[m.topkGroup()];
        boolean[] kept = new boolean[m.nGroup()];
        int[] idx = new int[k];
        int[] two = new int[2];
        for (int t = 0; t < tokens; t++) {
            int base = t * ne;
            if (m.scoring() == MlpSpec.Scoring.SOFTMAX) {
                float max = Float.NEGATIVE_INFINITY;
                for (int e = 0; e < ne; e++) max = Math.max(max, logits[base + e]);
                double sum = 0;
                for (int e = 0; e < ne; e++) sum += Math.exp((double) logits[base + e] - max);
                for (int e = 0; e < ne; e++) score[e] = (float) (Math.exp((double) logits[base + e] - max) / sum);
            } else {
                for (int e = 0; e < ne; e++) score[e] = (float) (1.0 / (1.0 + Math.exp(-(double) logits[base + e])));
            }
            for (int e = 0; e < ne; e++) choice[e] = bias == null ? score[e] : score[e] + bias[e];
            if (m.selection() != MlpSpec.Selection.TOPK) {
                for (int g = 0; g < m.nGroup(); g++) {
                    int g0 = g * groupSize;
                    if (m.selection() == MlpSpec.Selection.GROUP_MAX) {
                        float mx = choice[g0];
                        for (int e = g0 + 1; e < g0 + groupSize; e++) mx = Math.max(mx, choice[e]); // NaN propagates, as torch.max
                        groupScore[g] = mx;
                    } else {
                        topk(choice, g0, groupSize, two);
                        groupScore[g] = choice[g0 + two[0]] + choice[g0 + two[1]];
                    }
                }
                topk(groupScore, 0, m.nGroup(), keptGroups);
                java.util.Arrays.fill(kept, false);
                for (int g : keptGroups) kept[g] = true;
                float masked = m.selection() == MlpSpec.Selection.GROUP_MAX ? 0f : Float.NEGATIVE_INFINITY;
                for (int g = 0; g < m.nGroup(); g++) {
                    if (!kept[g]) java.util.Arrays.fill(choice, g * groupSize, (g + 1) * groupSize, masked);
                }
            }
            topk(choice, 0, ne, idx);
            float sum = 0;
            for (int j = 0; j < k; j++) {
                experts[t * k + j] = idx[j];
                weights[t * k + j] = score[idx[j]];
                sum += score[idx[j]];
            }
            if (m.renormalize()) {
                float denom = sum + 1e-20f;
                for (int j = 0; j < k; j++) weights[t * k + j] /= denom;
            }
            if (m.scaling() != 1.0) {
                float f = (float) m.scaling();
                for (int j = 0; j < k; j++) weights[t * k + j] *= f;
            }
        }
        return new Routing(experts, weights);
    }

    /** Indices (relative to {@code from}) of the {@code out.length} largest of {@code v[from, from+len)}, best first. */
    static void topk(float[] v, int from, int len, int[] out) {
        int k = out.length;
        int filled = 0;
        for (int i = 0; i < len; i++) {
            float x = v[from + i];
            if (filled == k && !greater(x, i, v[from + out[k - 1]], out[k - 1])) continue;
            int pos = filled < k ? filled++ : k - 1;
            while (pos > 0 && greater(x, i, v[from + out[pos - 1]], out[pos - 1])) {
                out[pos] = out[pos - 1];
                pos--;
            }
            out[pos] = i;
        }
    }

    /** torch.topk order: NaN above everything, then larger value, then (exact tie) lower index. */
    private static boolean greater(float a, int ia, float b, int ib) {
        boolean an = Float.isNaN(a), bn = Float.isNaN(b);
        if (an || bn) return an && (!bn || ia < ib);
        return a > b || (a == b && ia < ib);
    }
}
