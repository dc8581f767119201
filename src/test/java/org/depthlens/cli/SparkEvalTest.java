package org.depthlens.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
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
 * {@code eval --spark local[2]} against the same evaluation in one process: two tiny-curse checkpoints, a task file
 * and documents, the removal sweep and pruning chosen on the evaluation's own sequences (a second Spark stage).
 * eval.json, the CSVs, charts and report are the same, every number bitwise. The inputs are small (8 cloze items, a
 * 1500-character slice of docs/metrics.md) but still make several groups of different lengths per model, so the
 * driver merges each model's parts from several tasks in both stages. The comparison includes every file's bootstrap
 * intervals (resampled items and documents), bitwise.
 */
class SparkEvalTest {
    @Test
    void localTwoGivesBitwiseTheSameOutputs(@TempDir Path tmp) throws Exception {
        Path tc = Fixtures.tinyCurse();
        Path root = Path.of(System.getProperty("depthlens.root", "."));
        Path docs = Files.writeString(tmp.resolve("docs.txt"),
                Files.readString(root.resolve("docs/metrics.md").toAbsolutePath().normalize()).substring(0, 1500));
        Path tasks = Files.write(tmp.resolve("cloze8.jsonl"),
                Files.readAllLines(root.resolve("sample-configs/tasks/tech-cloze.jsonl")).subList(0, 8));
        List<String> common = List.of("eval", "-m", tc.resolve("pre_ln-step141").toString(), "-m", tc.resolve("lns-step141").toString(),
                "--tasks", tasks.toString(), "--docs", docs.toString(),
                "--max-length", "128", "--prune", "2");
        Path single = tmp.resolve("single");
        List<String> a = new ArrayList<>(common);
        a.addAll(List.of("-o", single.toString()));
        Cli.Result r1 = Cli.run(a.toArray(String[]::new));
        assertEquals(0, r1.code(), r1::describe);

        Path spark = tmp.resolve("spark");
        List<String> b = new ArrayList<>(common);
        b.addAll(List.of("-o", spark.toString(), "--spark", "local[2]"));
        Cli.Result r2 = Cli.run(b.toArray(String[]::new));
        assertEquals(0, r2.code(), r2::describe);
        // 2 models x 4 groups (of different lengths) in each of the two stages
        assertTrue(r2.err().contains("Apache Spark 4.0.4, master local[2], 16 tasks in 2 stages"), r2::describe);
        SameOutputs.assertSame(single, spark);
        // the comparison covers the intervals: every file of every model has them (item and document bootstrap)
        for (String label : List.of("pre_ln-step141", "lns-step141")) {
            JsonNode j = new ObjectMapper().readTree(spark.resolve(label).resolve("eval.json").toFile());
            for (JsonNode f : List.of(j.get("tasks").get("cloze8.jsonl"), j.get("perplexity").get("docs.txt"))) {
                JsonNode ci = f.get("uncertainty").get("ci95");
                assertEquals(24, ci.get("removal.without." + (f.has("acc") ? "acc" : "token_ppl")).size(), label);
                assertEquals(2, ci.get("pruned." + (f.has("acc") ? "acc_norm" : "bits_per_byte")).size(), label);
            }
        }
    }
}
