package org.depthlens.cli;

import org.depthlens.BadInputException;
import org.depthlens.analysis.Analyzer;
import org.depthlens.analysis.MetricRegistry;
import org.depthlens.analysis.DataSource;
import org.depthlens.eval.EvalInputs;
import org.depthlens.model.family.Architecture;
import org.depthlens.util.OutputGuard;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;

@Command(name = "analyze", sortOptions = false, mixinStandardHelpOptions = true,
        description = {
                "Run every probe on one or more models and write metrics, tables, charts and one HTML report.",
                "",
                "Probes (definitions in docs/metrics.md): angular distance between every pair of depths (all tokens",
                "and last token), block influence, residual-stream variance / token variance / rms growth, update",
                "ratio, the loss, the loss with each single block removed (one pass over the weights, reusing the",
                "stream prefix) and Gromov-style contiguous pruning (a second pass). Beyond the paper, in the same pass:",
                "the logit lens and each block's Jacobian deviation (on by default; --no-logit-lens, --no-jacobian), the",
                "mean cosine between tokens' states at each depth (token-similarity, on), and the loss with only the",
                "attention or only the MLP of each block zeroed (--sublayer-removal; off by default, since it doubles the",
                "pass, on for the bundled demo). --probe / --no-probe NAME switch any of them by name.",
                "",
                "With no arguments it analyses the bundled pair models/tiny-curse-24/{pre_ln,lns} on the project's",
                "own docs/ (16 windows of 256 tokens) and writes analyses/<date>-pre_ln-lns/ plus reports/<same>.html.",
                ""},
        footerHeading = "%nExamples:%n",
        footer = {
                "  depthlens analyze",
                "  depthlens analyze --model ~/ckpt/llama-2-7b --text wiki.txt --max-windows 32",
                "  depthlens analyze -m run/pre_ln -l pre-ln -m run/lns -l lns --ids val_ids.json --window 256",
                "  depthlens analyze -m step1000 -m step2000 -m step4000 --text val.txt   (a trajectory over training)",
                "  depthlens analyze --models-from 'run/step*' --ids val_ids.json         (every checkpoint, natural order)",
                "  depthlens analyze --models-from run/ckpts.txt --ids val_ids.json --spark 'local[4]'",
                "  spark-submit ... target/depthlens.jar analyze --models-from 'run/step*' --ids val_ids.json --spark",
                "  depthlens analyze --config sample-configs/tiny-curse-pair.json",
                "  depthlens analyze -m run/pre_ln -m run/lns --ids val_ids.json --sublayer-removal   (attention vs MLP per block)",
                "  depthlens analyze -m ~/ckpt/llama-2-13b --text wiki.txt --no-probe logit-lens,jacobian,token-similarity   (the paper's probes only)",
                "  depthlens analyze -m run/pre_ln -m run/lns --text val.txt --docs val.txt --tasks sample-configs/tasks/tech-cloze.jsonl",
                "  depthlens analyze -m ck/pre -m ck/lns -m ck/post -m ck/mix --norm-type pre --norm-type LNS --norm-type auto \\",
                "      --norm-type auto --text val.txt   (Curse-of-Depth code checkpoints; post and Mix-LN are told by their norm tensors)",
                "",
                "Output (OUT is built in a temporary sibling folder and renamed into place when complete):",
                "  OUT/<label>/metrics.json   every metric, pruned_removal, expert_usage, provenance (hashes, versions)",
                "  OUT/<label>/per_block.csv, angular_all.csv, angular_last.csv, charts/*.png|svg",
                "  OUT/<label>/eval.json, eval_removal.csv, eval_pruned.csv   with --tasks/--docs (see 'depthlens eval --help')",
                "  OUT/compare/               overlays when several models are given",
                "  OUT/report.html            self-contained report (also copied to reports/ for default outputs)"})
public final class AnalyzeCommand extends CommonOptions implements Callable<Integer> {
    /** Windows of the bundled demo unless --max-windows says otherwise (docs/ holds more). */
    static final int BUNDLED_WINDOWS = 16;

    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @Option(names = {"-m", "--model"}, paramLabel = "DIR", description = "HF model folder (config.json + *.safetensors or pytorch_model.bin). Repeat to compare models.")
    List<Path> models = new ArrayList<>();

