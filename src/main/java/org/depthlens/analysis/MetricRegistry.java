package org.depthlens.analysis;

import org.depthlens.probe.MetricSpec;
import org.depthlens.probe.Metrics;

import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Function;

/**
 * The metric registry (docs/design.md, "The metric registry"): every probe of the analysis, in metrics.json's
 * key order. Adding a probe is one {@link MetricSource} class and one line here.
 */
public final class MetricRegistry {
    /** Every probe, in the order their metrics appear in metrics.json and per_block.csv. */
    public static final List<MetricSource> SOURCES = List.of(
            StreamMetrics.SOURCE,
            LossMetric.SOURCE,
            BlockRemoval.SOURCE,
            LogitLensPass.SOURCE,
            JacobianPass.SOURCE,
            SublayerRemoval.SOURCE,
            TokenSimilarity.SOURCE);

    /** Every metric, stored and derived, in that order. */
    public static final List<MetricSpec> METRICS = List.copyOf(SOURCES.stream().flatMap(s -> s.metrics().stream()).toList());

    /** Every switchable probe, in that order. */
    public static final List<MetricSource.Switch> SWITCHES =
            SOURCES.stream().map(MetricSource::toggle).filter(t -> t != null).toList();

    /** Every per-block score compared with the damage, in that order. */
    public static final List<MetricSource.Score> SCORES = List.copyOf(SOURCES.stream().flatMap(s -> s.scores().stream()).toList());

    private static final Map<String, MetricSpec> BY_KEY = index(false);
    private static final Map<String, MetricSpec> BY_CHART = index(true);

    static {
        for (MetricSource.Score s : SCORES) {
            if (!BY_KEY.containsKey(s.metric())) throw new IllegalStateException("score " + s.key() + " reads an unregistered metric");
        }
    }

    private MetricRegistry() {}

    private static Map<String, MetricSpec> index(boolean chart) {
        Map<String, MetricSpec> m = new LinkedHashMap<>();
        for (MetricSpec s : METRICS) {
            String k = chart ? (s.chart() == null ? null : s.chart().id()) : s.key();
            if (k != null && m.put(k, s) != null) throw new IllegalStateException("metric " + k + " declared twice");
        }
        return Collections.unmodifiableMap(m);
    }

    /** The metric with this key, or null. */
    public static MetricSpec of(String key) {
        return BY_KEY.get(key);
    }

    /** The metric whose default chart has this id (e.g. "loss_drop" is damage's), or null. */
    public static MetricSpec ofChart(String chartId) {
        return BY_CHART.get(chartId);
    }

    /** The switch with this name, or null. */
    public static MetricSource.Switch toggle(String name) {
        for (MetricSource.Switch s : SWITCHES) if (s.name().equals(name)) return s;
        return null;
    }

    /** The switches' names, for messages and completion. */
    public static List<String> switchNames() {
        List<String> names = new ArrayList<>();
        for (MetricSource.Switch s : SWITCHES) names.add(s.name());
        return names;
    }

    /** Per score key, its L values in {@code m}, or null when its metric was not measured. */
    public static Map<String, Function<Metrics, double[]>> scores() {
        Map<String, Function<Metrics, double[]>> out = new LinkedHashMap<>();
        for (MetricSource.Score s : SCORES) {
            MetricSpec spec = of(s.metric());
            out.put(s.key(), m -> {
                double[][] rows = spec.rows(m);
                return rows == null ? null : s.of(flat(rows), m.blocks());
            });
        }
        return Collections.unmodifiableMap(out);
    }

    /** Rows one after the other. */
    static double[] flat(double[][] rows) {
        int n = 0;
        for (double[] r : rows) n += r.length;
        double[] f = new double[n];
        int at = 0;
        for (double[] r : rows) {
            System.arraycopy(r, 0, f, at, r.length);
            at += r.length;
        }
        return f;
    }
}
