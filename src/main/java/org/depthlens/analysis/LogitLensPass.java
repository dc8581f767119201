package org.depthlens.analysis;

import org.depthlens.model.Gemm;
import org.depthlens.model.Head;
import org.depthlens.pass.Batch;
import org.depthlens.pass.PassProbe;
import org.depthlens.probe.LensSums;
import org.nd4j.linalg.api.ndarray.INDArray;

import java.util.ArrayList;
import java.util.List;

/**
 * The logit lens as a pass probe: each depth's state goes through the final norm as it arrives (only the
 * normed copy is kept), and when the batch is done one streaming read of the head serves every depth at
 * once, x[L] being the reference of the KL ({@link Head#readNormed}).
 */
final class LogitLensPass implements PassProbe<LensSums> {
    static final String NAME = "logit_lens";
    private final Head head;
    private final int layers;
    private final int hidden;

    LogitLensPass(Head head, int layers, int hidden) {
        this.head = head;
        this.layers = layers;
        this.hidden = hidden;
    }

    @Override
    public String name() {
        return NAME;
    }

    /** The normed state of every depth. */
    @Override
    public long floatsPerToken() {
        return (long) hidden * (layers + 1);
    }

    @Override
    public Observer<LensSums> observe(Batch batch) {
        List<INDArray> normed = new ArrayList<>();
        return new Observer<>() {
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

    @Override
    public LensSums empty() {
        return new LensSums(layers);
    }

    @Override
    public LensSums merge(LensSums acc, LensSums later) {
        return acc.merge(later);
    }
}
