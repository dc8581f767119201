package org.depthlens.cli;

import org.depthlens.eval.EvalInputs;
import org.depthlens.eval.EvalResult;
import org.depthlens.eval.Evaluator;
import org.depthlens.eval.TextEncoder;
import org.depthlens.report.EvalCsv;
import org.depthlens.report.EvalJson;
import org.depthlens.report.EvalSection;
import org.depthlens.BadInputException;
import org.depthlens.util.AtomicDir;
import org.depthlens.pass.Branch;
import org.depthlens.util.Progress;
import org.depthlens.pass.Provenance;
import org.depthlens.pass.Sequence;
import org.depthlens.pass.ProvenanceBuilder;
import org.depthlens.model.Model;
import org.depthlens.report.Palette;
import org.depthlens.report.ReportModel;
import org.depthlens.report.ReportWriter;
import org.depthlens.text.ModelTokenizer;

import java.io.IOException;
import java.io.PrintStream;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.function.Function;

/**
 * {@code depthlens eval}: every model evaluated on the same task and documents files, then
 * {@code OUT/<label>/eval.json} (+ CSV tables and charts) and one {@code OUT/report.html}, the folder
 * built under a temporary name and renamed into place when complete (as {@code analyze} does).
 */
public final class EvalJob {
    /**
     * @param options    what each model's evaluation asks of the pass planner: the one value that travels to Spark
     *                   executors ({@code pruning} null: chosen on the evaluation's own sequences)
     * @param reportsDir where a copy of report.html goes (the project's {@code reports/}), or null
     */
    public record Request(List<ModelSpec> models, List<Path> tasks, List<Path> docs, Evaluator.Options options,
                          Path out, boolean force, Path reportsDir, boolean allowNan) {
    }

    private EvalJob() {}

    public static Path run(Request r, Progress progress, PrintStream log) {
        return run(r, progress, log, AnalyzeJob.Execution.LOCAL);
    }

    /**
     * Runs the request here or on Spark, as {@code exec} says; returns the finished output folder. The models are
     * those the options fit ({@link JobDriver#fitting}).
     */
    public static Path run(Request r, Progress progress, PrintStream log, AnalyzeJob.Execution exec) {
        ModelSpec.checkLabels(r.models());
        EvalInputs inputs = EvalInputs.read(r.tasks(), r.docs());
        List<String> dirs = ReportModel.dirNames(labels(r));
        List<EvalSection.Entry> entries = new ArrayList<>();
        try (AtomicDir out = AtomicDir.create(r.out(), r.force())) {
            List<EvalResult> results;
            String execution;
            try (JobDriver driver = new JobDriver("depthlens eval", exec, r.options().memoryBudgetBytes(), r.allowNan(), progress,
                    log)) {
                results = driver.run(r.models(), work(inputs, spec -> r.options(), false));
                execution = driver.finish();
            }
            for (int i = 0; i < r.models().size(); i++) {
                if (results.get(i) == null) continue;
                entries.add(new EvalSection.Entry(r.models().get(i).label(), dirs.get(i), Palette.model(i),
                        withExecution(results.get(i), execution)));
            }
            if (entries.isEmpty()) throw new BadInputException("no model left to report: every model failed (--keep-going)");
            try {
                for (EvalSection.Entry e : entries) write(e.result(), out.path().resolve(e.dirName()));
                ReportWriter.writePage(out.path(), exec.skips().title("depthlens eval: ", entries.stream().map(EvalSection.Entry::label).toList()),
                        exec.skips().sections(List.of(new EvalSection(entries))));
                exec.skips().write(out.path());
            } catch (IOException e) {
                throw new UncheckedIOException("writing the evaluation into " + out.path(), e);
            }
            out.commit();
        }
        if (r.reportsDir() != null) ReportWriter.copyToReports(r.out(), r.reportsDir());
        return r.out();
    }

    /**
     * One model's evaluation: its sequences (every task choice and document window, encoded with its tokenizer) and
     * provenance, then accuracies and perplexities from the planner's outcome.
     *
     * @param afterAnalysis {@code analyze --tasks/--docs} (its log line and progress say "evaluation")
     */
    static JobDriver.Work<EvalResult> work(EvalInputs inputs, Function<ModelSpec, Evaluator.Options> options, boolean afterAnalysis) {
        return new JobDriver.Work<>() {
            @Override
            public JobDriver.Planned<EvalResult> plan(ModelSpec spec, Model model, PrintStream log) {
                Evaluator.Options o = options.apply(spec);
                Evaluator ev;
                Evaluator.Prepared p;
                try (ModelTokenizer tok = ModelTokenizer.open(spec.dir())) {
                    ev = new Evaluator(model, TextEncoder.of(tok), o, Progress.NONE);
                    p = ev.prepare(inputs.tasks(), inputs.docs());
                }
                long tokens = p.sequences().stream().mapToLong(Sequence::length).sum();
                Provenance prov = ProvenanceBuilder.of(model, inputs.dataPath(), inputs.fingerprint(), p.sequences().size(), tokens);
                String norm = model.arch().norm().describe();
                return new JobDriver.Planned<>(p.sequences(), o, (outcome, seconds) -> {
                    EvalResult e = ev.result(spec.label(), p, outcome, seconds);
                    EvalResult.Settings s = e.settings();
                    if (afterAnalysis) {
                        log.printf(Locale.ROOT, "%s: evaluated %d sequences (%d tokens) in %d passes, %.1f s%n", spec.label(),
                                s.requests(), s.inputTokens(), s.passes(), s.seconds());
                    } else {
                        log.printf(Locale.ROOT, "%s: %s, %d blocks, %s: %d sequences (%d tokens), %d passes, %.1f s%n", spec.label(),
                                e.family(), e.blocks(), norm, s.requests(), s.inputTokens(), s.passes(), s.seconds());
                    }
                    return e.with(inputs.describe(), prov);
                });
            }

            @Override
            public String stage() {
                return afterAnalysis ? "evaluation, " : "";
            }
        };
    }

    /** eval.json and the CSV tables of one model into {@code dir}. */
    public static void write(EvalResult r, Path dir) throws IOException {
        Files.createDirectories(dir);
        EvalJson.write(r, dir.resolve(EvalJson.FILE));
        EvalCsv.writeAll(r, dir);
    }

    static EvalResult withExecution(EvalResult r, String execution) {
        return execution == null ? r : r.with(r.inputs(), r.provenance().withExecution(execution));
    }

    /** The pruning analyze chose ({@code n} = 1..K in order) as branches. */
    static List<Branch.Skip> branches(List<org.depthlens.pass.PrunedRemoval> pruned) {
        List<Branch.Skip> out = new ArrayList<>();
        for (var p : pruned) out.add(Branch.skip(p.start(), p.start() + p.n()));
        return out;
    }

    private static List<String> labels(Request r) {
        return r.models().stream().map(ModelSpec::label).toList();
    }
}
