package org.depthlens.cli;

import org.depthlens.spark.StandaloneCluster;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * A real Spark standalone cluster on 127.0.0.1 (a master and two worker JVMs of one core each, started from the
 * Maven-resolved jars): {@code spark-submit} (SparkSubmit in a child JVM, depthlens and ND4J only from the
 * submitted jars) analyses two tiny-curse checkpoints while the test kills the executor running the first task.
 * Spark retries the task and the outputs are bitwise those of the single-process run.
 */
class SparkClusterTest {
    private static final Pattern STARTED = Pattern.compile("Starting task \\S+ in stage 0\\.0 \\(TID \\d+\\) \\(127\\.0\\.0\\.1, ?executor (\\d+),");

    @Test
    void submittedAnalysisEqualsOneProcessEvenWhenAnExecutorDies(@TempDir Path dir) throws Exception {
        Path single = SparkAnalyzeTest.singleProcessOutput();

        Path out = dir.resolve("cluster-out");
        List<String> args = new java.util.ArrayList<>(SparkAnalyzeTest.args(out));
        args.add("--spark");
        long t0 = System.nanoTime();
        StandaloneCluster c = StandaloneCluster.shared();
        {
            double started = (System.nanoTime() - t0) / 1e9;
            Path log = dir.resolve("submit.log");
            String[] killed = {null};
            Thread killer = new Thread(() -> killFirstTaskExecutor(c, log, killed), "kill-an-executor");
            killer.setDaemon(true);
            killer.start();
            StandaloneCluster.Run r = c.submit(log, List.of(), args, 300);
            killer.join(1000);
            String err = r.err();
            assertEquals(0, r.code(), () -> "spark-submit failed:\n" + tail(err) + "\n" + c.logs());
            System.err.printf("SparkClusterTest: cluster up in %.1f s, submitted analysis %.1f s, killed executor %s%n", started,
                    r.seconds(), killed[0]);
            assertTrue(killed[0] != null, () -> "no task was seen starting:\n" + tail(err));
            assertTrue(err.contains("Lost task") || err.contains("ExecutorLostFailure"), () -> "the task was not lost:\n" + tail(err));
            assertTrue(err.contains("master spark://127.0.0.1:"), () -> tail(err));
            assertTrue(r.out().contains("Wrote " + out + "/report.html"), r::out);
        }
        SameOutputs.assertSame(single, out);
    }

    /** Waits for the driver to start a task of the first stage, then kills that executor's JVM. */
    private static void killFirstTaskExecutor(StandaloneCluster c, Path log, String[] killed) {
        long end = System.nanoTime() + TimeUnit.SECONDS.toNanos(240);
        try {
            while (System.nanoTime() < end) {
                if (Files.exists(log)) {
                    Matcher m = STARTED.matcher(Files.readString(log, StandardCharsets.ISO_8859_1));
                    if (m.find()) {
                        Thread.sleep(1500); // well into the task: the model is open, a pass is running
                        for (ProcessHandle h : c.executors()) {
                            if (StandaloneCluster.cmdline(h).contains("--executor-id\u0000" + m.group(1) + "\u0000")) {
                                h.destroyForcibly();
                                killed[0] = m.group(1);
                                return;
                            }
                        }
                        return;
                    }
                }
                Thread.sleep(100);
            }
        } catch (Exception e) {
            // the assertions report it
        }
    }

    private static String tail(String s) {
        List<String> lines = s.lines().toList();
        return String.join("\n", lines.subList(Math.max(0, lines.size() - 60), lines.size()));
    }
}