    @Option(names = {"-l", "--label"}, paramLabel = "NAME", description = "Label of the n-th --model (default: its folder name).")
    List<String> labels = new ArrayList<>();

    @Option(names = "--text", paramLabel = "FILE|DIR",
            description = "Text to evaluate on, tokenized with each model's tokenizer.json (a folder: its *.md/*.txt joined).")
    Path text;

    @Option(names = "--ids", paramLabel = "FILE",
            description = "JSON token ids: a flat list (cut into --window windows, tail dropped) or a list of sequences (used as is).")
    Path ids;

    @Option(names = "--window", paramLabel = "N", description = "Tokens per window (default: ${DEFAULT-VALUE}).", defaultValue = "256")
    int window;

    @Option(names = "--max-windows", paramLabel = "K", description = "Use at most K windows (default: all).")
    Integer maxWindows;

    @Option(names = "--lns", paramLabel = "MODE", defaultValue = "auto",
            description = "LayerNorm Scaling: auto (config's \"layernorm_scaling\"), on (force 1/sqrt(l+1)), off (force Pre-LN). Default: ${DEFAULT-VALUE}.")
    Architecture.LnsMode lns;

    @CommandLine.Mixin
    NormOptions norm = new NormOptions();

    /** Null: not given, so the default applies (and is cut to a small model's block count without complaint). */
    @Option(names = "--prune", paramLabel = "K",
            description = "Contiguous pruning for n = 1..K blocks, chosen by angular distance (0 = off). Default: " + DEFAULT_PRUNE
                    + " (at most the model's blocks); a K you give may not exceed them.")
    Integer prune;

    static final int DEFAULT_PRUNE = 4;

    @Option(names = {"-o", "--out"}, paramLabel = "DIR", description = "Output folder (default: analyses/<yyyyMMdd-HHmmss>-<labels>).")
    Path out;

    @Option(names = "--force", description = "Replace an existing output folder.")
    boolean force;

    @Option(names = "--allow-nan", description = "Analyse weights holding NaN or infinity (each such tensor is named in a warning); by default they are refused.")
    boolean allowNan;

    @Option(names = "--logit-lens", negatable = true,
            description = "The logit lens: loss, KL to the final distribution and top-1 agreement of the prediction read off "
                    + "every depth (one more read of the LM head for all depths). Default: on. Same as --probe logit-lens.")
    Boolean logitLens;

    @Option(names = "--jacobian", negatable = true,
            description = "jacobian_deviation: how far each block is from the identity around its input (two more block "
                    + "evaluations per block). Default: on. Same as --probe jacobian.")
    Boolean jacobian;

    @Option(names = "--sublayer-removal", negatable = true,
            description = "loss_without_attention / loss_without_mlp: the loss with only one sublayer of each block zeroed "
                    + "(2L more removal branches: the pass takes about twice as long). Default: off, on for the bundled demo. "
                    + "Same as --probe sublayer-removal.")
    Boolean sublayerRemoval;

    @Option(names = "--probe", paramLabel = "NAME", split = ",", completionCandidates = ProbeNames.class,
            description = "Run these probes beyond the paper's (repeatable or comma-separated): ${COMPLETION-CANDIDATES}. "
                    + "What each measures and costs: docs/metrics.md and 'Probes' above.")
    List<String> probeOn = new ArrayList<>();

    @Option(names = "--no-probe", paramLabel = "NAME", split = ",", completionCandidates = ProbeNames.class,
            description = "Do not run these probes (e.g. --no-probe logit-lens,jacobian,token-similarity: the paper's probes only).")
    List<String> probeOff = new ArrayList<>();

