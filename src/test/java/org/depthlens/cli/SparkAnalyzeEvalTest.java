package org.depthlens.cli;

import org.depthlens.Fixtures;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * {@code analyze --tasks/--docs --spark local[2]} against the same run in one process: the analysis, then the
 * evaluation with the pruning the analysis chose, as a second round of Spark stages in the same context. Two
 * tiny-curse checkpoints, non-default probe switches (they must reach the executors): metrics.json, eval.json, the
 * CSVs, charts and report.html the same, every number bitwise.
 */
class SparkAnalyzeEvalTest {
    @Test
    void analyzeWithTasksAndDocsOnSparkEqualsOneProcess(@TempDir Path tmp) throws Exception {
        Path tc = Fixtures.tinyCurse();
        Path root = Path.of(System.getProperty("depthlens.root", "."));
        List<String> cloze = Files.readAllLines(root.resolve("sample-configs/tasks/tech-cloze.jsonl"));
        Path tasks = Files.write(tmp.resolve("cloze4.jsonl"), cloze.subList(0, 4));
        Path docs = Files.writeString(tmp.resolve("docs.txt"), "The driver registers an interrupt handler.\n\n"
                + "Each process has a unique process ID, and the kernel keeps a table of them.\n");
        List<String> common = List.of("analyze", "-m", tc.resolve("pre_ln-step141").toString(), "-m",
                tc.resolve("lns-step141").toString(), "--ids", tc.resolve("validation_ids.json").toString(), "--window", "64",
                "--max-windows", "4", "--prune", "2", "--sublayer-removal", "--no-jacobian", "--tasks", tasks.toString(),
                "--docs", docs.toString(), "--max-length", "64");
        Path single = tmp.resolve("single");
        List<String> a = new ArrayList<>(common);
        a.addAll(List.of("-o", single.toString()));
        Cli.Result r1 = Cli.run(a.toArray(String[]::new));
        assertEquals(0, r1.code(), r1::describe);
        assertTrue(Files.isRegularFile(single.resolve("lns-step141/eval.json")), r1::describe);

        Path spark = tmp.resolve("spark");
        List<String> b = new ArrayList<>(common);
        b.addAll(List.of("-o", spark.toString(), "--spark", "local[2]"));
        Cli.Result r2 = Cli.run(b.toArray(String[]::new));
        assertEquals(0, r2.code(), r2::describe);
        // analysis: 2 models x 1 group in the first stage, the pruning stage; evaluation: 2 models x 1 group
        assertTrue(r2.err().contains(" tasks in 3 stages"), r2::describe);
        r2.err().lines().filter(l -> l.contains("evaluated") || l.contains("tasks in")).forEach(l -> System.err.println("SparkAnalyzeEvalTest: " + l));
        SameOutputs.assertSame(single, spark);
    }
}
