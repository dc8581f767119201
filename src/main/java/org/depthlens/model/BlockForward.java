package org.depthlens.model;

import org.depthlens.model.family.Architecture;
import org.depthlens.model.family.AttentionSpec;
import org.depthlens.model.family.BlockForm;
import org.depthlens.model.family.BlockSpec;
import org.depthlens.model.family.MlpSpec;
import org.depthlens.model.family.NormSpec;
import org.depthlens.util.Par;
import org.nd4j.linalg.api.ndarray.INDArray;

import java.nio.FloatBuffer;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Set;

/**
 * One decoder block, the same for every family, in the normalisation form of its {@link BlockForm}:
 * <pre>
 *   pre:      x += r_a·attn(s·norm_in(x));   x += r_m·mlp(s·norm_post(x))        (s: LNS factor, r: learned scalars, else 1)
 *   post:     x = norm_post(α·x + attn(x));  x = norm_post_ff(α·x + mlp(x))      (α: 1, or 2√2 for deeppost)
 *   sandwich: x += norm_post(attn(norm_in(x))); x += norm_post_ff(mlp(norm_pre_ff(x)))
 * </pre>
 * Each half is "module input, module, {@link Step residual step}"; a step is one fused row-parallel pass
 * (norm of the module output, residual add, norm of the sum, and the next module's input norm).
 *
 * <p>The projections are gemms into {@link Scratch} memory; the elementwise work between them (norms,
 * residual adds, SwiGLU) is fused into row-parallel Java passes. A large batch is processed in chunks of
 * whole sequences so temporaries stay bounded ({@link #chunkBytes}).
 */
public final class BlockForward {
    /** Float32 bytes the widest per-row temporary of one chunk may take (tests lower it). */
    static long chunkBytes = 256L << 20;

    private BlockForward() {}

    /** Returns the new stream state [B*T, H]; {@code x} is not modified. */
    public static INDArray forward(Architecture a, BlockWeights w, INDArray x, int batch, int seqLen, RopeTables rope,
                                   BlockTrace trace) {
        return forwardAll(a, w, List.of(x), null, batch, seqLen, null, rope, Collections.singletonList(trace)).get(0);
    }

    /**
     * The residual step after a module: {@code out = outNorm(alpha·x + beta·yNorm(y))} (absent norms are the
     * identity), and when {@code next} is given also the next module's input {@code next = nextScale·nextNorm(out)}
     * (no nextNorm: a copy of out), or with {@code nextOfInput} {@code nextNorm(x)} of the step's input x (the
     * parallel residual, whose MLP reads the block's input).
     */
    record Step(Norm yNorm, double alpha, double beta, Norm outNorm, Norm nextNorm, double nextScale, boolean nextOfInput) {
        Step(Norm yNorm, double alpha, double beta, Norm outNorm, Norm nextNorm, double nextScale) {
            this(yNorm, alpha, beta, outNorm, nextNorm, nextScale, false);
        }

        /** After attention: the residual sum and the MLP's input. */
        static Step afterAttention(BlockForm f, BlockWeights w, NormSpec n) {
            if (f instanceof BlockForm.PreNorm p) {
                return new Step(null, 1, p.residualScalars() ? scalar(w, "res.attn") : 1, null, Norm.of(n, w, "norm.post"), p.scale());
            }
            if (f instanceof BlockForm.PostNorm p) return new Step(null, p.alpha(), 1, Norm.of(n, w, "norm.post"), null, 1);
            if (f instanceof BlockForm.OutputNorm) return new Step(Norm.of(n, w, "norm.post"), 1, 1, null, null, 1);
            if (f instanceof BlockForm.Parallel) return new Step(null, 1, 1, null, Norm.of(n, w, "norm.post"), 1, true);
            return new Step(Norm.of(n, w, "norm.post"), 1, 1, null, Norm.of(n, w, "norm.pre_ff"), 1); // sandwich
        }

        /** After the MLP: the block's output. */
        static Step afterMlp(BlockForm f, BlockWeights w, NormSpec n) {
            if (f instanceof BlockForm.PreNorm p) return new Step(null, 1, p.residualScalars() ? scalar(w, "res.mlp") : 1, null, null, 1);
            if (f instanceof BlockForm.PostNorm p) return new Step(null, p.alpha(), 1, Norm.of(n, w, "norm.post_ff"), null, 1);
            if (f instanceof BlockForm.Parallel) return new Step(null, 1, 1, null, null, 1);
            return new Step(Norm.of(n, w, "norm.post_ff"), 1, 1, null, null, 1); // sandwich, output-norm
        }

