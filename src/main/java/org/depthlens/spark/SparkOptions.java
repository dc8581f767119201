package org.depthlens.spark;

import java.util.Map;

/**
 * How {@code analyze}/{@code eval} run on Spark.
 *
 * @param master         {@code local[N]}, {@code spark://host:port}, ..., or empty for the master spark-submit gives
 * @param conf           extra Spark settings ({@code --spark-conf KEY=VALUE}); they win over depthlens' defaults
 * @param windowsPerTask windows per task, 0 for the memory-budget groups of a single-process run (one task per
 *                       model for small data: then the merge order, and so every number, is that run's)
 */
public record SparkOptions(String master, Map<String, String> conf, int windowsPerTask) {
    public SparkOptions {
        conf = Map.copyOf(conf);
    }
}
