package org.depthlens.analysis;

import org.depthlens.model.Model;
import org.depthlens.model.Sublayer;
import org.depthlens.pass.Branch;
import org.depthlens.probe.MetricSpec;
import org.depthlens.probe.MetricSpec.Shape;
import org.depthlens.stats.WindowTable;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The loss with only the attention or only the MLP output of block l replaced by zero (docs/metrics.md): 2L more
 * removal branches beside the main stream, and their paired damages.
 */
final class SublayerRemoval extends MetricSource {
    static final Switch TOGGLE = new Switch("sublayer-removal", false,
            "loss_without_attention / loss_without_mlp: the loss with only one sublayer of each block zeroed (2L more "
                    + "removal branches: the pass takes about twice as long).");

    private static final List<MetricSpec> METRICS = List.of(
            MetricSpec.optional("loss_without_attention", Shape.BLOCKS, "nats/token",
                    "The loss with only block l's attention output replaced by zero, everything else intact.",
                    "loss_without_attention", null),
            MetricSpec.optional("loss_without_mlp", Shape.BLOCKS, "nats/token",
                    "The loss with only block l's MLP (or MoE) output replaced by zero; zeroing both sublayers is "
                            + "loss_without_layer[l].", "loss_without_mlp", null),
            MetricSpec.derived("damage_attention", Shape.BLOCKS, "nats/token",
                    "loss_without_attention[l] - loss (paired interval; the whiskers of the sublayer chart).", null, null,
                    m -> MetricSpec.minusLoss(m.lossWithoutAttention(), m)),
            MetricSpec.derived("damage_mlp", Shape.BLOCKS, "nats/token",
                    "loss_without_mlp[l] - loss (paired interval; the whiskers of the sublayer chart).", null, null,
                    m -> MetricSpec.minusLoss(m.lossWithoutMlp(), m)));

    /** Declared after the constants its constructor reads. */
    static final SublayerRemoval SOURCE = new SublayerRemoval();

    private SublayerRemoval() {
        super(TOGGLE, METRICS, List.of());
    }

    @Override
    public void request(Model model, Plan plan) {
        int layers = model.arch().layers();
        for (int l = 0; l < layers; l++) plan.branch(Branch.without(l, Sublayer.ATTENTION));
        for (int l = 0; l < layers; l++) plan.branch(Branch.without(l, Sublayer.MLP));
    }

    @Override
    public Map<String, double[][]> values(Run run) {
        Map<String, double[][]> v = new LinkedHashMap<>();
        v.put("loss_without_attention", run.losses(l -> Branch.without(l, Sublayer.ATTENTION)));
        v.put("loss_without_mlp", run.losses(l -> Branch.without(l, Sublayer.MLP)));
        return v;
    }

    @Override
    public void declare(WindowTable t, Run run) {
        int[] rows = Shape.BLOCKS.rows(run.layers());
        var attention = run.lossStatistic(t, l -> Branch.without(l, Sublayer.ATTENTION));
        var mlp = run.lossStatistic(t, l -> Branch.without(l, Sublayer.MLP));
        t.metric("loss_without_attention", 1, rows, attention);
        t.metric("loss_without_mlp", 1, rows, mlp);
        t.metric("damage_attention", 1, rows, Run.minusLoss(t, attention));
        t.metric("damage_mlp", 1, rows, Run.minusLoss(t, mlp));
    }
}
