package org.depthlens.cli;

import org.depthlens.eval.Evaluator;
import org.depthlens.model.family.Architecture;
import org.depthlens.util.OutputGuard;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;

@Command(name = "eval", sortOptions = false, mixinStandardHelpOptions = true,
        description = {
                "Measure the performance drop like the Curse of Depth paper: perplexity on documents and multiple-choice",
                "accuracy, for the full model and with every single block removed (one pass over the weights, each removal",
                "reusing the stream prefix), and with the contiguous blocks Gromov et al. would prune (--prune K).",
                "",
                "Scoring follows lm-evaluation-harness: documents are tokenized once without special tokens and predicted",
                "in disjoint rolling windows of at most --max-length tokens (the first from BOS, or EOS without BOS); a",
                "choice is scored by the summed log-likelihood of its tokens after the context (the context's trailing",
                "space moves to the choice); acc = best sum, acc_norm = best sum per character of the choice.",
                "Changes are reported as value_without - value_full: a positive perplexity change and a negative accuracy",
                "change are losses.",
                "",
                "Task files are JSONL, one {\"context\": str, \"choices\": [str, ...], \"gold\": index} per line (see",
                "sample-configs/README.md for exporting ARC, HellaSwag or MMLU to this shape). Documents files are text",
                "(documents separated by blank lines) or .jsonl with a \"text\" field.",
                ""},
        footerHeading = "%nExamples:%n",
        footer = {
                "  depthlens eval --model models/tiny-curse-24/pre_ln --tasks sample-configs/tasks/tech-cloze.jsonl",
                "  depthlens eval -m run/pre_ln -l pre_ln -m run/lns -l lns --docs val.txt --tasks arc_easy.jsonl --prune 4",
                "  depthlens eval -m ~/ckpt/llama-2-7b --docs wikitext.jsonl --max-length 1024 --removal none",
                "  depthlens eval --config sample-configs/tiny-curse-eval-only.json",
                "  depthlens eval --models-from 'run/step*' --docs val.txt --spark spark://head:7077",
                "",
                "Output (OUT is built in a temporary sibling folder and renamed into place when complete):",
                "  OUT/<label>/eval.json         acc, acc_norm, per-choice log-likelihoods, perplexities, removal and",
                "                                pruning changes, 95 % intervals of all of them (bootstrap over items /",
                "                                documents, changes paired), provenance (hashes, versions)",
                "  OUT/<label>/eval_removal.csv  change of every metric per removed block (+ _lo/_hi columns);",
                "                                eval_pruned.csv the same per pruning",
                "  OUT/<label>/charts/, OUT/compare/   drop per removed block with shaded intervals (PNG and SVG)",
                "  OUT/report.html               self-contained report (also copied to reports/ for default outputs)",
                "Give --tasks/--docs to 'depthlens analyze' to get the same evaluation inside the probe report."})
public final class EvalCommand extends CommonOptions implements Callable<Integer> {
    /** How many blocks are removed one at a time. */
    enum Removal { none, single }

    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @Option(names = {"-m", "--model"}, paramLabel = "DIR",
            description = "HF model folder (config.json + *.safetensors or pytorch_model.bin + tokenizer.json). Repeat to compare models. Required "
                    + "(here or in --config).")
    List<Path> models = new ArrayList<>();

    @Option(names = {"-l", "--label"}, paramLabel = "NAME", description = "Label of the n-th --model (default: its folder name).")
    List<String> labels = new ArrayList<>();

    @Option(names = "--tasks", paramLabel = "FILE", arity = "1..*",
            description = "Multiple-choice task files (JSONL: context, choices, gold). Several may follow one --tasks.")
    List<Path> tasks = new ArrayList<>();

    @Option(names = "--docs", paramLabel = "FILE", arity = "1..*",
            description = "Documents for perplexity: text (documents separated by blank lines) or .jsonl with \"text\".")
    List<Path> docs = new ArrayList<>();

