package org.depthlens.cli;

import org.depthlens.analysis.PruneChoice;
import org.depthlens.model.family.Architecture;
import org.depthlens.util.OutputGuard;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Set;
import java.util.concurrent.Callable;

@Command(name = "prune", sortOptions = false, mixinStandardHelpOptions = true,
        description = {"Write the model without some of its blocks as a HuggingFace checkpoint that transformers loads as it is.",
                "Blocks are 0-based original indices (block 0 is the first after the embedding), the numbering of analyze's",
                "metrics.json. Tensors are copied byte for byte (BF16 stays BF16, FP8 keeps its scales) and renumbered",
                "model.layers.{new}.*; safetensors sharded like the input (.bin inputs become safetensors); config.json gets",
                "num_hidden_layers and every per-block key rewritten so each kept block keeps its sliding window, dense or",
                "expert feed-forward and LNS factor (written as the per-block list \"layernorm_scaling\"); tokenizer and",
                "generation files are copied. A multimodal checkpoint (gemma3) keeps its vision tower and projector byte for",
                "byte, and its language model's keys are rewritten inside text_config. depthlens_prune.json records the source",
                "hashes, the removed blocks, the rule and the measured damage. A pattern config.json cannot state is refused,",
                "never approximated.",
                "",
                "--verify (on by default) re-opens the export before it is moved into place and checks that its loss on the",
                "analysis' own windows (or --text/--ids) equals the analysis' loss_without_layer[l] (one block) or",
                "pruned_removal (its span), else the source model run with the same blocks skipped, to 1e-6 relative.", ""},
        footerHeading = "%nExamples:%n", footer = {
                "  depthlens analyze -m ~/models/Llama-3.2-1B --text wiki.txt -o runs/llama1b",
                "  depthlens prune -m ~/models/Llama-3.2-1B --from-analysis runs/llama1b --n 4 -o ~/models/Llama-3.2-1B-minus4",
                "  depthlens prune -m ~/models/Llama-3.2-1B --from-analysis runs/llama1b --n 3 --rule damage -o /tmp/l1b-d3",
                "  depthlens prune -m ~/models/Llama-3.2-1B --drop 21,17 --text wiki.txt --max-windows 4 -o /tmp/l1b-no17-21",
                "",
                "Rules (--from-analysis RUN --n K):",
                "  span       the contiguous K blocks with the lowest angular_last[l][K-1] (Gromov et al.), as analyze's",
                "             pruned_removal chose them (default)",
                "  damage     the K blocks with the lowest loss_without_layer[l] - loss (each measured alone)",
                "  influence  the K blocks with the lowest block_influence[l] (ShortGPT)"})
public final class PruneCommand extends CommonOptions implements Callable<Integer> {
    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @Option(names = {"-m", "--model"}, required = true, paramLabel = "DIR", description = "The model to prune (a HF folder).")
    Path model;

    @Option(names = "--drop", paramLabel = "I,J,...", split = ",",
            description = "Blocks to remove: 0-based original indices, e.g. 21,17 (any order).")
    List<Integer> drop = new ArrayList<>();

    @Option(names = "--from-analysis", paramLabel = "RUN",
            description = "A finished analyze output (its folder, a model's subfolder or its metrics.json) of this very model "
                    + "(its provenance weights hash must match); --n and --rule pick the blocks.")
    Path analysis;

    @Option(names = "--n", paramLabel = "K", description = "With --from-analysis: how many blocks to remove.")
    Integer n;

    @Option(names = "--rule", paramLabel = "RULE", defaultValue = "span",
            description = "With --from-analysis: span, damage or influence (see below; default: ${DEFAULT-VALUE}).")
    String rule;

    @Option(names = {"-o", "--out"}, required = true, paramLabel = "DIR", description = "New folder for the pruned checkpoint.")
    Path out;

    @Option(names = "--force", description = "Replace OUT if it is a folder depthlens wrote (an earlier prune's export).")
    boolean force;

    @Option(names = "--verify", negatable = true, defaultValue = "true", fallbackValue = "true",
            description = "Check the export's loss before moving it into place (default: on; --no-verify skips it).")
    boolean verify;