        private static double scalar(BlockWeights w, String role) {
            return w.get(role).getFloat(0);
        }

        boolean plainAdd() {
            return yNorm == null && alpha == 1 && beta == 1 && outNorm == null;
        }
    }

    /**
     * Advances several stream states through the same block (the main stream and removal branches of a
     * block-major pass). Each state is computed exactly as {@link #forward} would compute it alone; a
     * mixture-of-experts block loads each chosen expert once for all states. Returns new states (from
     * {@link Scratch#state}, never inside a workspace); the inputs are not modified.
     *
     * @param traces one per state, each may be null
     */
    public static List<INDArray> forwardAll(Architecture a, BlockWeights w, List<INDArray> xs, int batch, int seqLen,
                                            RopeTables rope, List<BlockTrace> traces) {
        return forwardAll(a, w, xs, null, batch, seqLen, null, rope, traces);
    }

    /** {@link #forwardAll} with zeroed sublayers, every sequence {@code seqLen} long. */
    public static List<INDArray> forwardAll(Architecture a, BlockWeights w, List<INDArray> xs, List<Set<Sublayer>> zeroed,
                                            int batch, int seqLen, RopeTables rope, List<BlockTrace> traces) {
        return forwardAll(a, w, xs, zeroed, batch, seqLen, null, rope, traces);
    }

    /**
     * {@link #forwardAll} where state k's {@code zeroed.get(k)} sublayers (null: none) have their output replaced
     * by zero and everything else runs as usual (the sublayer removal branches). A zeroed sublayer is not
     * computed; a zeroed MoE layer routes nothing.
     *
     * <p>Every row's result depends only on its own sequence ({@link Gemm}): not on the other sequences of the
     * batch, the batch size, the chunking or the thread count.
     *
     * @param zeroed  one per state, or null for none at all
     * @param lengths real rows of each sequence (the rest is padding, computed as zeros and never read), or null
     *                when every sequence fills {@code seqLen}
     */
    public static List<INDArray> forwardAll(Architecture a, BlockWeights w, List<INDArray> xs, List<Set<Sublayer>> zeroed,
                                            int batch, int seqLen, int[] lengths, RopeTables rope, List<BlockTrace> traces) {
        BlockSpec b = w.spec();
        BlockForm form = b.form();
        int h = a.hidden();
        int rows = batch * seqLen;
        Scratch s = Scratch.get();
        boolean moe = b.mlp() instanceof MlpSpec.Moe;
        int perChunk = seqsPerChunk(a, b, batch, seqLen);
        NormSpec normSpec = a.normSpec();
        Step attnStep = Step.afterAttention(form, w, normSpec), mlpStep = Step.afterMlp(form, w, normSpec);
        Norm inNorm = form.normsInput() ? Norm.of(normSpec, w, "norm.in") : null;
        Rope.Tables blockRope = rope.forBlock(b);
        List<INDArray> outs = new ArrayList<>(), normed = new ArrayList<>();
        Gemm.Segments all = Gemm.Segments.padded(batch, seqLen, lengths);
        for (int k = 0; k < xs.size(); k++) {
            INDArray x = xs.get(k);
            if (x.isView() || x.ordering() != 'c') x = x.dup('c');
            BlockTrace trace = traces.get(k);
            boolean keep = trace != null && trace.keepOutputs;
            Set<Sublayer> zero = zeroed == null || zeroed.get(k) == null ? Set.of() : zeroed.get(k);
            INDArray x1 = s.state(rows, h);
            INDArray hm = moe ? s.state(rows, h) : null;
            if (keep) {
                trace.attnOut = s.state(rows, h);
                if (!moe) trace.mlpOut = s.state(rows, h);
            }
            for (int s0 = 0; s0 < batch; s0 += perChunk) {
                int n = Math.min(perChunk, batch - s0);
                long r0 = (long) s0 * seqLen, nr = (long) n * seqLen;
                Gemm.Segments seq = Gemm.Segments.padded(n, seqLen, lengths == null ? null : java.util.Arrays.copyOfRange(lengths, s0, s0 + n));
                INDArray xc = Scratch.rows(x, r0, nr), x1c = Scratch.rows(x1, r0, nr);
                INDArray hmc = moe ? Scratch.rows(hm, r0, nr) : s.get("block.hm", nr, h);
                // attention on s·norm_in(x) (post and output-norm blocks: on x itself)
                INDArray hn = xc;
                if (inNorm != null) {
                    hn = s.get("block.hn", nr, h);
                    inNorm.apply(Ops.floats(xc), Ops.floats(hn), b.normScale(), (int) nr, h);
                }
                INDArray attn;
                if (zero.contains(Sublayer.ATTENTION)) {
                    attn = s.get("block.attn", nr, h).assign(0);
                } else if (a.attention() instanceof AttentionSpec.Gqa g) {
                    attn = s.get("block.attn", nr, h);
                    Attention.gqa(g, w, hn, attn, seq, seqLen, b.slidingWindow(), blockRope, a.eps());
                } else {
                    attn = Mla.forward((AttentionSpec.Mla) a.attention(), w, hn, seq, b.slidingWindow(), blockRope);
                }
                if (keep) Scratch.rows(trace.attnOut, r0, nr).assign(attn);
                step(xc, attn, x1c, hmc, attnStep, a.eps(), h); // x1 = residual step; hm = the MLP's input
                if (!moe) {
                    INDArray mlp = zero.contains(Sublayer.MLP) ? s.get("mlp.out", nr, h).assign(0)
                            : dense(w, "mlp", hmc, seq, ((MlpSpec.Dense) b.mlp()).activation());
                    if (keep) Scratch.rows(trace.mlpOut, r0, nr).assign(mlp);
                    step(x1c, mlp, x1c, null, mlpStep, a.eps(), h);
                }
            }
            outs.add(x1);
            if (moe) normed.add(hm);
        }
        if (moe) {
            // the states whose MoE layer runs; a zeroed one adds nothing
            List<Integer> run = new ArrayList<>();
            List<INDArray> in = new ArrayList<>();
            List<ExpertUsage> usage = new ArrayList<>();
            for (int k = 0; k < outs.size(); k++) {
                if (zeroed != null && zeroed.get(k) != null && zeroed.get(k).contains(Sublayer.MLP)) continue;
                run.add(k);
                in.add(normed.get(k));
                usage.add(traces.get(k) == null ? null : traces.get(k).expertUsage);
            }
            List<INDArray> mlps = in.isEmpty() ? List.of() : Moe.forwardAll((MlpSpec.Moe) b.mlp(), w, in, all, usage);
            for (int i = 0; i < run.size(); i++) {
                int k = run.get(i);
                BlockTrace trace = traces.get(k);
                if (trace != null && trace.keepOutputs) trace.mlpOut = mlps.get(i);
                step(outs.get(k), mlps.get(i), outs.get(k), null, mlpStep, a.eps(), h);
                if (trace == null || !trace.keepOutputs) s.recycle(mlps.get(i));
            }
            if (!mlpStep.plainAdd() && run.size() < outs.size()) {
                // a zeroed MoE layer adds nothing, but a post-norm block still normalises the sum
                INDArray none = s.get("mlp.zero", rows, h).assign(0);
                for (int k = 0; k < outs.size(); k++) if (!run.contains(k)) step(outs.get(k), none, outs.get(k), null, mlpStep, a.eps(), h);
            }
            for (INDArray hmk : normed) s.recycle(hmk);
        }
        return outs;
    }