    @Option(names = "--removal", paramLabel = "MODE", defaultValue = "single",
            description = "single: also score the model without each block (same pass over the weights); none: full model only. "
                    + "Default: ${DEFAULT-VALUE}.")
    Removal removal;

    @Option(names = "--prune", paramLabel = "K", defaultValue = "0",
            description = "Also score contiguous pruning of n = 1..K blocks, each at the start minimising angular_last[l][n-1] "
                    + "measured on the last token of the evaluated sequences (a second pass). Default: ${DEFAULT-VALUE}.")
    int prune;

    @Option(names = "--max-length", paramLabel = "N",
            description = "Tokens per model input (lm-eval's max_length). Default: max_position_embeddings, at most 2048.")
    Integer maxLength;

    @Option(names = "--lns", paramLabel = "MODE", defaultValue = "auto",
            description = "LayerNorm Scaling: auto (config's \"layernorm_scaling\"), on, off. Default: ${DEFAULT-VALUE}.")
    Architecture.LnsMode lns;

    @CommandLine.Mixin
    NormOptions norm = new NormOptions();

    @Option(names = {"-o", "--out"}, paramLabel = "DIR",
            description = "Output folder (default: analyses/<yyyyMMdd-HHmmss>-eval-<labels>, report.html also copied to reports/).")
    Path out;

    @Option(names = "--force", description = "Replace an existing output folder.")
    boolean force;

    @Option(names = "--allow-nan", description = "Evaluate weights holding NaN or infinity (each such tensor is named in a warning); by default they are refused.")
    boolean allowNan;

    @Option(names = "--config", paramLabel = "FILE",
            description = "JSON run config; keys are these options in camelCase, paths relative to the file (see sample-configs/).")
    Path config;

    @CommandLine.Mixin
    SweepOptions sweep = new SweepOptions();

    @Override
    public Integer call() {
        Origin origin = config != null ? RunConfig.apply(config, spec) : Origin.COMMAND_LINE;
        if (models.isEmpty() && sweep.modelsFrom.isEmpty()) throw usage("Missing required option: '--model=DIR' (or --models-from)");
        if (tasks.isEmpty() && docs.isEmpty()) throw usage("give what to evaluate on: --tasks FILE... and/or --docs FILE");
        List<ModelSpec> named = norm.apply(spec, sweep.models(spec, models, labels, origin), lns, origin);
        if (prune < 0) throw origin.error(spec, "--prune", "must not be negative, got " + prune);
        if (maxLength != null && maxLength < 1) throw origin.error(spec, "--max-length", "must be positive, got " + maxLength);
        boolean defaultOut = out == null;
        if (defaultOut) out = RunOptions.defaultOut("eval-", named);
        List<OutputGuard.Input> more = new ArrayList<>(OutputGuard.inputs(origin.name("--tasks"), tasks));
        more.addAll(OutputGuard.inputs(origin.name("--docs"), docs));
        if (config != null) more.add(OutputGuard.input("--config", config));
        OutputGuard.check(origin.name("--out"), out, RunOptions.inputs(origin, named, models.size(), sweep.modelsFrom, more));
        var exec = new AnalyzeJob.Execution(sweep.sparkOptions(spec, origin), sweep.keepGoing);
        named = JobDriver.fitting(named, prune, maxLength == null ? 0 : maxLength, exec, System.err);
        var options = new Evaluator.Options(maxLength == null ? 0 : maxLength, removal == Removal.single, prune, null, null,
                RunOptions.memoryBudget());
        var request = new EvalJob.Request(named, RunOptions.abs(tasks), RunOptions.abs(docs), options, out, force,
                defaultOut ? RunOptions.reportsDir() : null, allowNan);
        Path done = EvalJob.run(request, new ConsoleProgress(System.err), System.err, exec);
        spec.commandLine().getOut().println("Wrote " + done + "/report.html");
        return 0;
    }

    private CommandLine.ParameterException usage(String msg) {
        return RunOptions.usage(spec, msg);
    }
}
