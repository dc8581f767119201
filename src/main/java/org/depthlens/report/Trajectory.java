package org.depthlens.report;

import org.depthlens.pass.Provenance;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;

/**
 * Checkpoints of one training run, in the order the user gave them (the colour ramp follows
 * that order: first = lightest).
 *
 * @param index  0-based number of the trajectory in the report
 * @param models the checkpoints, at least two
 */
public record Trajectory(int index, List<ReportModel> models) {

    /** File-name prefix of the trajectory's charts in {@code compare/}. */
    public String prefix() {
        return "trajectory_" + (index + 1);
    }

    /**
     * Explicit groups, by model label (the labels the caller gave). Unknown labels are an error;
     * groups of fewer than two models are dropped.
     */
    static List<Trajectory> explicit(List<ReportModel> models, List<List<String>> groups) {
        List<Trajectory> out = new ArrayList<>();
        for (List<String> g : groups) {
            List<ReportModel> ms = new ArrayList<>();
            for (String label : g) {
                ReportModel found = models.stream().filter(m -> Objects.equals(m.result().label(), label)
                        || m.label().equals(label)).findFirst().orElseThrow(() ->
                        new IllegalArgumentException("trajectory names unknown model label '" + label + "'"));
                ms.add(found);
            }
            if (ms.size() >= 2) {
                out.add(new Trajectory(out.size(), List.copyOf(ms)));
            }
        }
        return out;
    }

    /**
     * Guesses trajectories: models with the same family, block normalisation, block count and config.json hash
     * but different weights are checkpoints of one run (a config hash is required, so models without
     * provenance are never grouped). Input order is kept within and across groups.
     */
    static List<Trajectory> detect(List<ReportModel> models) {
        Map<List<Object>, List<ReportModel>> groups = new LinkedHashMap<>();
        for (ReportModel m : models) {
            Provenance p = m.result().provenance();
            if (p == null || p.configSha256() == null || p.configSha256().isBlank()) {
                continue;
            }
            // the Curse-of-Depth code writes the same config.json for every NORM_TYPE: the form tells its runs apart
            List<Object> key = List.of(String.valueOf(m.result().family()), m.result().normLabel(), m.blocks(),
                    p.configSha256());
            groups.computeIfAbsent(key, k -> new ArrayList<>()).add(m);
        }
        List<Trajectory> out = new ArrayList<>();
        for (List<ReportModel> g : groups.values()) {
            long distinctWeights = g.stream().map(m -> String.valueOf(m.result().provenance().weightsSha256()))
                    .distinct().count();
            if (g.size() >= 2 && distinctWeights == g.size()) {
                out.add(new Trajectory(out.size(), List.copyOf(g)));
            }
        }
        return out;
    }
}
