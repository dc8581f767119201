package org.depthlens.probe;

import org.depthlens.model.family.Architecture;
import org.depthlens.model.BlockForward;
import org.depthlens.model.BlockWeights;
import org.depthlens.model.Head;
import org.depthlens.model.Model;
import org.depthlens.model.Rope;
import org.depthlens.model.Sublayer;
import org.depthlens.pass.Batch;
import org.nd4j.linalg.api.ndarray.INDArray;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.List;

/**
 * The probes of issue 14 computed the plain way: the whole model in memory, one full forward per
 * removal, the head read once per question. Not a reference (it runs depthlens' kernels), but the
 * streamed analysis must agree with it to the last bit.
 */
public final class ProbeKernelsDriver {
    private ProbeKernelsDriver() {}

    public static Metrics run(Model m, List<int[]> windows) {
        Architecture a = m.arch();
        int layers = a.layers();
        Batch batch = Batch.of(windows);
        int b = batch.batch(), t = batch.seqLen();
        List<BlockWeights> blocks = new ArrayList<>();
        for (int j = 0; j < layers; j++) blocks.add(m.loadBlock(j, m.newPool()));
        Rope.Tables rope = m.ropeTables(t);
        StreamProbe probe = new StreamProbe(layers, a.hidden(), b, t);
        List<INDArray> depths = new ArrayList<>();
        depths.add(m.embed(batch.ids()));
        probe.observe(0, depths.get(0));
        ProbeSums sums = probe.sums();
        JacobianSums jac = new JacobianSums(layers);
        LensSums lensSums = new LensSums(layers);
        for (int j = 0; j < layers; j++) {
            INDArray x = depths.get(j);
            INDArray[] pm = JacobianProbe.perturb(x, b, t);
            List<INDArray> out = BlockForward.forwardAll(a, blocks.get(j), List.of(x, pm[0], pm[1]), b, t, rope,
                    Arrays.asList(null, null, null));
            jac.add(j, JacobianProbe.deviationSum(pm[0], pm[1], out.get(1), out.get(2), b, t), b);
            depths.add(out.get(0));
            probe.observe(j + 1, out.get(0));
        }
        int[] targets = batch.nextTokenTargets();
        Head.Readings lens = m.head().read(depths, targets, layers);
        lensSums.add(lens, 0, targets);
        sums.addLoss(-sum(lens.logProb()[layers]), count(targets));
        double[][] withoutSub = new double[2][layers];
        for (int l = 0; l < layers; l++) {
            sums.addLossWithout(l, -sum(m.head().logProbs(List.of(rest(m, blocks, rope, batch, depths.get(l), l + 1)), targets)[0]),
                    count(targets));
            for (Sublayer s : Sublayer.values()) {
                INDArray y = BlockForward.forwardAll(a, blocks.get(l), List.of(depths.get(l)), Collections.singletonList(s), b, t,
                        rope, Collections.singletonList(null)).get(0);
                y = rest(m, blocks, rope, batch, y, l + 1);
                withoutSub[s.ordinal()][l] = -sum(m.head().logProbs(List.of(y), targets)[0]) / count(targets);
            }
        }
        return sums.finish().withProbes(lensSums.finish(), jac.finish(), withoutSub[Sublayer.ATTENTION.ordinal()],
                withoutSub[Sublayer.MLP.ordinal()]);
    }

    private static INDArray rest(Model m, List<BlockWeights> blocks, Rope.Tables rope, Batch batch, INDArray y, int from) {
        for (int j = from; j < blocks.size(); j++) y = BlockForward.forward(m.arch(), blocks.get(j), y, batch.batch(), batch.seqLen(), rope, null);
        return y;
    }

    private static double sum(double[] lp) {
        double s = 0;
        for (double v : lp) if (!Double.isNaN(v)) s += v;
        return s;
    }

    private static long count(int[] targets) {
        return Arrays.stream(targets).filter(x -> x >= 0).count();
    }
}
