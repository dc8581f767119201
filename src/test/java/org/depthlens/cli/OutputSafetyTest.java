package org.depthlens.cli;

import org.depthlens.ExitCodes;
import org.depthlens.util.AtomicDir;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.stream.Stream;

import static org.depthlens.cli.Cli.assertError;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Outputs can never hit inputs (docs/errors.md, "Outputs never touch inputs"): every command that writes refuses,
 * with exit 2 and one line naming the option and the path, an output that is, contains or lies inside an input, the
 * current directory, the home directory, a filesystem root or an empty path; and {@code --force} replaces only what
 * depthlens wrote. Each case checks that every file under the test folder is byte for byte what it was.
 */
class OutputSafetyTest {
    static final int USAGE = ExitCodes.USAGE;

    @TempDir
    Path tmp;
    Path model;
    Path ids;

    @BeforeEach
    void setUp() {
        model = BadModels.llama(tmp, "llama");
        ids = BadModels.ids(tmp.resolve("ids.json"), 200);
    }

    private List<String> analyze(String out, String... extra) {
        List<String> a = new ArrayList<>(List.of("analyze", "-m", model.toString(), "--ids", ids.toString(), "--window", "32",
                "--max-windows", "1", "--prune", "1", "--no-jacobian", "--no-logit-lens", "-o", out));
        a.addAll(List.of(extra));
        return a;
    }

    /** Runs {@code args}, expects a usage error naming every fragment, and nothing under the test folder changed. */
    private String refused(List<String> args, String... fragments) {
        Map<String, String> before = snapshot(tmp);
        String line = assertError(Cli.run(args.toArray(String[]::new)), USAGE, fragments);
        assertEquals(before, snapshot(tmp), "a refused run changed files: " + line);
        return line;
    }

    /** Relative path -> SHA-256 of every file (and "dir" for folders) under {@code root}. */
    static Map<String, String> snapshot(Path root) {
        Map<String, String> out = new TreeMap<>();
        try (Stream<Path> s = Files.walk(root)) {
            for (Path p : (Iterable<Path>) s::iterator) {
                String key = root.relativize(p).toString();
                if (Files.isSymbolicLink(p)) out.put(key, "link " + Files.readSymbolicLink(p));
                else if (Files.isDirectory(p)) out.put(key, "dir");
                else out.put(key, HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(Files.readAllBytes(p))));
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        } catch (java.security.NoSuchAlgorithmException e) {
            throw new AssertionError(e);
        }
        return out;
    }

    @Test
    void outputIsTheModelOrHoldsIt() {
        refused(analyze(model.toString(), "--force"), "--out " + model, "is the input --model");
        refused(analyze(tmp.toString(), "--force"), "--out " + tmp, "contains the input --model");
        refused(analyze(model.resolve("sub").toString(), "--force"), "lies inside the input --model");
        refused(analyze(model.resolve("sub/..").toString(), "--force"), "is the input --model");
        refused(analyze(model + "/"), "is the input --model");
    }

    @Test
    void outputThroughASymlinkToTheModel() throws Exception {
        Path link = Files.createSymbolicLink(tmp.resolve("link"), model);
        refused(analyze(link.toString(), "--force"), "--out " + link, "is the input --model");
        Path up = Files.createSymbolicLink(tmp.resolve("up"), tmp);
        refused(analyze(up.toString(), "--force"), "contains the input --model");
    }

    @Test
    void emptyOutputPath() {
        refused(analyze("", "--force"), "--out is an empty path");
        refused(List.of("synth", "--shape", "llama-3.2-1b", "--layers", "1", "-o", "", "--force"), "--out is an empty path");
        refused(List.of("trace", "-m", model.toString(), "--ids", ids.toString(), "-o", "", "--force"), "--out is an empty path");
    }

    @Test
    void currentHomeAndRootDirectories() {
        Path cwd = Path.of("").toAbsolutePath();
        refused(analyze(cwd.toString(), "--force"), "--out " + cwd, "current directory");
        refused(analyze(".", "--force"), "--out .", "current directory");
        refused(analyze(cwd.getParent().toString(), "--force"), "current directory");
        String home = System.getProperty("user.home");
        if (!Path.of("").toAbsolutePath().startsWith(Path.of(home))) {
            refused(analyze(home, "--force"), "--out " + home, "home directory");
        } else {
            refused(analyze(home, "--force"), "--out " + home);
        }
        refused(analyze("/", "--force"), "--out /", "filesystem root");
        refused(List.of("synth", "--shape", "llama-3.2-1b", "--layers", "1", "-o", home, "--force"), "--out " + home);
        refused(List.of("fold-lns", "-m", model.toString(), "--lns", "on", "-o", ".", "--force"), "--out .", "current directory");
    }

    @Test
    void outputIsADataFileOrHoldsOne() throws Exception {
        refused(analyze(ids.toString(), "--force"), "--out " + ids, "is the input --ids");
        Path data = Files.createDirectories(tmp.resolve("data"));
        Path text = BadModels.write(data.resolve("t.txt"), "some text");
        Path tasks = BadModels.write(data.resolve("tasks.jsonl"), "{\"context\": \"a\", \"choices\": [\"b\", \"c\"], \"gold\": 0}\n");
        refused(List.of("analyze", "-m", model.toString(), "--text", text.toString(), "-o", data.toString(), "--force"),
                "--out " + data, "contains the input --text");
        refused(List.of("eval", "-m", model.toString(), "--tasks", tasks.toString(), "-o", data.toString(), "--force"),
                "contains the input --tasks");
        refused(List.of("eval", "-m", model.toString(), "--docs", text.toString(), "-o", text.toString(), "--force"),
                "is the input --docs");
        refused(List.of("analyze", "-m", model.toString(), "--ids", ids.toString(), "--tasks", tasks.toString(), "-o",
                data.resolve("tasks.jsonl/x").toString()), "lies inside the input --tasks");
    }