    /**
     * A "Probes you can switch" section of {@code --help}, before the examples, written from the metric registry:
     * each switch's name, default and what it measures and costs.
     */
    static void addProbesSection(CommandLine analyze) {
        String key = "probes";
        analyze.getHelpSectionMap().put(key, help -> {
            StringBuilder b = new StringBuilder(String.format("%nProbes you can switch (--probe NAME / --no-probe NAME):%n"));
            for (var s : MetricRegistry.SWITCHES) {
                String indent = String.format("  %-18s ", s.name());
                StringBuilder line = new StringBuilder(indent);
                for (String word : ((s.onByDefault() ? "[on] " : "[off] ") + s.help()).split(" ")) {
                    if (line.length() + word.length() + 1 > help.commandSpec().usageMessage().width() && line.length() > indent.length()) {
                        b.append(line.toString().stripTrailing()).append(String.format("%n"));
                        line = new StringBuilder(" ".repeat(indent.length()));
                    }
                    line.append(word).append(' ');
                }
                b.append(line.toString().stripTrailing()).append(String.format("%n"));
            }
            return b.toString();
        });
        List<String> keys = new ArrayList<>(analyze.getHelpSectionKeys());
        keys.add(keys.indexOf(CommandLine.Model.UsageMessageSpec.SECTION_KEY_FOOTER_HEADING), key);
        analyze.setHelpSectionKeys(keys);
    }

    /** The registry's probe switches, for --help and completion. */
    static final class ProbeNames implements Iterable<String> {
        @Override
        public java.util.Iterator<String> iterator() {
            return MetricRegistry.switchNames().iterator();
        }
    }

    @Option(names = "--tasks", paramLabel = "FILE", arity = "1..*",
            description = "Also evaluate multiple-choice accuracy on these JSONL task files, for the full model, each removed "
                    + "block and the pruning (see 'depthlens eval --help'); results in <label>/eval.json and the report.")
    List<Path> tasks = new ArrayList<>();

    @Option(names = "--docs", paramLabel = "FILE", arity = "1..*",
            description = "Also evaluate perplexity on these documents (text with blank-line separated documents, or .jsonl).")
    List<Path> docs = new ArrayList<>();

    @Option(names = "--max-length", paramLabel = "N",
            description = "Tokens per model input for --tasks/--docs. Default: max_position_embeddings, at most 2048.")
    Integer maxLength;

    @Option(names = "--config", paramLabel = "FILE", description = "JSON run config; keys are these options in camelCase (see sample-configs/).")
    Path config;

    @CommandLine.Mixin
    SweepOptions sweep = new SweepOptions();

    @Override
    public Integer call() {
        Job job = job();
        Path done = AnalyzeJob.run(job.request(), new ConsoleProgress(System.err), System.err, job.exec());
        spec.commandLine().getOut().println("Wrote " + done + "/report.html");
        return 0;
    }

    /** What the options ask for and where it runs. */
    record Job(AnalyzeJob.Request request, AnalyzeJob.Execution exec) {
    }

    /**
     * The probes that run: each switch's default (sublayer removal on for the bundled demo), then the named flags,
     * then --probe and --no-probe; a probe both asked for and refused, or an unknown name, is a usage error.
     */
    private Analyzer.DepthProbes probes(Origin origin, boolean bundled) {
        // per probe: on or off, the option that said so, and how the user wrote it
        java.util.Map<String, Boolean> set = new java.util.LinkedHashMap<>();
        java.util.Map<String, String> option = new java.util.HashMap<>(), written = new java.util.HashMap<>();
        String[] named = {"logit-lens", "jacobian", "sublayer-removal"};
        Boolean[] given = {logitLens, jacobian, sublayerRemoval};
        for (int i = 0; i < named.length; i++) {
            if (given[i] == null) continue;
            set.put(named[i], given[i]);
            option.put(named[i], "--" + named[i]);
            written.put(named[i], (given[i] ? "--" : "--no-") + named[i]);
        }
        for (boolean on : new boolean[] {true, false}) {
            String opt = on ? "--probe" : "--no-probe";
            for (String n : on ? probeOn : probeOff) {
                String name = n.strip();
                if (MetricRegistry.toggle(name) == null) {
                    throw origin.error(spec, opt, "names no probe: '" + n + "' (probes: " + String.join(", ", MetricRegistry.switchNames()) + ")");
                }
                Boolean before = set.put(name, on);
                if (before != null && before != on) {
                    throw origin.error(spec, List.of(option.get(name), opt), "probe '" + name + "' is both switched on and off ("
                            + written.get(name) + ", " + opt + " " + name + ")");
                }
                option.put(name, opt);
                written.put(name, opt + " " + name);
            }
        }
        Analyzer.DepthProbes p = Analyzer.DepthProbes.DEFAULT.with("sublayer-removal", bundled);
        for (var e : set.entrySet()) p = p.with(e.getKey(), e.getValue());
        return p;
    }

