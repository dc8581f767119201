package org.depthlens.analysis;

import org.depthlens.model.Gemm;
import org.depthlens.model.Head;
import org.depthlens.pass.Batch;
import org.depthlens.model.Model;
import org.depthlens.pass.PassProbe;
import org.depthlens.probe.LensSums;
import org.depthlens.probe.MetricSpec;
import org.depthlens.probe.MetricSpec.Shape;
import org.depthlens.stats.WindowTable;
import org.nd4j.linalg.api.ndarray.INDArray;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The logit lens (docs/metrics.md): the loss, KL to the final distribution and top-1 agreement of the prediction
 * read off every depth. As a pass probe, each depth's state goes through the final norm as it arrives (only the
 * normed copy is kept), and when the batch is done one streaming read of the head serves every depth at
 * once, x[L] being the reference of the KL ({@link Head#readNormed}).
 */
final class LogitLensPass extends MetricSource {
    static final String NAME = "logit_lens";
    static final Switch TOGGLE = new Switch("logit-lens", true,
            "The logit lens: loss, KL to the final distribution and top-1 agreement of the prediction read off every depth "
                    + "(one more read of the LM head for all depths).");

    private static final List<MetricSpec> METRICS = List.of(
            MetricSpec.optional("logit_lens.loss", Shape.DEPTHS, "nats/token",
                    "The logit lens: the mean next-token loss when the prediction is read off depth l, p_l = "
                            + "softmax(head(norm(x[l]))) with the final norm recomputed on x[l]; equals loss at l = L.",
                    "logit_lens_loss", null),
            MetricSpec.optional("logit_lens.kl", Shape.DEPTHS, "nats",
                    "Mean over all positions of KL(p_L || p_l) in nats: how far the prediction read at depth l is from the "
                            + "final one (0 at l = L).", "logit_lens_kl", null),
            MetricSpec.optional("logit_lens.top1_agreement", Shape.DEPTHS, "fraction of positions",
                    "Fraction of all positions where the most likely token at depth l is the final one; the key numbers give "
                            + "the first depth where it exceeds 0.5 (where the prediction forms).",
                    "logit_lens_top1_agreement", null));

    /** Declared after the constants its constructor reads. */
    static final LogitLensPass SOURCE = new LogitLensPass();

    private LogitLensPass() {
        // the score kl[l] - kl[l+1]: how much closer to the final prediction block l brings the lens
        super(TOGGLE, METRICS, List.of(new Score("logit_lens_kl_drop", "logit_lens.kl", Pick.DROP)));
    }

    @Override
    public void request(Model model, Plan plan) {
        int layers = model.arch().layers(), hidden = model.arch().hidden();
        Head head = model.head();
        plan.probe(PassProbe.of(NAME, (long) hidden * (layers + 1), () -> new LensSums(layers), LensSums::merge,
                batch -> observe(head, layers, batch)));
    }

    @Override
    public Map<String, double[][]> values(Run run) {
        LensSums sums = run.total(NAME);
        var lens = sums.finish();
        Map<String, double[][]> v = new LinkedHashMap<>();
        v.put("logit_lens.loss", new double[][] {lens.loss()});
        v.put("logit_lens.kl", new double[][] {lens.kl()});
        v.put("logit_lens.top1_agreement", new double[][] {lens.top1Agreement()});
        return v;
    }

    @Override
    public void declare(WindowTable t, Run run) {
        LensSums.declare(t, run.windows(NAME));
    }

    /** Keeps the normed state of every depth; one read of the head serves them all when the batch is done. */
    private static PassProbe.Observer<LensSums> observe(Head head, int layers, Batch batch) {
        List<INDArray> normed = new ArrayList<>();
        return new PassProbe.Observer<>() {
            @Override
            public void state(int depth, INDArray x) {
                normed.add(head.normed(x));
            }

            @Override
            public List<LensSums> result() {
                if (normed.size() != layers + 1) throw new IllegalStateException("saw " + normed.size() + " depths of " + (layers + 1));
                int[] targets = batch.nextTokenTargets();
                Head.Readings read = head.readNormed(normed, targets, layers, Gemm.Segments.uniform(batch.batch(), batch.seqLen()));
                List<LensSums> sums = new ArrayList<>();
                for (int b = 0; b < batch.batch(); b++) { // one window's rows each
                    LensSums w = new LensSums(layers);
                    w.add(read, 0, targets, b * batch.seqLen(), (b + 1) * batch.seqLen());
                    sums.add(w);
                }
                for (INDArray a : normed) if (a.closeable()) a.close();
                normed.clear();
                return sums;
            }
        };
    }
}
