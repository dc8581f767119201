package org.depthlens.analysis;

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
            public LensSums result() {
                if (normed.size() != layers + 1) throw new IllegalStateException("saw " + normed.size() + " depths of " + (layers + 1));
                int[] targets = batch.nextTokenTargets();
                LensSums sums = new LensSums(layers);
                sums.add(head.readNormed(normed, targets, layers), 0, targets, batch.members(), batch.seqLen());
                for (INDArray a : normed) if (a.closeable()) a.close();
                normed.clear();
                return sums;
            }
        };
    }

    @Override
    public LensSums merge(LensSums earlier, LensSums later) {
        return earlier.merge(later);
    }

    @Override
    public LensSums relabel(LensSums partial, int[] ids) {
        return partial.relabel(ids);
    }
}
