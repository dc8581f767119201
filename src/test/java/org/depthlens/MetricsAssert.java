package org.depthlens;

import com.fasterxml.jackson.databind.JsonNode;
import org.depthlens.probe.Metrics;

import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.fail;

/** Compares computed metrics with a reference JSON object (keys as in shared/docs/metrics.md). */
public final class MetricsAssert {
    private MetricsAssert() {}

    /** Asserts every metric within {@code tol} relative; returns the worst relative error seen. */
    public static double assertMatches(JsonNode ref, Metrics m, double tol, String what) {
        List<String> bad = new ArrayList<>();
        double[] worst = {0};
        tri(ref.get("angular_all"), m.angularAll(), "angular_all", tol, bad, worst);
        tri(ref.get("angular_last"), m.angularLast(), "angular_last", tol, bad, worst);
        vec(ref.get("block_influence"), m.blockInfluence(), "block_influence", tol, bad, worst);
        vec(ref.get("variance"), m.variance(), "variance", tol, bad, worst);
        vec(ref.get("token_variance"), m.tokenVariance(), "token_variance", tol, bad, worst);
        vec(ref.get("rms"), m.rms(), "rms", tol, bad, worst);
        vec(ref.get("update_ratio"), m.updateRatio(), "update_ratio", tol, bad, worst);
        one(ref.get("loss").asDouble(), m.loss(), "loss", tol, bad, worst);
        if (ref.has("loss_without_layer")) {
            if (m.lossWithoutLayer() == null) bad.add("loss_without_layer missing");
            else vec(ref.get("loss_without_layer"), m.lossWithoutLayer(), "loss_without_layer", tol, bad, worst);
        }
        System.out.printf("%s: worst relative error %.3e over all metrics (tolerance %.0e)%n", what, worst[0], tol);
        if (!bad.isEmpty()) fail(what + ": " + String.join("; ", bad.subList(0, Math.min(8, bad.size()))));
        return worst[0];
    }

    private static void tri(JsonNode ref, double[][] got, String name, double tol, List<String> bad, double[] worst) {
        assertEquals(ref.size(), got.length, name + " rows");
        for (int l = 0; l < got.length; l++) {
            assertEquals(ref.get(l).size(), got[l].length, name + " row " + l);
            for (int n = 0; n < got[l].length; n++) one(ref.get(l).get(n).asDouble(), got[l][n], name + "[" + l + "][" + n + "]", tol, bad, worst);
        }
    }

    private static void vec(JsonNode ref, double[] got, String name, double tol, List<String> bad, double[] worst) {
        assertEquals(ref.size(), got.length, name + " length");
        for (int i = 0; i < got.length; i++) one(ref.get(i).asDouble(), got[i], name + "[" + i + "]", tol, bad, worst);
    }

    private static void one(double want, double got, String name, double tol, List<String> bad, double[] worst) {
        double rel = Math.abs(got - want) / Math.max(Math.abs(want), 1e-300);
        if (Double.isNaN(got)) rel = Double.POSITIVE_INFINITY;
        worst[0] = Math.max(worst[0], rel);
        if (rel > tol) bad.add(String.format("%s=%.9g want %.9g (rel %.2e)", name, got, want, rel));
    }
}
