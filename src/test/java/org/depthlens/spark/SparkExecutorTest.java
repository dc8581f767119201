package org.depthlens.spark;

import org.depthlens.BadInputException;
import org.junit.jupiter.api.Test;

import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.stream.Collectors;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Executors of a real standalone cluster (two worker JVMs on 127.0.0.1): depthlens and ND4J arrive as the driver's
 * spark.jars, each task gets one BLAS and one depthlens thread and OpenBLAS' kernel as on one machine; an executor
 * without ND4J's jars, or without the model folder, ends the run with one line from that executor.
 */
class SparkExecutorTest {
    private static SparkOptions options(StandaloneCluster c, String jars) {
        return new SparkOptions(c.masterUrl, Map.of("spark.driver.host", "127.0.0.1", "spark.driver.bindAddress", "127.0.0.1",
                "spark.jars", jars, "spark.task.maxFailures", "2"), 0);
    }

    @Test
    void executorsLoadTheNativesFromTheShippedJarsAndNameAMissingModelFolder() throws Exception {
        StandaloneCluster c = StandaloneCluster.shared();
        try (SparkRun run = SparkRun.start(options(c, StandaloneCluster.applicationJars(c.dir())), "depthlens test", System.err)) {
            List<SparkRun.Done<String>> r = run.stage("describe", List.of(1, 2, 3, 4), new ExecutorEnv.Describe());
            Set<String> pids = r.stream().map(d -> d.value().replaceAll(".* pid (\\d+),.*", "$1")).collect(Collectors.toSet());
            assertTrue(!pids.contains(Long.toString(ProcessHandle.current().pid())), "tasks ran in executor JVMs: " + r);
            for (SparkRun.Done<String> d : r) {
                assertTrue(d.value().contains(", 1 threads, core "), d.value());
                assertTrue(d.value().endsWith("OpenBLAS threads 1"), d.value());
            }
            System.err.println("SparkExecutorTest: " + run.describe() + ", executor pids " + pids);

            // the same executors, asked for a model folder they cannot see
            BadInputException e = assertThrows(BadInputException.class, () -> run.stage("check", List.of("/nonexistent/step100"),
                    new ExecutorEnv.CheckModel()));
            assertTrue(e.getMessage().startsWith(ExecutorEnv.TAG), e.getMessage());
            assertTrue(e.getMessage().contains(": cannot read the model folder /nonexistent/step100 (no readable config.json there); "
                    + "every executor must see it at the same path"), e.getMessage());
            assertEquals(1, e.getMessage().lines().count());
        }
    }

    @Test
    void anExecutorWithoutTheNativesEndsTheRunWithItsLine() throws Exception {
        StandaloneCluster c = StandaloneCluster.shared();
        String onlyOurClasses = StandaloneCluster.applicationJars(c.dir()).split(",")[0];
        try (SparkRun run = SparkRun.start(options(c, onlyOurClasses), "depthlens test", System.err)) {
            BadInputException e = assertThrows(BadInputException.class, () -> run.stage("describe", List.of(1),
                    new ExecutorEnv.Describe()));
            assertTrue(e.getMessage().contains(": cannot load ND4J's native libraries (NoClassDefFoundError: org/bytedeco/"),
                    e.getMessage());
            assertTrue(e.getMessage().endsWith("every executor needs depthlens' jars: spark-submit --jars target/lib/*.jar, or spark.jars"),
                    e.getMessage());
        }
    }
}
