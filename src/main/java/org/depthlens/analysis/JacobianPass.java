package org.depthlens.analysis;

import org.depthlens.model.Scratch;
import org.depthlens.pass.Batch;
import org.depthlens.pass.PassProbe;
import org.depthlens.probe.JacobianProbe;
import org.depthlens.probe.JacobianSums;
import org.nd4j.linalg.api.ndarray.INDArray;

import java.util.List;

/**
 * jacobian_deviation as a pass probe: while block l is loaded, it runs on the two perturbed copies of the
 * main stream's x[l] (two more block evaluations per block; a mixture-of-experts block routes them with its
 * router, as the model would).
 */
final class JacobianPass implements PassProbe<JacobianSums> {
    static final String NAME = "jacobian_deviation";
    private final int layers;
    private final int hidden;

    JacobianPass(int layers, int hidden) {
        this.layers = layers;
        this.hidden = hidden;
    }

    @Override
    public String name() {
        return NAME;
    }

    /** The two perturbed inputs and their outputs while one block runs. */
    @Override
    public long floatsPerToken() {
        return 4L * hidden;
    }

    @Override
    public Observer<JacobianSums> observe(Batch batch) {
        List<JacobianSums> sums = new java.util.ArrayList<>();
        for (int b = 0; b < batch.batch(); b++) sums.add(new JacobianSums(layers));
        return new Observer<>() {
            @Override
            public void state(int depth, INDArray x) {
            }

            @Override
            public void block(int block, INDArray in, INDArray out, BlockEvaluator evaluate) {
                INDArray[] pm = JacobianProbe.perturb(in, batch.batch(), batch.seqLen());
                List<INDArray> f = evaluate.forward(List.of(pm[0], pm[1]));
                double[] dev = JacobianProbe.deviations(pm[0], pm[1], f.get(0), f.get(1), batch.batch(), batch.seqLen());
                for (int b = 0; b < dev.length; b++) sums.get(b).add(block, dev[b], 1);
                for (INDArray a : List.of(pm[0], pm[1], f.get(0), f.get(1))) Scratch.get().recycle(a);
            }

            @Override
            public List<JacobianSums> result() {
                return sums;
            }
        };
    }

    @Override
    public JacobianSums empty() {
        return new JacobianSums(layers);
    }

    @Override
    public JacobianSums merge(JacobianSums acc, JacobianSums later) {
        return acc.merge(later);
    }
}