    /**
     * The run the options ask for (usage errors and the models the options do not fit are refused here; with
     * {@code --keep-going} those are left out, and recorded in the execution's skips).
     */
    Job job() {
        Skips skips = new Skips();
        Origin origin = config != null ? RunConfig.apply(config, spec) : Origin.COMMAND_LINE;
        boolean bundled = false;
        if (models.isEmpty() && sweep.modelsFrom.isEmpty()) {
            if (text != null || ids != null) throw usage("--model is required when --text or --ids is given");
            if (!Home.hasBundledDemo()) throw new BadInputException(Home.bundledModels() + ": bundled demo models not found (give --model)");
            models.add(Home.bundledModels().resolve("pre_ln"));
            models.add(Home.bundledModels().resolve("lns"));
            text = Home.bundledText();
            if (maxWindows == null) maxWindows = BUNDLED_WINDOWS;
            bundled = true;
        }
        if (text != null && ids != null) throw usage("give --text or --ids, not both");
        if (text == null && ids == null) throw usage("give the data to evaluate on: --text FILE or --ids FILE");
        List<ModelSpec> named = norm.apply(spec, sweep.models(spec, models, labels, origin), lns, origin);
        if (window < 2) throw origin.error(spec, "--window", "must be at least 2, got " + window);
        if (maxWindows != null && maxWindows < 1) throw origin.error(spec, "--max-windows", "must be positive, got " + maxWindows);
        if (prune != null && prune < 0) throw origin.error(spec, "--prune", "must not be negative, got " + prune);
        if (maxLength != null && maxLength < 1) throw origin.error(spec, "--max-length", "must be positive, got " + maxLength);
        boolean evaluate = !tasks.isEmpty() || !docs.isEmpty();
        // the default --prune is cut to a small model's blocks without complaint; one given must fit
        named = JobDriver.fitting(named, prune == null ? 0 : prune, evaluate && maxLength != null ? maxLength : 0,
                new AnalyzeJob.Execution(null, sweep.keepGoing, skips), System.err);
        boolean defaultOut = out == null;
        if (defaultOut) out = RunOptions.defaultOut("", named);
        List<OutputGuard.Input> more = new ArrayList<>();
        more.add(OutputGuard.input(origin.name(text != null ? "--text" : "--ids"), text != null ? text : ids));
        more.addAll(OutputGuard.inputs(origin.name("--tasks"), tasks));
        more.addAll(OutputGuard.inputs(origin.name("--docs"), docs));
        if (config != null) more.add(OutputGuard.input("--config", config));
        OutputGuard.check(origin.name("--out"), out, RunOptions.inputs(origin, named, models.size(), sweep.modelsFrom, more));
        // absolute, as model_path is: provenance's data_path must find the data again from anywhere (prune --from-analysis)
        DataSource data = text != null ? DataSource.text(RunOptions.abs(text)) : DataSource.ids(RunOptions.abs(ids));
        var options = new Analyzer.Options(true, prune == null ? DEFAULT_PRUNE : prune, RunOptions.memoryBudget(),
                probes(origin, bundled));
        if (bundled) System.err.println("No --model given: analysing the bundled Pre-LN/LNS pair on the project's docs/.");
        AnalyzeJob.Evaluation eval = evaluate
                ? new AnalyzeJob.Evaluation(EvalInputs.read(RunOptions.abs(tasks), RunOptions.abs(docs)), maxLength == null ? 0 : maxLength)
                : null;
        var request = new AnalyzeJob.Request(named, data, window, maxWindows == null ? Integer.MAX_VALUE : maxWindows, options,
                out, force, defaultOut ? RunOptions.reportsDir() : null, allowNan, eval);
        return new Job(request, new AnalyzeJob.Execution(sweep.sparkOptions(spec, origin), sweep.keepGoing, skips));
    }

    private CommandLine.ParameterException usage(String msg) {
        return RunOptions.usage(spec, msg);
    }
}
