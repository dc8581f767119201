package org.depthlens.cli;

import org.depthlens.ExitCodes;
import org.depthlens.Fixtures;
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
 * The options that must fit every model (a {@code --prune K} given, a {@code --max-length} for tasks and documents)
 * are checked in one place ({@link JobDriver#fitting}) for {@code analyze}, {@code analyze --tasks/--docs} and
 * {@code eval}, here or on Spark: the same one line on the model's config.json, exit 3, nothing written and Spark
 * never started; with {@code --keep-going} the same model is left out and named in skipped.json.
 */
class JobFittingTest {
    @TempDir
    Path tmp;

    @Test
    void aModelTheOptionsDoNotFitIsRefusedTheSameWayByEveryCommand() throws Exception {
        Path tc = Fixtures.tinyCurse().resolve("pre_ln"); // 24 blocks, a context of 256, a tokenizer
        Path small = BadModels.llama(tmp, "small"); // 4 blocks, a context of 128
        Path ids = BadModels.ids(tmp.resolve("ids.json"), 64);
        Path docs = BadModels.write(tmp.resolve("docs.txt"), "The driver registers an interrupt handler.");
        String config = small.resolve("config.json").toString();
        List<String> analyze = List.of("analyze", "-m", tc.toString(), "-m", small.toString(), "--ids", ids.toString(), "--window",
                "32", "--max-windows", "1", "--no-jacobian", "--no-logit-lens");
        List<String> eval = List.of("eval", "-m", tc.toString(), "-m", small.toString(), "--docs", docs.toString());
        List<String> tooDeep = List.of("--prune", "5");
        List<String> tooLong = List.of("--max-length", "200");
        String[] deep = {config, "--prune 5 is more than the model's 4 blocks", "num_hidden_layers"};
        String[] longer = {config, "--max-length 200 exceeds the model's context of 128", "max_position_embeddings"};

        int n = 0;
        for (List<String> command : List.of(analyze, eval)) {
            for (boolean spark : new boolean[] {false, true}) {
                for (List<String> option : List.of(tooDeep, tooLong)) {
                    Path out = tmp.resolve("out" + n++);
                    List<String> more = new ArrayList<>(spark ? List.of("--spark", "local[1]") : List.of());
                    // analyze reads --max-length only with --tasks or --docs
                    if (command == analyze && option == tooLong) more.addAll(List.of("--docs", docs.toString()));
                    Cli.Result r = Cli.run(args(command, option, out, more).toArray(String[]::new));
                    Cli.assertError(r, ExitCodes.BAD_INPUT, option == tooDeep ? deep : longer);
                    assertFalse(r.err().contains("CPU(s) per task"), () -> "Spark started before the check\n" + r.describe());
                    Cli.assertNothingLeft(out);
                }
            }
        }

        for (List<String> run : List.of(args(analyze, tooDeep, tmp.resolve("kept-analyze"), List.of("--keep-going")),
                args(eval, tooLong, tmp.resolve("kept-eval"), List.of("--keep-going")))) {
            Path out = Path.of(run.get(run.indexOf("-o") + 1));
            Cli.Result r = Cli.run(run.toArray(String[]::new));
            assertEquals(0, r.code(), r::describe);
            assertTrue(r.err().contains("depthlens: warning: skipped small: " + config + ": --"), r::describe);
            assertFalse(Files.exists(out.resolve("small")), r::describe);
            String skipped = Files.readString(out.resolve(Skips.FILE));
            assertTrue(skipped.contains("\"small\"") && skipped.contains(small.toString()), skipped);
        }
    }

    private static List<String> args(List<String> command, List<String> option, Path out, List<String> more) {
        List<String> a = new ArrayList<>(command);
        a.addAll(option);
        a.addAll(List.of("-o", out.toString()));
        a.addAll(more);
        return a;
    }
}
