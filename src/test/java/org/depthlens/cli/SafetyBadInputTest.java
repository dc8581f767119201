package org.depthlens.cli;

import org.depthlens.ExitCodes;
import org.depthlens.Fixtures;
import org.depthlens.weights.TorchZip;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

import static org.depthlens.cli.Cli.assertError;
import static org.depthlens.cli.Cli.assertNothingLeft;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Bad inputs of issue 21 beyond the output paths (OutputSafetyTest): integrity of .bin storages, contradictory norm
 * options, skipped models, text that is not UTF-8, duplicate keys, non-regular files, and the inputs that used to end
 * in a stack trace or a hang. Rows of docs/errors.md; the CLI runs in this JVM ({@link Main#run}).
 */
class SafetyBadInputTest {
    static final int BAD = ExitCodes.BAD_INPUT;
    static final int USAGE = ExitCodes.USAGE;

    @TempDir
    Path tmp;
    Path model;
    Path ids;
    Path out;

    @BeforeEach
    void setUp() {
        model = BadModels.llama(tmp, "llama");
        ids = BadModels.ids(tmp.resolve("ids.json"), 200);
        out = tmp.resolve("out");
    }

    /** BadModels.analyze without the Jacobian and lens probes (these cases are about inputs, not probes; fewer passes run). */
    private Cli.Result analyze(Path m, String... extra) {
        List<String> a = new ArrayList<>(List.of("--no-jacobian", "--no-logit-lens"));
        a.addAll(List.of(extra));
        return BadModels.analyze(m, ids, out, a.toArray(String[]::new));
    }

    /** A copy of a Curse-of-Depth-code checkpoint (pytorch_model.bin, 2 blocks... as saved by torch). */
    private Path lnsCodeModel(String fixture) throws Exception {
        Path src = Fixtures.lnsCode(fixture).resolve("model"), dst = Files.createDirectories(tmp.resolve(fixture));
        try (var s = Files.list(src)) {
            for (Path p : (Iterable<Path>) s::iterator) Files.copy(p, dst.resolve(p.getFileName()), StandardCopyOption.REPLACE_EXISTING);
        }
        for (Path p : List.of(dst, dst.resolve("config.json"), dst.resolve("pytorch_model.bin"))) p.toFile().setWritable(true);
        return dst;
    }

    // ---- .bin integrity ----

    @Test
    void binStorageChangedWithStaleCrc() throws Exception {
        Path m = lnsCodeModel("pre");
        Path bin = m.resolve("pytorch_model.bin");
        byte[] file = Files.readAllBytes(bin);
        Map<String, byte[]> entries = TorchZip.read(bin);
        String storage = entries.keySet().stream().filter(n -> n.contains("/data/") && entries.get(n).length >= 1024).findFirst().orElseThrow();
        byte[] data = entries.get(storage);
        int at = indexOf(file, data);
        assertTrue(at > 0, "storage bytes found in the file");
        file[at + 100] ^= 0x10; // one bit of one weight; the zip's CRC-32 stays the old one
        Files.write(bin, file);
        Path idsFile = Fixtures.lnsCode("pre").resolve("ids.json");
        Path trace = tmp.resolve("t.safetensors");
        assertError(Cli.run("trace", "-m", m.toString(), "--ids", idsFile.toString(), "-o", trace.toString()), BAD,
                bin.toString(), "zip entry '" + storage + "'", "does not match its CRC-32");
        assertNothingLeft(trace);
        // prune copies the weights it keeps: it reads them through the same check
        Path export = tmp.resolve("export");
        assertError(Cli.run("prune", "-m", m.toString(), "--drop", "1", "--no-verify", "-o", export.toString()), BAD,
                bin.toString(), "does not match its CRC-32");
        assertNothingLeft(export);
    }

    // ---- contradictory norm options, POST_NUM bounds ----

    @Test
    void postNumWithAFormWithoutPostNum() {
        Path mix = Fixtures.lnsCode("mix_post_pre").resolve("model");
        assertError(Cli.run("inspect", "-m", mix.toString(), "--norm-type", "pre", "--post-num", "2"), USAGE,
                "--post-num 2 with --norm-type pre", "no POST_NUM");
        assertError(Cli.run("trace", "-m", mix.toString(), "--ids", ids.toString(), "-o", out.toString(), "--norm-type", "deeppost",
                "--post-num", "1"), USAGE, "--post-num 1 with --norm-type deeppost");
        assertNothingLeft(out);
        // auto: the tensors of a Pre-LN model show no POST_NUM either (bad input: the files contradict the flag)
        assertError(Cli.run("inspect", "-m", model.toString(), "--post-num", "2"), BAD, model.toString(),
                "--post-num 2 but the blocks are NORM_TYPE pre");
    }

    @Test
    void lnsContradictingNormType() {
        Path post = Fixtures.lnsCode("post").resolve("model");
        assertError(Cli.run("inspect", "-m", post.toString(), "--lns", "on", "--norm-type", "post"), USAGE,
                "--lns on with --norm-type post");
        assertError(analyze(model, "--lns", "off", "--norm-type", "LNS"), USAGE, "--lns off with --norm-type LNS");
        assertNothingLeft(out);
    }

    @Test
    void postNumMoreThanTheBlocks() {
        Path mix = Fixtures.lnsCode("mix_post_pre").resolve("model");
        assertError(Cli.run("inspect", "-m", mix.toString(), "--norm-type", "post_pre", "--post-num", "7"), BAD,
                mix.resolve("config.json").toString(), "--post-num 7 is more than the model's 6 blocks", "num_hidden_layers");
        Path m = org.depthlens.LnsCode.withConfigKeys("mix_post_pre", "post_pre", 100, tmp);
        assertError(Cli.run("inspect", "-m", m.toString()), BAD, m.resolve("config.json").toString(), "post_num 100",
                "num_hidden_layers 6");
    }

    // ---- --keep-going, text, duplicate keys ----

    @Test
    void keepGoingSkippedModelIsNamedInTheReport() throws Exception {
        Path bad = BadModels.llama(Files.createDirectories(tmp.resolve("b")), "broken");
        BadModels.editConfig(bad, c -> c.put("num_key_value_heads", 3));
        Path nan = BadModels.llama(Files.createDirectories(tmp.resolve("n")), "poisoned");
        BadModels.rewrite(nan, w -> w.get("model.layers.2.mlp.down_proj.weight")[17] = Float.NaN);
        Cli.Result r = Cli.run("analyze", "-m", model.toString(), "-m", bad.toString(), "-m", nan.toString(), "--ids", ids.toString(),
                "--window", "32", "--max-windows", "1", "--prune", "1", "--no-jacobian", "--no-logit-lens", "-o", out.toString(), "--keep-going");
        assertEquals(0, r.code(), r::describe);
        String html = Files.readString(out.resolve("report.html"));
        assertTrue(html.contains("<h1>depthlens: llama (broken, poisoned skipped: --keep-going)</h1>"), "title");
        assertTrue(html.contains("Models left out") && html.contains("num_key_value_heads 3") && html.contains("non-finite"), "note");
        String skipped = Files.readString(out.resolve("skipped.json"));
        assertTrue(skipped.contains("\"broken\"") && skipped.contains("\"poisoned\"") && skipped.contains(bad.toString()), skipped);
        assertTrue(Files.isRegularFile(out.resolve("llama/metrics.json")));
        assertTrue(Files.notExists(out.resolve("broken")) && Files.notExists(out.resolve("poisoned")));
        // a model labelled like the list gets another folder (it failed the whole run after computing: "Is a directory")
        Path out2 = tmp.resolve("out2");
        Cli.Result r2 = Cli.run("analyze", "-m", model.toString(), "-l", "skipped.json", "-m", bad.toString(), "--ids", ids.toString(),
                "--window", "32", "--max-windows", "1", "--prune", "1", "--no-jacobian", "--no-logit-lens", "-o", out2.toString(), "--keep-going");
        assertEquals(0, r2.code(), r2::describe);
        assertTrue(Files.isRegularFile(out2.resolve("skipped.json")) && Files.isRegularFile(out2.resolve("skipped.json-2/metrics.json")));
    }

    @Test
    void textNotUtf8() throws Exception {
        Path bin = tmp.resolve("binary.txt");
        Files.write(bin, new byte[] {'a', 'b', (byte) 0xC3, 0x28, 'c'});
        assertError(Cli.run("analyze", "-m", model.toString(), "--text", bin.toString(), "-o", out.toString()), BAD, bin.toString(),
                "not UTF-8 text", "offset 2");
        assertNothingLeft(out);
        Path folder = Files.createDirectories(tmp.resolve("texts"));
        Files.copy(bin, folder.resolve("b.txt"));
        assertError(Cli.run("analyze", "-m", model.toString(), "--text", folder.toString(), "-o", out.toString()), BAD,
                folder.resolve("b.txt").toString(), "not UTF-8 text");
        Path nul = tmp.resolve("nul.txt");
        Files.write(nul, new byte[] {'a', 0, 'b'});
        assertError(Cli.run("tokenize", "-m", model.toString(), "--text", nul.toString()), BAD, nul.toString(), "NUL byte");
        assertError(Cli.run("tokenize", "-m", model.toString(), "--text", bin.toString()), BAD, bin.toString(), "not UTF-8 text");
        assertError(Cli.run("tokenize", "-m", model.toString(), "--text", folder.toString()), BAD, folder.toString(), "is a folder");
        Path utf16 = tmp.resolve("utf16.txt");
        Files.write(utf16, new byte[] {(byte) 0xFF, (byte) 0xFE, 'h', 0, 'i', 0});
        assertError(Cli.run("analyze", "-m", model.toString(), "--text", utf16.toString(), "-o", out.toString()), BAD, utf16.toString(),
                "UTF-16 text", "convert it to UTF-8");
    }

    @Test
    void runConfigDuplicateKey() {
        Path config = BadModels.write(tmp.resolve("run.json"), "{\"model\": \"llama\", \"ids\": \"ids.json\", \"window\": 32, \"window\": 64}");
        assertError(Cli.run("analyze", "--config", config.toString()), BAD, config.toString(), "key 'window' appears twice");
        assertNothingLeft(tmp.resolve("out"));
    }

    @Test
    void configJsonDuplicateKey() throws Exception {
        Path c = model.resolve("config.json");
        Files.writeString(c, Files.readString(c).replaceFirst("\\{", "{\"num_hidden_layers\": 2, "));
        assertError(analyze(model), BAD, c.toString(), "key 'num_hidden_layers' appears twice");
    }

    @Test
    void runConfigBadValueNamesTheFile() {
        Path config = BadModels.write(tmp.resolve("run.json"), "{\"model\": \"llama\", \"ids\": \"ids.json\", \"window\": 1}");
        assertError(Cli.run("analyze", "--config", config.toString()), BAD, config + ": 'window' must be at least 2, got 1");
        BadModels.write(config, "{\"model\": \"llama\", \"tasks\": \"ids.json\", \"maxLength\": 0}");
        assertError(Cli.run("eval", "--config", config.toString()), BAD, config + ": 'maxLength' must be positive, got 0");
        // the command line still says --window
        assertError(Cli.run("analyze", "--config", config.toString().replace("run.json", "none.json")), BAD, "run config not found");
    }

    // ---- no exit 1, no stack trace ----

    @Test
    void idsSequenceOfOneToken() {
        BadModels.write(ids, "[[5]]");
        assertError(analyze(model), BAD, ids.toString(), "sequence 0 has 1 token", "at least 2");
        BadModels.write(ids, "[[5, 6, 7], [1]]");
        assertError(analyze(model), BAD, ids.toString(), "sequence 1 has 1 token");
        assertNothingLeft(out);
    }

    @Test
    void modelsFromBadGlob() throws Exception {
        Files.createDirectories(tmp.resolve("run/step1"));
        assertError(Cli.run("analyze", "--models-from", tmp.resolve("run/step[").toString(), "--ids", ids.toString(), "-o", out.toString()),
                USAGE, "--models-from", "run/step[", "not a valid glob");
    }

    @Test
    void sparkMasterOrSettingMalformed() {
        for (String m : List.of("local[abc]", "local[0]", "local[2,x]", "spark://head", "spark://head:99999", "mesos://x:5050")) {
            assertError(analyze(model, "--spark", m), USAGE, "--spark '" + m + "'");
        }
        assertError(analyze(model, "--spark", "local[1]", "--spark-conf", "spark.executor.memory=banana"), USAGE,
                "--spark-conf spark.executor.memory=banana", "a size such as");
        assertError(analyze(model, "--spark", "local[1]", "--spark-conf", "spark.task.cpus=two"), USAGE,
                "--spark-conf spark.task.cpus=two", "positive integer");
        // time settings: Spark failed half-started with its own stack traces (banana), or a heartbeat scheduler exception (0)
        assertError(analyze(model, "--spark", "local[1]", "--spark-conf", "spark.network.timeout=banana"), USAGE,
                "--spark-conf spark.network.timeout=banana", "a positive time");
        assertError(analyze(model, "--spark", "local[1]", "--spark-conf", "spark.executor.heartbeatInterval=0"), USAGE,
                "--spark-conf spark.executor.heartbeatInterval=0", "a positive time");
        assertNothingLeft(out);
    }

    @Test
    void sparkMasterUnreachable() {
        long t0 = System.nanoTime();
        assertError(analyze(model, "--spark", "spark://127.0.0.1:1"), BAD, "--spark spark://127.0.0.1:1", "cannot reach the Spark master");
        assertTrue((System.nanoTime() - t0) / 1e9 < 30, "fails fast");
        assertNothingLeft(out);
    }

    // ---- non-regular files, sizes before allocation ----

    @Test
    void configJsonNotARegularFile() throws Exception {
        Path c = model.resolve("config.json");
        Files.delete(c);
        Files.createSymbolicLink(c, Path.of("/dev/zero"));
        assertError(analyze(model), BAD, c.toString(), "not a regular file");
        Files.delete(c);
        Files.createDirectories(c);
        assertError(analyze(model), BAD, c.toString(), "is a folder");
        Files.delete(c);
        mkfifo(c);
        assertError(Cli.run("inspect", "-m", model.toString()), BAD, c.toString(), "not a regular file");
        assertNothingLeft(out);
    }

    @Test
    void dataFileNotARegularFile() throws Exception {
        Path fifo = mkfifo(tmp.resolve("fifo.json"));
        assertError(Cli.run("analyze", "-m", model.toString(), "--ids", fifo.toString(), "-o", out.toString()), BAD, fifo.toString(),
                "not a regular file");
        assertError(Cli.run("analyze", "-m", model.toString(), "--text", fifo.toString(), "-o", out.toString()), BAD, fifo.toString(),
                "not a regular file");
        Path run = mkfifo(tmp.resolve("run.json"));
        assertError(Cli.run("analyze", "--config", run.toString()), BAD, run.toString(), "not a regular file");
        assertError(Cli.run("analyze", "--models-from", fifo.toString(), "--ids", ids.toString(), "-o", out.toString()), BAD,
                fifo.toString(), "not a regular file");
        assertNothingLeft(out);
    }

    @Test
    void weightsOrTokenizerNotARegularFile() throws Exception {
        Path w = model.resolve("model.safetensors");
        Files.delete(w);
        mkfifo(w);
        assertError(Cli.run("inspect", "-m", model.toString()), BAD, w.toString(), "not a regular file");
        Files.delete(w);
        Files.createDirectories(model.resolve("tokenizer.json"));
        Path m2 = BadModels.llama(Files.createDirectories(tmp.resolve("t")), "llama2");
        Files.createDirectories(m2.resolve("tokenizer.json"));
        assertError(Cli.run("tokenize", "-m", m2.toString(), "--text", ids.toString()), BAD, m2.resolve("tokenizer.json").toString(),
                "is a folder");
    }

    @Test
    void shardNameIsAFolder() throws Exception {
        Path m = BadModels.llama(Files.createDirectories(tmp.resolve("s")), "sharded");
        Files.createDirectories(m.resolve("model-00002-of-00002.safetensors"));
        Files.move(m.resolve("model.safetensors"), m.resolve("model-00001-of-00002.safetensors"));
        Path index = BadModels.write(m.resolve("model.safetensors.index.json"), "{\"weight_map\": {\"model.embed_tokens.weight\": "
                + "\"model-00001-of-00002.safetensors\", \"lm_head.weight\": \"model-00002-of-00002.safetensors\"}}");
        assertError(Cli.run("inspect", "-m", m.toString()), BAD, index.toString(), "'model-00002-of-00002.safetensors'", "a folder");
    }

    @Test
    void synthTooLargeForTheDisk() {
        Path o = tmp.resolve("synth");
        long t0 = System.nanoTime();
        assertError(Cli.run("synth", "--shape", "llama-2-13b", "--layers", "2147483647", "-o", o.toString()), BAD, o.toString(),
                "--layers 2147483647", "are free there");
        assertTrue((System.nanoTime() - t0) / 1e9 < 30, "fails before describing 2^31 blocks");
        assertNothingLeft(o);
    }

    // ---- wording ----

    @Test
    void numHiddenLayersLargerThanTheBlocks() throws Exception {
        BadModels.editConfig(model, c -> c.put("num_hidden_layers", 6));
        assertError(analyze(model), BAD, model.resolve("config.json").toString(), "num_hidden_layers is 6",
                "no tensor of block 4", "disagree");
        assertError(Cli.run("inspect", "-m", model.toString(), "--norm-type", "pre"), BAD, "num_hidden_layers is 6");
        assertNothingLeft(out);
    }

    @Test
    void emptyStateDict() throws Exception {
        Path bin = model.resolve("pytorch_model.bin");
        Files.delete(model.resolve("model.safetensors"));
        TorchZip.write(bin, List.of(TorchZip.Entry.of("arch/data.pkl", TorchZip.stateDictPickle()),
                TorchZip.Entry.of("arch/version", "3\n".getBytes())), false);
        assertError(Cli.run("inspect", "-m", model.toString()), BAD, model.toString(), "no tensor at all");
    }

    @Test
    void storageOffsetPastItsStorage() throws Exception {
        Path bin = model.resolve("pytorch_model.bin");
        Files.delete(model.resolve("model.safetensors"));
        byte[] pkl = TorchZip.stateDictPickle(new Object[] {"w", "FloatStorage", "0", 4L, Long.MAX_VALUE, new long[] {2}, new long[] {1}});
        TorchZip.write(bin, List.of(TorchZip.Entry.of("arch/data.pkl", pkl), TorchZip.Entry.of("arch/data/0", new byte[16]),
                TorchZip.Entry.of("arch/version", "3\n".getBytes())), false);
        assertError(Cli.run("inspect", "-m", model.toString()), BAD, bin.toString(), "tensor 'w'", "storage offset " + Long.MAX_VALUE,
                "past the end of its storage 'arch/data/0' of 4 elements");
    }

    // ---- second round (adversarial probes of the fixes above) ----

    /**
     * A second JSON value after the first (two objects pasted together) was silently dropped by Jackson's default:
     * a config.json whose appended object changed a key ran on the first object alone. Python's json.load refuses it.
     */
    @Test
    void jsonWithTextAfterItsValue() throws Exception {
        Path c = model.resolve("config.json");
        String original = Files.readString(c);
        Files.writeString(c, original + "{\"hidden_act\": \"gelu_new\"}\n");
        assertError(Cli.run("inspect", "-m", model.toString()), BAD, c.toString(), "more text after the end of the first JSON value");
        Files.writeString(c, original);
        Path run = BadModels.write(tmp.resolve("run.json"), "{\"model\": \"llama\", \"ids\": \"ids.json\", \"out\": \"o\"} {\"force\": true}");
        assertError(Cli.run("analyze", "--config", run.toString()), BAD, run.toString(), "more text after the end of the first JSON value");
        Path two = BadModels.write(tmp.resolve("two.json"), "[[1, 2, 3]]\n[[4, 5, 6]]\n");
        assertError(Cli.run("analyze", "-m", model.toString(), "--ids", two.toString(), "-o", out.toString()), BAD, two.toString(),
                "more text after the end");
        Path tasks = BadModels.write(tmp.resolve("tasks.jsonl"), "{\"context\": \"a b\", \"choices\": [\"c\", \"d\"], \"gold\": 0} "
                + "{\"context\": \"e\", \"choices\": [\"f\", \"g\"], \"gold\": 1}\n");
        assertError(Cli.run("eval", "-m", model.toString(), "--tasks", tasks.toString(), "-o", out.toString()), BAD, tasks.toString(),
                "line 1", "more text after the end");
        assertNothingLeft(out);
    }

    /** Values of a run config are named in that file (exit 3) for the norm, Spark and --models-from options too. */
    @Test
    void runConfigNormSparkAndGlobValuesNameTheFile() throws Exception {
        Path mix = Fixtures.lnsCode("mix_post_pre").resolve("model");
        String head = "{\"model\": \"" + mix + "\", \"ids\": \"ids.json\", \"out\": \"o\", ";
        Path run = tmp.resolve("run.json");
        BadModels.write(run, head + "\"normType\": \"bogus\"}");
        assertError(Cli.run("analyze", "--config", run.toString()), BAD, run + ": 'normType' 'bogus' is not a NORM_TYPE");
        BadModels.write(run, head + "\"normType\": \"pre\", \"postNum\": 2}");
        assertError(Cli.run("analyze", "--config", run.toString()), BAD, run + ": 'postNum' 2 with 'normType' pre, which has no POST_NUM");
        BadModels.write(run, head + "\"normType\": \"post_pre\", \"postNum\": 7}");
        assertError(Cli.run("analyze", "--config", run.toString()), BAD, run + ": 'postNum' 7 is more than the 6 blocks of",
                mix.resolve("config.json").toString());
        BadModels.write(run, head + "\"lns\": \"on\", \"normType\": \"post\"}");
        assertError(Cli.run("analyze", "--config", run.toString()), BAD, run + ": 'lns' on with 'normType' post");
        BadModels.write(run, head + "\"spark\": \"local[abc]\"}");
        assertError(Cli.run("analyze", "--config", run.toString()), BAD, run + ": 'spark' 'local[abc]': local[N] wants N");
        BadModels.write(run, head + "\"spark\": \"local[1]\", \"sparkConf\": [\"spark.executor.memory=banana\"]}");
        assertError(Cli.run("analyze", "--config", run.toString()), BAD, run + ": 'sparkConf' spark.executor.memory=banana: a size");
        Files.createDirectories(tmp.resolve("run/step1"));
        BadModels.write(run, head.replace("\"model\": \"" + mix + "\", ", "") + "\"modelsFrom\": \"run/step[\"}");
        assertError(Cli.run("analyze", "--config", run.toString()), BAD, run + ": 'modelsFrom' '" + tmp.resolve("run/step[") + "' is not a valid glob");
        // the command line still gets usage errors, even beside a run config
        BadModels.write(run, head + "\"window\": 16}");
        assertError(Cli.run("analyze", "--config", run.toString(), "--norm-type", "pre", "--post-num", "2"), USAGE,
                "--post-num 2 with --norm-type pre");
        assertNothingLeft(tmp.resolve("o"));
    }

    /** Spark's own master patterns: no blank inside local[N] (Spark refused 'local[ 2 ]' with a stack trace, exit 1). */
    @Test
    void sparkMasterPatternsAreSparks() {
        for (String ok : List.of("local", "local[1]", "local[*]", "local[4,2]", "local[*, 3]", "local[2 ,3]", "spark://a:7077",
                "spark://a:7077,b:7078", "local-cluster[1, 1, 1024]", "yarn", "k8s://https://h:6443", "")) {
            assertEquals(null, SweepOptions.badMaster(ok), ok);
        }
        for (String bad : List.of("local[ 2 ]", "local[2 ]", "local[0]", "local[1,0]", "local[1,x]", "local[]", "local[2]x", "Local[2]")) {
            assertTrue(SweepOptions.badMaster(bad) != null, bad);
        }
        assertError(analyze(model, "--spark", "local[ 2 ]"), USAGE, "--spark 'local[ 2 ]'", "got ' 2 '");
    }

    /**
     * Settings only Spark can judge (more CPUs per task than local[N] threads): Spark's SparkException is checked,
     * so it escaped the RuntimeException catch (exit 1, stack trace). In its own JVM: Spark's loggers are per JVM.
     */
    @Test
    void sparkRefusesToStart() throws Exception {
        List<String> jvm = new ArrayList<>(List.of(System.getProperty("depthlens.spark.opens", "").trim().split("\\s+")));
        jvm.removeIf(String::isEmpty);
        Cli.Result r = Cli.runProcess(Cli.command(jvm, List.of("analyze", "-m", model.toString(), "--ids", ids.toString(), "--window", "32",
                "--max-windows", "1", "--no-jacobian", "--no-logit-lens", "-o", out.toString(), "--spark", "local[2]", "--spark-conf",
                "spark.task.cpus=4")), tmp, 300);
        assertError(r, BAD, "--spark local[2]: Spark did not start", "cpus per task = 4", "check --spark-conf spark.task.cpus=4");
        assertNothingLeft(out);
    }

    /** A family with one fixed block form (OLMo-2 here) refuses --post-num as it refuses --norm-type (it was ignored). */
    @Test
    void postNumOfAFamilyWithAFixedForm() {
        Path olmo2 = Fixtures.copyModel("olmo2", false, tmp);
        Path trace = tmp.resolve("trace.safetensors");
        assertError(Cli.run("trace", "-m", olmo2.toString(), "--ids", ids.toString(), "-o", trace.toString(), "--post-num", "2"), BAD,
                olmo2.toString(), "--post-num 2 does not apply", "olmo2 blocks are");
        assertNothingLeft(trace);
    }

    /** The launcher puts Spark on the class path for a run config holding a "spark" key, not for other configs. */
    @Test
    void launcherSeesSparkInARunConfig() throws Exception {
        Path root = Path.of(System.getProperty("depthlens.root", "."));
        String script = Files.readString(root.resolve("depthlens"));
        int from = script.indexOf("wants_spark() {"), to = script.indexOf("\n}\n", from);
        assertTrue(from >= 0 && to > from, "the launcher defines wants_spark");
        String fn = script.substring(from, to + 2);
        Path with = BadModels.write(tmp.resolve("with.json"), "{\"model\": \"m\",\n  \"spark\" : \"local[2]\"}");
        Path without = BadModels.write(tmp.resolve("without.json"), "{\"model\": \"m\", \"sparkConf\": []}");
        Map<List<String>, Integer> cases = Map.of(
                List.of("analyze", "--config", with.toString()), 0,
                List.of("analyze", "--config=" + with), 0,
                List.of("analyze", "--spark", "local[2]"), 0,
                List.of("analyze", "--config", without.toString()), 1,
                List.of("analyze", "-m", with.toString()), 1);
        for (Map.Entry<List<String>, Integer> e : cases.entrySet()) {
            List<String> cmd = new ArrayList<>(List.of("bash", "-c", fn + "\nwants_spark \"$@\"", "wants_spark"));
            cmd.addAll(e.getKey());
            Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
            String output = new String(p.getInputStream().readAllBytes());
            assertEquals(e.getValue(), p.waitFor(), e.getKey() + " " + output);
        }
    }

    /**
     * "modelsFrom" of a run config is relative to the config's folder like its other paths (it was taken relative to
     * the current folder, so the same config could analyse other checkpoints depending on where it was started).
     */
    @Test
    void runConfigModelsFromRelativeToTheConfig() throws Exception {
        Path exp = Files.createDirectories(tmp.resolve("exp"));
        BadModels.llama(Files.createDirectories(exp.resolve("run")), "step1");
        BadModels.ids(exp.resolve("ids.json"), 200);
        Path run = BadModels.write(exp.resolve("run.json"), "{\"modelsFrom\": \"run/step*\", \"ids\": \"ids.json\", \"window\": 32, "
                + "\"maxWindows\": 1, \"prune\": 1, \"jacobian\": false, \"logitLens\": false, \"out\": \"o\"}");
        Cli.Result r = Cli.run("analyze", "--config", run.toString());
        assertEquals(0, r.code(), r::describe);
        assertTrue(Files.isRegularFile(exp.resolve("o/step1/metrics.json")));
    }

    /**
     * An analysis run with relative paths records its data absolutely (as it does the model), so prune
     * --from-analysis started elsewhere finds and verifies on it (it looked for the data beside metrics.json).
     */
    @Test
    void pruneFromAnAnalysisGivenRelativePaths() throws Exception {
        Cli.Result a = Cli.runProcess(Cli.command(List.of(), List.of("analyze", "-m", "llama", "--ids", "ids.json", "--window", "32",
                "--max-windows", "2", "--prune", "1", "--no-jacobian", "--no-logit-lens", "-o", "run")), tmp, 300);
        assertEquals(0, a.code(), a::describe);
        String dataPath = new com.fasterxml.jackson.databind.ObjectMapper().readTree(tmp.resolve("run/llama/metrics.json").toFile())
                .get("provenance").get("data_path").asText();
        assertEquals(ids.toAbsolutePath().normalize().toString(), dataPath);
        Cli.Result p = Cli.run("prune", "-m", model.toString(), "--from-analysis", tmp.resolve("run").toString(), "--n", "1", "-o", out.toString());
        assertEquals(0, p.code(), p::describe);
        assertTrue(Files.isRegularFile(out.resolve("model.safetensors")));
    }

    /** A FIFO or a link to a device among a --text folder's files is refused (it was silently left out of the data). */
    @Test
    void textFolderWithAFifo() throws Exception {
        Path folder = Files.createDirectories(tmp.resolve("texts"));
        Files.writeString(folder.resolve("a.txt"), "some text for the model to read, long enough");
        Path fifo = mkfifo(folder.resolve("b.txt"));
        assertError(Cli.run("analyze", "-m", model.toString(), "--text", folder.toString(), "-o", out.toString()), BAD, fifo.toString(),
                "not a regular file");
        Files.delete(fifo);
        Files.createSymbolicLink(folder.resolve("c.md"), Path.of("/dev/zero"));
        assertError(Cli.run("analyze", "-m", model.toString(), "--text", folder.toString(), "-o", out.toString()), BAD,
                folder.resolve("c.md").toString(), "not a regular file");
        assertNothingLeft(out);
    }

    /** bench --json overwrote any existing file (the ids, the weights of --analyze); now refused before any work. */
    @Test
    void benchJsonNeverOverwrites() throws Exception {
        byte[] before = Files.readAllBytes(ids);
        assertError(Cli.run("bench", "--skip-sgemm", "--skip-block", "--no-torch", "--json", ids.toString()), BAD, ids.toString(),
                "output already exists");
        assertTrue(java.util.Arrays.equals(before, Files.readAllBytes(ids)), "ids untouched");
        Path weights = model.resolve("model.safetensors");
        assertError(Cli.run("bench", "--skip-sgemm", "--skip-block", "--no-torch", "--analyze", model.toString(), "--json", weights.toString()),
                USAGE, "--json", "lies inside the input --analyze");
        Path fresh = tmp.resolve("figures.json");
        Cli.Result r = Cli.run("bench", "--skip-sgemm", "--skip-block", "--no-torch", "--json", fresh.toString());
        assertEquals(0, r.code(), r::describe);
        assertTrue(Files.readString(fresh).contains("\"threads\""));
    }

    @Test
    void pruneFromAnalysisNotARegularFile() throws Exception {
        Path fifo = mkfifo(tmp.resolve("metrics.json"));
        assertError(Cli.run("prune", "-m", model.toString(), "--from-analysis", fifo.toString(), "--n", "1", "-o", out.toString()), BAD,
                fifo.toString(), "not a regular file");
        assertNothingLeft(out);
    }

    static Path mkfifo(Path p) throws Exception {
        Process pr = new ProcessBuilder("mkfifo", p.toString()).inheritIO().start();
        assertEquals(0, pr.waitFor());
        return p;
    }

    static int indexOf(byte[] hay, byte[] needle) {
        outer:
        for (int i = 0; i <= hay.length - needle.length; i++) {
            for (int j = 0; j < needle.length; j++) if (hay[i + j] != needle[j]) continue outer;
            return i;
        }
        return -1;
    }
}
