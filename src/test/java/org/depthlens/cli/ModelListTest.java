package org.depthlens.cli;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

import static org.depthlens.cli.Cli.assertError;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** --models-from: a list file or a glob gives the checkpoints of a trajectory, in order; bad lists are one line each. */
class ModelListTest {
    @Test
    void listFileWithLabelsCommentsAndRelativeFolders(@TempDir Path dir) throws Exception {
        for (String s : List.of("a", "b", "c")) Files.createDirectories(dir.resolve("run/" + s));
        Path list = dir.resolve("run/models.txt");
        Files.writeString(list, "# checkpoints of one run\n\na\t1k steps\nb\n" + dir.resolve("run/c") + "\tlast\n");
        List<ModelSpec> m = ModelList.read(list.toString());
        assertEquals(List.of(new ModelSpec(dir.resolve("run/a"), "1k steps"), new ModelSpec(dir.resolve("run/b"), "b"),
                new ModelSpec(dir.resolve("run/c"), "last")), m);
    }

    @Test
    void globInNaturalOrder(@TempDir Path dir) throws Exception {
        for (String s : List.of("step10", "step2", "step100", "step1", "other")) Files.createDirectories(dir.resolve(s));
        Files.writeString(dir.resolve("step3"), "a file, not a model folder");
        List<String> labels = ModelList.read(dir.resolve("step*").toString()).stream().map(ModelSpec::label).toList();
        assertEquals(List.of("step1", "step2", "step10", "step100"), labels);
        assertTrue(ModelList.natural("ckpt-007", "ckpt-10") < 0);
        assertTrue(ModelList.natural("a2b10", "a2b9") > 0);
    }

    @TempDir
    Path dir;

    @Test
    void badModelLists() throws Exception {
        Path list = dir.resolve("models.txt");
        Files.writeString(list, "# two checkpoints\n" + dir.resolve("nope") + "\n");
        Path out = dir.resolve("out");
        assertError(Cli.run("analyze", "--models-from", list.toString(), "--text", list.toString(), "-o", out.toString()), 3,
                "models.txt: line 2: --models-from: ", "nope is not a folder");
        assertError(Cli.run("analyze", "--models-from", dir.resolve("missing.txt").toString(), "--text", list.toString(), "-o",
                out.toString()), 3, "missing.txt: --models-from: cannot read");
        assertError(Cli.run("eval", "--models-from", dir.resolve("ckpt-*").toString(), "--docs", list.toString(), "-o",
                out.toString()), 3, "ckpt-*: --models-from: the pattern matches no folder");
        Files.writeString(list, "# nothing\n");
        assertError(Cli.run("analyze", "--models-from", list.toString(), "--text", list.toString(), "-o", out.toString()), 3,
                "models.txt: --models-from: the file names no model folder");
        Cli.assertNothingLeft(out);
    }
}