    @Test
    void modelsFromListAndItsFolders() throws Exception {
        Path lists = Files.createDirectories(tmp.resolve("lists"));
        Path list = BadModels.write(lists.resolve("models.txt"), model + "\n");
        refused(List.of("analyze", "--models-from", list.toString(), "--ids", ids.toString(), "-o", lists.toString(), "--force"),
                "--out " + lists, "contains the input --models-from");
        refused(List.of("analyze", "--models-from", tmp.resolve("lla*").toString(), "--ids", ids.toString(), "-o",
                model.resolve("out").toString()), "lies inside the input --models-from " + model);
    }

    @Test
    void runConfigOutputIsItsOwnFolder() {
        Path run = tmp.resolve("run");
        Path config = BadModels.write(run.resolve("run.json"),
                "{\"model\": \"../llama\", \"ids\": \"../ids.json\", \"window\": 32, \"out\": \".\", \"force\": true}");
        refused(List.of("analyze", "--config", config.toString()), config + ": 'out' " + run, "contains the input --config");
        BadModels.write(config, "{\"model\": \"../llama\", \"ids\": \"../ids.json\", \"window\": 32, \"out\": \"../llama\", \"force\": true}");
        refused(List.of("analyze", "--config", config.toString()), config + ": 'out'", "is the input");
        BadModels.write(config, "{\"model\": \"../llama\", \"tasks\": \"../ids.json\", \"out\": \"..\", \"force\": true}");
        refused(List.of("eval", "--config", config.toString()), config + ": 'out'", "contains the input");
        BadModels.write(config, "{\"model\": \"../llama\", \"ids\": \"../ids.json\", \"out\": \"\", \"force\": true}");
        Map<String, String> before = snapshot(tmp);
        assertError(Cli.run("analyze", "--config", config.toString()), ExitCodes.BAD_INPUT, config.toString(), "'out' is an empty path");
        assertEquals(before, snapshot(tmp));
    }

    @Test
    void traceOntoTheWeightsOrTheIds() {
        Path weights = model.resolve("model.safetensors");
        refused(List.of("trace", "-m", model.toString(), "--ids", ids.toString(), "-o", weights.toString(), "--force"),
                "--out " + weights, "lies inside the input --model");
        refused(List.of("trace", "-m", model.toString(), "--ids", ids.toString(), "-o", ids.toString(), "--force"),
                "--out " + ids, "is the input --ids");
        refused(List.of("fold-lns", "-m", model.toString(), "--lns", "on", "-o", model.resolve("folded").toString()),
                "lies inside the input --model");
    }

    @Test
    void forceReplacesOnlyWhatDepthlensWrote() throws Exception {
        Path foreign = Files.createDirectories(tmp.resolve("mine"));
        BadModels.write(foreign.resolve("thesis.tex"), "years of work");
        refused(analyze(foreign.toString(), "--force"), "--force", foreign.toString(), "not a folder depthlens wrote");
        Path file = BadModels.write(tmp.resolve("notes.safetensors"), "not a trace");
        refused(List.of("trace", "-m", model.toString(), "--ids", ids.toString(), "-o", file.toString(), "--force"),
                "--force", file.toString(), "not a file depthlens wrote");
        // another checkpoint (fold-lns and synth write safetensors too) is no trace either
        Path other = BadModels.llama(Files.createDirectories(tmp.resolve("o")), "other").resolve("model.safetensors");
        refused(List.of("trace", "-m", model.toString(), "--ids", ids.toString(), "-o", other.toString(), "--force"),
                "not a file depthlens wrote");

        Path out = tmp.resolve("out");
        assertEquals(0, Cli.run(analyze(out.toString()).toArray(String[]::new)).code());
        assertTrue(Files.isRegularFile(out.resolve(AtomicDir.MARKER)));
        BadModels.write(out.resolve("old.txt"), "old");
        Cli.Result r = Cli.run(analyze(out.toString(), "--force").toArray(String[]::new));
        assertEquals(0, r.code(), r::describe);
        assertFalse(Files.exists(out.resolve("old.txt")));
        assertTrue(Files.isRegularFile(out.resolve("llama/metrics.json")));
        BadInputTest.assertNothingLeftBeside(out);

        Path trace = tmp.resolve("t.safetensors");
        r = Cli.run("trace", "-m", model.toString(), "--ids", ids.toString(), "-o", trace.toString());
        assertEquals(0, r.code(), r::describe);
        r = Cli.run("trace", "-m", model.toString(), "--ids", ids.toString(), "-o", trace.toString(), "--force");
        assertEquals(0, r.code(), r::describe);
        BadInputTest.assertNothingLeftBeside(trace);
    }

    @Test
    void forceOntoASymlinkOrAnEmptyFolder() throws Exception {
        Path target = Files.createDirectories(tmp.resolve("elsewhere"));
        Path link = Files.createSymbolicLink(tmp.resolve("out-link"), target);
        refused(analyze(link.toString(), "--force"), "--force", "symbolic link");
        Path empty = Files.createDirectories(tmp.resolve("empty"));
        Cli.Result r = Cli.run(analyze(empty.toString(), "--force").toArray(String[]::new));
        assertEquals(0, r.code(), r::describe);
        assertTrue(Files.isRegularFile(empty.resolve("report.html")));
    }
}
