package org.depthlens.spark;

import org.apache.spark.SparkConf;
import org.depthlens.BadInputException;
import org.junit.jupiter.api.Test;

import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** depthlens' Spark settings, the user's winning over them, and the executor line picked out of Spark's failure text. */
class SparkRunTest {
    @Test
    void defaultsAndWhatTheUserSets() {
        SparkConf c = SparkRun.conf(new SparkOptions("spark://h:7077", Map.of(), 0), "app", "a.jar,b.jar");
        assertEquals("spark://h:7077", c.get("spark.master"));
        assertEquals("1", c.get("spark.task.cpus"));
        assertEquals("1", c.get("spark.executorEnv.OMP_NUM_THREADS"));
        assertEquals("1", c.get("spark.executorEnv.OPENBLAS_NUM_THREADS"));
        assertEquals("2g", c.get("spark.executor.memoryOverhead"));
        assertEquals("a.jar,b.jar", c.get("spark.jars"));
        assertTrue(c.get("spark.executor.extraJavaOptions").startsWith("-Ddepthlens.threads=1 -Dorg.bytedeco.javacpp.maxbytes=0 "));

        SparkConf u = SparkRun.conf(new SparkOptions("local[2]", Map.of("spark.task.cpus", "2", "spark.executor.extraJavaOptions",
                "-Dx=y", "spark.executorEnv.OMP_NUM_THREADS", "3"), 0), "app", "a.jar");
        assertEquals("2", u.get("spark.task.cpus"));
        assertEquals("3", u.get("spark.executorEnv.OMP_NUM_THREADS"), "the user's own setting wins");
        assertEquals("1", u.get("spark.executorEnv.OPENBLAS_NUM_THREADS"), "OpenBLAS never splits a product (model/Gemm)");
        assertTrue(u.get("spark.executor.extraJavaOptions").endsWith(" -Dx=y"));
        assertTrue(u.get("spark.executor.extraJavaOptions").startsWith("-Ddepthlens.threads=2 "));
        assertFalse(u.contains("spark.jars"), "local mode runs in this JVM: nothing to ship");
    }

    @Test
    void noMasterIsOneLine() {
        BadInputException e = assertThrows(BadInputException.class, () -> SparkRun.conf(new SparkOptions("", Map.of(), 0), "app", null));
        assertEquals("--spark: no master given and none from spark-submit; give --spark local[N] or --spark spark://HOST:PORT",
                e.getMessage());
    }

    @Test
    void theExecutorsLineIsFoundInSparksFailureText() {
        Exception spark = new RuntimeException("Job aborted due to stage failure: Task 0 in stage 0.0 failed 4 times, most recent "
                + "failure: Lost task 0.3 in stage 0.0 (TID 3) (10.0.0.7 executor 2): java.lang.IllegalStateException: "
                + ExecutorEnv.TAG + "node7: cannot read the model folder /data/x (no readable config.json there); every executor"
                + "\n\tat org.depthlens.spark.ExecutorEnv.checkModel(ExecutorEnv.java:50)\n");
        assertEquals(ExecutorEnv.TAG + "node7: cannot read the model folder /data/x (no readable config.json there); every executor",
                SparkRun.executorLine(new RuntimeException("wrapped", spark)));
        assertNull(SparkRun.executorLine(new RuntimeException("Job aborted: OutOfMemoryError")));
    }

    @Test
    void localTasksRunInThisJvmInOrder() {
        try (SparkRun run = SparkRun.start(new SparkOptions("local[2]", Map.of(), 0), "depthlens test", System.err)) {
            List<SparkRun.Done<String>> r = run.stage("describe", List.of(1, 2, 3), new ExecutorEnv.Describe());
            assertEquals(3, r.size());
            for (SparkRun.Done<String> d : r) assertTrue(d.value().contains(" pid " + ProcessHandle.current().pid() + ","), d.value());
            assertEquals(List.of("/a", "/b"), run.stage("order", List.of("/a", "/b"), (String s) -> s).stream()
                    .map(SparkRun.Done::value).toList());
            assertTrue(run.describe().matches("Apache Spark 4\\.0\\.4, master local\\[2\\], 5 tasks in 2 stages"), run.describe());
        }
    }
}
