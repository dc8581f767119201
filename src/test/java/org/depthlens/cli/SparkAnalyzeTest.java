package org.depthlens.cli;

import org.depthlens.Fixtures;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * {@code analyze --spark local[2]} against the same analysis in one process, on two tiny-curse checkpoints, with
 * {@code --tasks/--docs} (the evaluation, with the pruning the analysis chose, runs as a second round of Spark stages
 * in the same context) and a non-default probe switch ({@code --no-jacobian}: it must reach the executors, or their
 * metrics would hold a Jacobian the single run has not): the outputs are the same files with bitwise the same
 * numbers, also with {@code --windows-per-task} (other groups). The one-process run is made once per JVM and shared
 * with {@link SparkClusterTest}.
 */
class SparkAnalyzeTest {
    @TempDir
    static Path tmp;
    static Path single;
    private static Path shared;

    /** The single-process output of {@link #args}, computed once per JVM (SparkClusterTest compares with it too). */
    static synchronized Path singleProcessOutput() throws java.io.IOException {
        if (shared == null) {
            Path dir = Files.createTempDirectory("depthlens-spark-single");
            Runtime.getRuntime().addShutdownHook(new Thread(() -> delete(dir)));
            Path out = dir.resolve("single");
            Cli.Result r = Cli.run(args(out).toArray(String[]::new));
            assertEquals(0, r.code(), r::describe);
            shared = out;
        }
        return shared;
    }

    private static void delete(Path dir) {
        try (var s = Files.walk(dir)) {
            s.sorted(java.util.Comparator.reverseOrder()).forEach(f -> f.toFile().delete());
        } catch (java.io.IOException e) {
            // best effort at exit
        }
    }

    /** The analysis every Spark analysis test runs: 4 windows of 64; then 2 cloze items (8 choices) and 2 short documents. */
    static List<String> args(Path out) throws java.io.IOException {
        Path tc = Fixtures.tinyCurse();
        Path in = inputs();
        return new ArrayList<>(List.of("analyze", "-m", tc.resolve("pre_ln-step141").toString(), "-m",
                tc.resolve("lns-step141").toString(), "--ids", tc.resolve("validation_ids.json").toString(), "--window", "64",
                "--max-windows", "4", "--prune", "2", "--no-jacobian", "--tasks", in.resolve("cloze2.jsonl").toString(), "--docs",
                in.resolve("docs.txt").toString(), "--max-length", "64", "-o", out.toString()));
    }

    private static Path inputs;

    /** The task and documents files of {@link #args}, written once per JVM. */
    private static synchronized Path inputs() throws java.io.IOException {
        if (inputs == null) {
            Path dir = Files.createTempDirectory("depthlens-spark-inputs");
            Runtime.getRuntime().addShutdownHook(new Thread(() -> delete(dir)));
            Path root = Path.of(System.getProperty("depthlens.root", "."));
            Files.write(dir.resolve("cloze2.jsonl"), Files.readAllLines(root.resolve("sample-configs/tasks/tech-cloze.jsonl")).subList(0, 2));
            Files.writeString(dir.resolve("docs.txt"), "The driver registers an interrupt handler.\n\n"
                    + "Each process has a unique process ID, and the kernel keeps a table of them.\n");
            inputs = dir;
        }
        return inputs;
    }

    @BeforeAll
    static void singleProcess() throws Exception {
        single = singleProcessOutput();
    }

    @Test
    void localTwoGivesBitwiseTheSameOutputs() throws Exception {
        Path out = tmp.resolve("local2");
        List<String> a = args(out);
        a.addAll(List.of("--spark", "local[2]"));
        Cli.Result r = Cli.run(a.toArray(String[]::new));
        assertEquals(0, r.code(), r::describe);
        // analysis: 2 models x 1 group, then the pruning stage; evaluation (pruning given): 2 models x 2 groups
        assertTrue(r.err().contains("Apache Spark 4.0.4, master local[2], 8 tasks in 3 stages"), r::describe);
        assertTrue(Files.isRegularFile(out.resolve("lns-step141/eval.json")), r::describe);
        SameOutputs.assertSame(single, out);
    }

    /** Groups of 3 + 1 windows instead of 4 (and the evaluation's cut likewise): every number is still bitwise. */
    @Test
    void smallerTasksGiveBitwiseTheSameOutputs() throws Exception {
        Path out = tmp.resolve("pertask");
        List<String> a = args(out);
        a.addAll(List.of("--spark", "local[2]", "--windows-per-task", "3"));
        Cli.Result r = Cli.run(a.toArray(String[]::new));
        assertEquals(0, r.code(), r::describe);
        assertTrue(r.err().contains(" tasks in 3 stages"), r::describe);
        SameOutputs.assertSameInOtherGroups(single, out);
    }

    @Test
    void aBadCheckpointAmongManyFailsTheRunNamingIt() throws Exception {
        Path dir = Files.createDirectories(tmp.resolve("bad-among-many"));
        Path a = BadModels.llama(dir, "a");
        Path b = BadModels.llama(dir, "b");
        Path c = BadModels.llama(dir, "c");
        BadModels.rewrite(b, w -> w.get("model.layers.2.mlp.down_proj.weight")[17] = Float.NaN);
        Path ids = BadModels.ids(dir.resolve("ids.json"), 64);
        Path list = Files.writeString(dir.resolve("models.txt"), a + "\n" + b + "\n" + c + "\n");
        Path out = dir.resolve("out");
        List<String> args = List.of("analyze", "--models-from", list.toString(), "--ids", ids.toString(), "--window", "32",
                "--prune", "1", "-o", out.toString(), "--spark", "local[2]");
        Cli.assertError(Cli.run(args.toArray(String[]::new)), 3, "b/model.safetensors", "model.layers.2.mlp.down_proj.weight",
                "--allow-nan");
        Cli.assertNothingLeft(out);

        List<String> keepGoing = new ArrayList<>(args);
        keepGoing.add("--keep-going");
        Cli.Result r = Cli.run(keepGoing.toArray(String[]::new));
        assertEquals(0, r.code(), r::describe);
        assertTrue(r.err().contains("depthlens: warning: skipped b: "), r::describe);
        assertTrue(Files.isRegularFile(out.resolve("a/metrics.json")) && Files.isRegularFile(out.resolve("c/metrics.json")));
        assertFalse(Files.exists(out.resolve("b")));
    }

    @Test
    void keepGoingWithoutSparkToo(@TempDir Path dir) throws Exception {
        Path a = BadModels.llama(dir, "a");
        Path b = BadModels.llama(dir, "b");
        BadModels.rewrite(b, w -> w.get("model.layers.2.mlp.down_proj.weight")[17] = Float.NaN);
        Path ids = BadModels.ids(dir.resolve("ids.json"), 64);
        Path out = dir.resolve("out");
        Cli.Result r = Cli.run("analyze", "-m", a.toString(), "-m", b.toString(), "--ids", ids.toString(), "--window", "32",
                "--prune", "1", "-o", out.toString(), "--keep-going");
        assertEquals(0, r.code(), r::describe);
        assertTrue(r.err().contains("depthlens: warning: skipped b: "), r::describe);
        assertTrue(Files.isRegularFile(out.resolve("a/metrics.json")));
        assertFalse(Files.exists(out.resolve("b")));
    }
}
