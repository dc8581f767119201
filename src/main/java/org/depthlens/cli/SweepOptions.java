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
    SparkOptions sparkOptions(picocli.CommandLine.Model.CommandSpec spec, Origin origin) {
        if (spark == null) {
            if (!sparkConf.isEmpty()) throw origin.error(spec, "--spark-conf", "needs --spark");
            if (windowsPerTask != null) throw origin.error(spec, "--windows-per-task", "needs --spark");
            return null;
        }
        Map<String, String> conf = new LinkedHashMap<>();
        for (String kv : sparkConf) {
            int eq = kv.indexOf('=');
            if (eq <= 0) throw origin.error(spec, "--spark-conf", "wants KEY=VALUE, got '" + kv + "'");
            conf.put(kv.substring(0, eq).strip(), kv.substring(eq + 1).strip());
        }
        if (windowsPerTask != null && windowsPerTask < 1) throw origin.error(spec, "--windows-per-task", "must be positive, got " + windowsPerTask);
        String bad = badMaster(spark.strip());
        if (bad != null) throw origin.error(spec, "--spark", "'" + spark.strip() + "': " + bad);
        for (Map.Entry<String, String> e : conf.entrySet()) {
            String why = badSetting(e.getKey(), e.getValue());
            if (why != null) throw origin.error(spec, "--spark-conf", e.getKey() + "=" + e.getValue() + ": " + why);
        }
        try {
            Class.forName("org.apache.spark.SparkConf", false, SweepOptions.class.getClassLoader());
        } catch (ClassNotFoundException | LinkageError e) {
            throw new org.depthlens.BadInputException(origin.name("--spark") + ": Apache Spark is not on the class path; run through the "
                    + "./depthlens launcher (it adds target/spark.classpath for --spark, or a --config file with a \"spark\" key) or spark-submit");
        }
        return new SparkOptions(spark.strip(), conf, windowsPerTask == null ? 0 : windowsPerTask);
    }

    private static final java.util.regex.Pattern HOST_PORT = java.util.regex.Pattern.compile("[A-Za-z0-9._\\[\\]:-]+:\\d{1,5}");

    /** Why {@code master} is not a master URL Spark accepts, or null ("" is spark-submit's own master). */
    static String badMaster(String m) {
        if (m.isEmpty() || m.equals("local") || m.equals("yarn") || m.startsWith("k8s://") && m.length() > 6) return null;
        // Spark's own patterns (SparkMasterRegex): no blank inside the brackets except around the comma of local[N,F]
        java.util.regex.Matcher local = java.util.regex.Pattern.compile("local\\[([^,\\]]*?)(?:\\s*,\\s*([^\\]]*))?\\]").matcher(m);
        if (local.matches()) {
            String n = local.group(1);
            if (!n.equals("*") && !(n.matches("\\d{1,6}") && Integer.parseInt(n) > 0)) return "local[N] wants N = a positive number of threads or *, got '" + n + "'";
            if (local.group(2) != null && !(local.group(2).matches("\\d{1,6}") && Integer.parseInt(local.group(2)) > 0)) {
                return "local[N,F] wants F = a positive number of task failures, got '" + local.group(2) + "'";
            }
            return null;
        }
        if (m.startsWith("local-cluster[")) return m.matches("local-cluster\\[\\s*[1-9]\\d*\\s*,\\s*[1-9]\\d*\\s*,\\s*[1-9]\\d*\\s*\\]") ? null
                : "local-cluster[N,C,M] wants three positive numbers";
        if (m.startsWith("spark://")) {
            for (String hp : m.substring(8).split(",")) {
                if (!HOST_PORT.matcher(hp).matches()) return "spark://HOST:PORT[,HOST:PORT] wants a host and a port, got '" + hp + "'";
                int port = Integer.parseInt(hp.substring(hp.lastIndexOf(':') + 1));
                if (port < 1 || port > 65535) return "port " + port + " is not a TCP port";
            }
            return null;
        }
        return "not a Spark master (local, local[N], local[*], spark://HOST:PORT, yarn, k8s://...)";
    }

    /** Why a --spark-conf value cannot be what Spark parses for its key, or null (unknown keys are Spark's to judge). */
    static String badSetting(String key, String value) {
        String v = value.strip().toLowerCase(java.util.Locale.ROOT);
        boolean size = key.endsWith(".memory") || key.endsWith(".memoryOverhead") || key.endsWith("maxResultSize")
                || key.equals("spark.executor.pyspark.memory") || key.endsWith(".offHeap.size");
        if (size && !v.matches("\\d+(b|k|kb|m|mb|g|gb|t|tb|p|pb)?")) return "a size such as 512m, 8g or 2048 (MiB), got '" + value + "'";
        boolean count = key.equals("spark.task.cpus") || key.equals("spark.executor.cores") || key.equals("spark.driver.cores")
                || key.equals("spark.task.maxFailures") || key.equals("spark.executor.instances");
        if (count && !(v.matches("\\d{1,6}") && Integer.parseInt(v) > 0)) return "a positive integer, got '" + value + "'";
        // Spark's time settings (spark.network.timeout, spark.executor.heartbeatInterval, ...): a bad one failed the
        // context half-started, with Spark's stack traces; 0 made the heartbeat scheduler throw
        String k = key.toLowerCase(java.util.Locale.ROOT);
        boolean time = key.startsWith("spark.") && (k.endsWith("timeout") || k.endsWith("interval"));
        if (time && !(v.matches("0*[1-9]\\d{0,17}(us|ms|s|m|min|h|d)?"))) {
            return "a positive time such as 120s, 500ms or 10min, got '" + value + "'";
        }
        if (key.equals("spark.master")) {
            String bad = badMaster(value.strip());
            if (bad != null) return bad;
        }
        return null;
    }

    /** --model/--label, then every --models-from in order. */
    List<ModelSpec> models(picocli.CommandLine.Model.CommandSpec spec, List<java.nio.file.Path> models, List<String> labels, Origin origin) {
        List<ModelSpec> out = new ArrayList<>(RunOptions.labelled(spec, models, labels));
        for (String m : modelsFrom) {
            try {
                out.addAll(ModelList.read(m));
            } catch (org.depthlens.UsageException e) {
                // a glob written in the run config is bad input of that file, not a usage error
                if (!origin.fromConfig("--models-from")) throw e;
                throw new org.depthlens.BadInputException(origin.name("--models-from") + " " + e.getMessage().replaceFirst("^--models-from ", ""));
            }
        }
        return out;
    }
}
