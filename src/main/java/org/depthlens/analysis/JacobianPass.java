package org.depthlens.analysis;

import org.depthlens.model.Scratch;
import org.depthlens.pass.Batch;
import org.depthlens.model.Model;
import org.depthlens.pass.PassProbe;
import org.depthlens.pass.StreamObserver;
import org.depthlens.probe.MetricSpec;
import org.depthlens.stats.WindowTable;
import org.depthlens.probe.JacobianProbe;
import org.depthlens.probe.JacobianSums;
import org.nd4j.linalg.api.ndarray.INDArray;

import java.util.List;
import java.util.Map;

/**
 * jacobian_deviation (docs/metrics.md). As a pass probe: while block l is loaded, it runs on the two perturbed
 * copies of the main stream's x[l] (two more block evaluations per block; a mixture-of-experts block routes them
 * with its router, as the model would).
 */
final class JacobianPass extends MetricSource {
    static final String NAME = "jacobian_deviation";
    static final Switch TOGGLE = new Switch("jacobian", true,
            "jacobian_deviation: how far each block is from the identity around its input (two more block evaluations "
                    + "per block).");

    private static final List<MetricSpec> METRICS = List.of(MetricSpec.optional(NAME, MetricSpec.Shape.BLOCKS, "ratio of norms",
            "|D - V| / |V| with D the central difference (eps = 1e-2) of block l's map along V = x[l] minus its mean "
                    + "over the window's tokens: how strongly the block's update responds to its input; 0 = the block "
                    + "acts as the identity around its input.", "jacobian_deviation", null));

    /** Declared after the constants its constructor reads. */
    static final JacobianPass SOURCE = new JacobianPass();

    private JacobianPass() {
        super(TOGGLE, METRICS, List.of(new Score(NAME, NAME, Pick.SAME)));
    }

    @Override
    public void request(Model model, Plan plan) {
        int layers = model.arch().layers(), hidden = model.arch().hidden();
        plan.probe(PassProbe.of(NAME, 4L * hidden, () -> new JacobianSums(layers), JacobianSums::merge,
                batch -> observe(layers, batch)));
    }

    @Override
    public Map<String, double[][]> values(Run run) {
        JacobianSums sums = run.total(NAME);
        return Map.of(NAME, new double[][] {sums.finish()});
    }

    @Override
    public void declare(WindowTable t, Run run) {
        JacobianSums.declare(t, run.windows(NAME));
    }

    /** Holds the two perturbed inputs and their outputs while one block runs. */
    private static PassProbe.Observer<JacobianSums> observe(int layers, Batch batch) {
        List<JacobianSums> sums = new java.util.ArrayList<>();
        for (int b = 0; b < batch.batch(); b++) sums.add(new JacobianSums(layers));
        return new PassProbe.Observer<>() {
            @Override
            public void state(int depth, INDArray x) {
            }

            @Override
            public void block(int block, INDArray in, INDArray out, StreamObserver.BlockEvaluator evaluate) {
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
}
