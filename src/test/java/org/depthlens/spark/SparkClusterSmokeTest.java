package org.depthlens.spark;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.PrintStream;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;

class SparkClusterSmokeTest {
    @Test
    void executorsRunOnTheWorkers(@TempDir Path dir) throws Exception {
        try (StandaloneCluster c = StandaloneCluster.start(dir, 2, 1024)) {
            SparkOptions o = new SparkOptions(c.masterUrl, Map.of("spark.driver.host", "127.0.0.1",
                    "spark.driver.bindAddress", "127.0.0.1", "spark.jars", StandaloneCluster.applicationJars(dir)), 0);
            long t0 = System.nanoTime();
            try (SparkRun run = SparkRun.start(o, "smoke", System.err)) {
                List<SparkRun.Done<String>> r = run.stage("describe", List.of(1, 2, 3, 4), new ExecutorEnv.Describe());
                r.forEach(d -> System.err.println(d.value()));
                System.err.println(run.describe() + " in " + (System.nanoTime() - t0) / 1e9 + " s; executors " + c.executors());
                assertEquals(4, r.size());
            } catch (RuntimeException e) {
                System.err.println(c.logs());
                throw e;
            }
        }
    }
}