    /** Whole sequences per chunk: the widest temporary (q/k/v or gate/up) of a chunk stays within {@link #chunkBytes}. */
    private static int seqsPerChunk(Architecture a, BlockSpec b, int batch, int seqLen) {
        long width = a.hidden();
        if (a.attention() instanceof AttentionSpec.Gqa g) width = Math.max(width, (long) (g.heads() + 2L * g.kvHeads()) * g.headDim());
        if (b.mlp() instanceof MlpSpec.Dense d) width = Math.max(width, 2L * d.intermediate());
        long rows = Math.max(seqLen, chunkBytes / (4 * width));
        return (int) Math.max(1, Math.min(batch, rows / seqLen));
    }

    /** One {@link Step} over all rows in one row-parallel pass; {@code out} may be {@code x}, {@code next} may be null. */
    static void step(INDArray x, INDArray y, INDArray out, INDArray next, Step st, double eps, int h) {
        if (next == null && st.plainAdd() && out == x) {
            addInto(x, y);
            return;
        }
        FloatBuffer xf = Ops.floats(x), yf = Ops.floats(y), of = Ops.floats(out), nf = next == null ? null : Ops.floats(next);
        float alpha = (float) st.alpha(), beta = (float) st.beta();
        int rows = (int) x.rows();
        Par.rows(rows, Par.grain(rows, Math.max(1, 16384 / h)), (r0, r1) -> {
            float[] xr = new float[h], yr = new float[h];
            for (int r = r0; r < r1; r++) {
                xf.get(r * h, xr);
                yf.get(r * h, yr);
                if (nf != null && st.nextOfInput()) {
                    float[] nr = new float[h];
                    st.nextNorm().row(xr, 0, nr, 0, st.nextScale(), h);
                    nf.put(r * h, nr);
                }
                if (st.yNorm() != null) st.yNorm().row(yr, 0, yr, 0, 1.0, h);
                if (alpha == 1f && beta == 1f) {
                    for (int i = 0; i < h; i++) xr[i] += yr[i];
                } else {
                    for (int i = 0; i < h; i++) xr[i] = alpha * xr[i] + beta * yr[i];
                }
                if (st.outNorm() != null) st.outNorm().row(xr, 0, xr, 0, 1.0, h);
                of.put(r * h, xr);
                if (nf != null && !st.nextOfInput()) {
                    if (st.nextNorm() != null) st.nextNorm().row(xr, 0, yr, 0, st.nextScale(), h);
                    else System.arraycopy(xr, 0, yr, 0, h);
                    nf.put(r * h, yr);
                }
            }
        });
    }

