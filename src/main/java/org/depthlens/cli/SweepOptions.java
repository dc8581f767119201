package org.depthlens.cli;

import org.depthlens.spark.SparkOptions;
import picocli.CommandLine.Option;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/** Options of {@code analyze} and {@code eval} for many checkpoints and for Spark. */
final class SweepOptions {
    @Option(names = "--models-from", paramLabel = "FILE|GLOB",
            description = {"More models: a file with one model folder per line (optionally a tab and a label; '#' comments), "
                    + "or a quoted glob such as 'run/step*' (folders in natural order: step2 before step10). Repeatable; "
                    + "added after the --model ones. Checkpoints of one run form a trajectory in the report."})
    List<String> modelsFrom = new ArrayList<>();

    @Option(names = "--spark", paramLabel = "MASTER", arity = "0..1", fallbackValue = "",
            description = {"Run on Apache Spark: local[N], spark://HOST:PORT, ...; without MASTER, the one spark-submit "
                    + "passes. One task per model and group of windows; every executor must read the model folders at the "
                    + "same path. Same outputs as without Spark (docs/guide.md, 'Spark')."})
    String spark;

    @Option(names = "--spark-conf", paramLabel = "KEY=VALUE",
            description = "A Spark setting, e.g. spark.executor.memory=8g (repeatable; wins over depthlens' defaults).")
    List<String> sparkConf = new ArrayList<>();

    @Option(names = "--windows-per-task", paramLabel = "N",
            description = "With --spark: split each model's windows into tasks of N windows (default: the groups a "
                    + "single process would use, often one task per model).")
    Integer windowsPerTask;

    @Option(names = "--keep-going", description = "A model that fails with bad input (a broken checkpoint) is reported and "
            + "left out instead of failing the run.")
    boolean keepGoing;

    /** The Spark options, or null without --spark. */
    SparkOptions sparkOptions(picocli.CommandLine.Model.CommandSpec spec) {
        if (spark == null) {
            if (!sparkConf.isEmpty() || windowsPerTask != null) throw RunOptions.usage(spec, "--spark-conf and --windows-per-task need --spark");
            return null;
        }
        Map<String, String> conf = new LinkedHashMap<>();
        for (String kv : sparkConf) {
            int eq = kv.indexOf('=');
            if (eq <= 0) throw RunOptions.usage(spec, "--spark-conf wants KEY=VALUE, got '" + kv + "'");
            conf.put(kv.substring(0, eq).strip(), kv.substring(eq + 1).strip());
        }
        if (windowsPerTask != null && windowsPerTask < 1) throw RunOptions.usage(spec, "--windows-per-task must be positive, got " + windowsPerTask);
        return new SparkOptions(spark.strip(), conf, windowsPerTask == null ? 0 : windowsPerTask);
    }

    /** --model/--label, then every --models-from in order. */
    List<ModelSpec> models(picocli.CommandLine.Model.CommandSpec spec, List<java.nio.file.Path> models, List<String> labels) {
        List<ModelSpec> out = new ArrayList<>(RunOptions.labelled(spec, models, labels));
        for (String m : modelsFrom) out.addAll(ModelList.read(m));
        return out;
    }
}