    @Option(names = "--text", paramLabel = "FILE", description = "Verify on this text (default with --from-analysis: the analysis' data).")
    Path text;

    @Option(names = "--ids", paramLabel = "FILE", description = "Verify on these token ids (JSON, as analyze reads them).")
    Path ids;

    @Option(names = "--window", paramLabel = "N", defaultValue = "256", description = "With --text/--ids: tokens per window (default: ${DEFAULT-VALUE}).")
    int window;

    @Option(names = "--max-windows", paramLabel = "K", defaultValue = "4",
            description = "With --text/--ids: windows to verify on (default: ${DEFAULT-VALUE}).")
    int maxWindows;

    @Option(names = "--lns", paramLabel = "MODE", defaultValue = "auto",
            description = "auto (config.json's layernorm_scaling), on (1/sqrt(l+1) for checkpoints without the flag) or off.")
    Architecture.LnsMode lns;

    @CommandLine.Mixin
    NormOptions norm = new NormOptions();

    @Override
    public Integer call() {
        norm.validate(spec, 1);
        if (norm.skipVision) {
            // the export keeps a multimodal checkpoint's vision tower (analyze's --skip-vision leaves it out of the numbers)
            throw usage("--skip-vision does not apply to prune: a multimodal checkpoint's vision tower and projector are copied into "
                    + "the export unchanged, without asking");
        }
        boolean byList = !drop.isEmpty();
        if (byList == (analysis != null)) throw usage("give --drop I,J,... or --from-analysis RUN --n K, one of the two");
        if (analysis == null && n != null) throw usage("--n goes with --from-analysis");
        if (analysis != null && n == null) throw usage("--from-analysis needs --n K (how many blocks to remove)");
        if (n != null && n < 1) throw usage("--n must be at least 1, got " + n);
        PruneChoice.Rule r;
        try {
            r = PruneChoice.Rule.valueOf(rule.toUpperCase(Locale.ROOT));
        } catch (IllegalArgumentException e) {
            throw usage("--rule must be span, damage or influence, got '" + rule + "'");
        }
        if (byList && spec.commandLine().getParseResult().hasMatchedOption("--rule")) throw usage("--rule goes with --from-analysis");
        Set<Integer> seen = new LinkedHashSet<>();
        for (int d : drop) {
            if (d < 0) throw usage("--drop takes 0-based block indices, got " + d);
            if (!seen.add(d)) throw usage("--drop names block " + d + " twice");
        }
        if (text != null && ids != null) throw usage("give --text or --ids, not both");
        if (!verify && (text != null || ids != null)) throw usage("--text/--ids are for --verify; drop them with --no-verify");
        if (window < 2) throw usage("--window must be at least 2, got " + window);
        if (maxWindows < 1) throw usage("--max-windows must be positive, got " + maxWindows);
        if (verify && analysis == null && text == null && ids == null) {
            throw usage("--verify needs windows to run: give --text FILE or --ids FILE (or --from-analysis RUN, whose data it reuses), or --no-verify");
        }
        List<OutputGuard.Input> inputs = new ArrayList<>(List.of(OutputGuard.input("--model", model)));
        if (analysis != null) inputs.add(OutputGuard.input("--from-analysis", analysis));
        if (text != null) inputs.add(OutputGuard.input("--text", text));
        if (ids != null) inputs.add(OutputGuard.input("--ids", ids));
        OutputGuard.check("--out", out, inputs);
        PruneJob.Request req = new PruneJob.Request(RunOptions.abs(model), norm.choice(0, lns),
                byList ? drop.stream().mapToInt(Integer::intValue).toArray() : null,
                analysis == null ? null : RunOptions.abs(analysis), n == null ? 0 : n, r,
                RunOptions.abs(out), force, verify, text == null ? null : RunOptions.abs(text), ids == null ? null : RunOptions.abs(ids),
                window, maxWindows, Runtime.getRuntime().maxMemory() / 2);
        PruneJob.Result res = PruneJob.run(req, new ConsoleProgress(System.err), System.err);
        spec.commandLine().getOut().println("Wrote " + out + " (" + res.summary() + ")");
        return 0;
    }

    private CommandLine.ParameterException usage(String msg) {
        return RunOptions.usage(spec, msg);
    }
}
