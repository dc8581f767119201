package org.depthlens.analysis;

import org.depthlens.model.Model;
import org.depthlens.pass.Branch;
import org.depthlens.probe.MetricSpec;
import org.depthlens.probe.MetricSpec.Chart;
import org.depthlens.probe.MetricSpec.Shape;
import org.depthlens.stats.WindowTable;

import java.util.List;
import java.util.Map;

/**
 * The single-block removal sweep: the loss with each block replaced by the identity, one branch per block beside
 * the main stream, and the damage of removing it (paired with the loss on the same windows).
 */
final class BlockRemoval extends MetricSource {

    private static final List<MetricSpec> METRICS = List.of(
            MetricSpec.optional("loss_without_layer", Shape.BLOCKS, "nats/token",
                    "The loss with block l replaced by the identity (its input passes through unchanged); the performance "
                            + "drop of removing block l is loss_without_layer[l] - loss.", "loss_without_layer", null),
            MetricSpec.derived("damage", Shape.BLOCKS, "nats/token",
                    "loss_without_layer[l] - loss, what removing block l costs; its interval is paired (both losses on the "
                            + "same resampled windows).", "loss_drop",
                    new Chart("loss_drop", "loss increase when one block is skipped", "Loss without block l - loss (nats/token)",
                            "loss_without_layer[l] - loss"),
                    m -> MetricSpec.minusLoss(m.lossWithoutLayer(), m)));

    /** Declared after the constants its constructor reads. */
    static final BlockRemoval SOURCE = new BlockRemoval();

    private BlockRemoval() {
        super(null, METRICS, List.of());
    }

    /** On with {@link Analyzer.Options#removalSweep}. */
    @Override
    public boolean enabled(Analyzer.Options options) {
        return options.removalSweep();
    }

    @Override
    public void request(Model model, Plan plan) {
        for (int l = 0; l < model.arch().layers(); l++) plan.branch(Branch.without(l));
    }

    @Override
    public Map<String, double[][]> values(Run run) {
        return Map.of("loss_without_layer", run.losses(Branch::without));
    }

    @Override
    public void declare(WindowTable t, Run run) {
        var st = run.lossStatistic(t, Branch::without);
        int[] rows = Shape.BLOCKS.rows(run.layers());
        t.metric("loss_without_layer", 1, rows, st);
        t.metric("damage", 1, rows, Run.minusLoss(t, st));
    }
}
