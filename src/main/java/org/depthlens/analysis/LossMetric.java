package org.depthlens.analysis;

import org.depthlens.model.Model;
import org.depthlens.probe.MetricSpec;
import org.depthlens.stats.WindowTable;

import java.util.List;
import java.util.Map;

/** The full model's loss: the mean next-token NLL over every scored position of every window. */
final class LossMetric extends MetricSource {
    static final String KEY = "loss";

    private static final List<MetricSpec> METRICS = List.of(MetricSpec.stored(KEY, MetricSpec.Shape.SCALAR, "nats/token",
            "The mean next-token negative log-likelihood (natural log) over every scored position of every window; "
                    + "perplexity = exp(loss).", null, null));

    /** Declared after the constants its constructor reads. */
    static final LossMetric SOURCE = new LossMetric();

    private LossMetric() {
        super(null, METRICS, List.of());
    }

    /** The planner scores the main stream in every analysis. */
    @Override
    public void request(Model model, Plan plan) {
    }

    @Override
    public Map<String, double[][]> values(Run run) {
        return Map.of(KEY, new double[][] {{run.loss()}});
    }

    @Override
    public void declare(WindowTable t, Run run) {
        t.metric(KEY, 0, new int[] {1}, run.lossStatistic(t, null));
    }
}