    /** {@code x += y} for c-order arrays of the same shape, rows in parallel. */
    static void addInto(INDArray x, INDArray y) {
        int h = (int) x.columns(), rows = (int) x.rows();
        FloatBuffer xf = Ops.floats(x), yf = Ops.floats(y);
        Par.rows(rows, Par.grain(rows, Math.max(1, 16384 / h)), (r0, r1) -> {
            float[] xr = new float[h], yr = new float[h];
            for (int r = r0; r < r1; r++) {
                xf.get(r * h, xr);
                yf.get(r * h, yr);
                for (int i = 0; i < h; i++) xr[i] += yr[i];
                xf.put(r * h, xr);
            }
        });
    }

    /** {@link #dense(BlockWeights, String, INDArray, Gemm.Segments, MlpSpec.Activation)} of a SwiGLU MLP (shared and routed experts). */
    static INDArray dense(BlockWeights w, String role, INDArray h, Gemm.Segments seq) {
        return dense(w, role, h, seq, MlpSpec.Activation.SILU_GLU);
    }

    /**
     * A dense MLP with the weights of roles {@code <role>.gu} (gate and up stacked; {@code <role>.up} when not gated)
     * and {@code <role>.down}, and their biases {@code <role>.gu.bias}, {@code <role>.down.bias} when the block has
     * them: one gemm for gate and up, a Java pass for act(gate) * up (or act(up)), one gemm for down, each on the rows
     * of {@code seq} ({@link Gemm}). Returns [rows, H] in scratch memory, valid until the next call.
     */
    static INDArray dense(BlockWeights w, String role, INDArray h, Gemm.Segments seq, MlpSpec.Activation activation) {
        Scratch s = Scratch.get();
        boolean gated = activation.gated();
        String in = role + (gated ? ".gu" : ".up");
        INDArray wgu = w.get(in), wd = w.get(role + ".down");
        INDArray bgu = w.get(in + ".bias"), bd = w.get(role + ".down.bias");
        int rows = (int) h.rows(), inter = (int) (gated ? wgu.rows() / 2 : wgu.rows()), width = gated ? 2 * inter : inter;
        INDArray gu = s.get("mlp.gu", rows, width);
        Gemm.xwT(h, wgu, gu, seq);
        if (bgu != null) gu.addiRowVector(bgu);
        INDArray act = s.get("mlp.act", rows, inter);
        FloatBuffer gf = Ops.floats(gu), af = Ops.floats(act);
        Par.rows(rows, Par.grain(rows, Math.max(1, 8192 / inter)), (r0, r1) -> {
            float[] row = new float[width], res = new float[inter], t1 = new float[inter], t2 = new float[inter];
            for (int r = r0; r < r1; r++) {
                gf.get(r * width, row);
                switch (activation) {
                    case SILU_GLU -> Ops.swiglu(row, inter, res, t1, t2);
                    case GELU_TANH_GLU -> Ops.geluTanhGlu(row, inter, res);
                    case GELU -> {
                        Ops.gelu(row, inter);
                        System.arraycopy(row, 0, res, 0, inter);
                    }
                }
                af.put(r * inter, res);
            }
        });
        INDArray out = s.get("mlp.out", rows, wd.rows());
        Gemm.xwT(act, wd, out, seq);
        if (bd != null) out.addiRowVector(bd);
        return out;
    }
}
