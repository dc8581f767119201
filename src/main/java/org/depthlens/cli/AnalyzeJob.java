package org.depthlens.cli;

import org.depthlens.BadInputException;
import org.depthlens.analysis.Analyzer;
import org.depthlens.analysis.DataSource;
import org.depthlens.analysis.ModelResult;
import org.depthlens.analysis.Windows;
import org.depthlens.eval.EvalInputs;
import org.depthlens.eval.EvalResult;
import org.depthlens.eval.Evaluator;
import org.depthlens.model.Model;
import org.depthlens.pass.Provenance;
import org.depthlens.pass.ProvenanceBuilder;
import org.depthlens.pass.Sequence;
import org.depthlens.report.EvalSection;
import org.depthlens.report.ReportModel;
import org.depthlens.report.ReportOptions;
import org.depthlens.report.ReportOutput;
import org.depthlens.report.ReportSection;
import org.depthlens.report.ReportWriter;
import org.depthlens.spark.SparkOptions;
import org.depthlens.util.AtomicDir;
import org.depthlens.util.Progress;

import java.awt.Color;
import java.io.IOException;
import java.io.PrintStream;
import java.io.UncheckedIOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * {@code depthlens analyze}: every model analysed on the same data (and with {@code --tasks/--docs} evaluated with
 * the pruning its analysis chose), then one report, written atomically.
 */
public final class AnalyzeJob {

    /**
     * @param options    what each model's analysis asks of the pass planner: the one value that travels to Spark
     *                   executors, so every probe switch reaches them
     * @param evaluation {@code --tasks/--docs}, or null
     * @param reportsDir where a copy of report.html goes (the project's {@code reports/}), or null
     */
    public record Request(List<ModelSpec> models, DataSource data, int window, int maxWindows, Analyzer.Options options,
                          Path out, boolean force, Path reportsDir, boolean allowNan, Evaluation evaluation) {
    }

    /**
     * {@code analyze --tasks/--docs}: each model is also evaluated, with the single-block removal sweep and the
     * contiguous pruning its probe pass chose (angular_last on the analysed text), so both tables describe the same
     * blocks; eval.json and its CSV tables go next to metrics.json, an Evaluation section into report.html.
     *
     * @param maxLength tokens per model input, 0 for the default
     */
    public record Evaluation(EvalInputs inputs, int maxLength) {
    }

    /**
     * Where the models run and what a model with bad input does.
     *
     * @param spark     null: in this process, one model after the other
     * @param keepGoing a model that fails with bad input is reported (one warning line) and left out
     */
    public record Execution(SparkOptions spark, boolean keepGoing, Skips skips) {
        public static final Execution LOCAL = new Execution(null, false);

        public Execution(SparkOptions spark, boolean keepGoing) {
            this(spark, keepGoing, new Skips());
        }
    }

    private AnalyzeJob() {}

    /** Runs the request in this process; returns the finished output folder. */
    public static Path run(Request r, Progress progress, PrintStream log) {
        return run(r, progress, log, Execution.LOCAL);
    }

    /** Runs the request as {@code exec} says; returns the finished output folder. */
    public static Path run(Request r, Progress progress, PrintStream log, Execution exec) {
        ModelSpec.checkLabels(r.models());
        try (AtomicDir out = AtomicDir.create(r.out(), r.force())) {
            List<ModelResult> results = new ArrayList<>();
            List<EvalResult> evals = new ArrayList<>();
            try (JobDriver driver = new JobDriver("depthlens analyze", exec, r.options().memoryBudgetBytes(), r.allowNan(),
                    progress, log)) {
                List<ModelResult> analysed = driver.run(r.models(), work(r));
                List<EvalResult> evaluated = r.evaluation() == null ? null : evaluate(driver, r, analysed);
                String execution = driver.finish();
                for (int i = 0; i < analysed.size(); i++) {
                    // a model whose evaluation failed (--keep-going) is left out altogether, as one whose analysis failed
                    if (analysed.get(i) == null || evaluated != null && evaluated.get(i) == null) continue;
                    results.add(withExecution(analysed.get(i), execution));
                    if (evaluated != null) evals.add(EvalJob.withExecution(evaluated.get(i), execution));
                }
            }
            if (results.isEmpty()) throw new BadInputException("no model left to report: every model failed (--keep-going)");
            try {
                ReportOptions options = ReportOptions.defaults()
                        .withTitle(exec.skips().title("depthlens: ", results.stream().map(ModelResult::label).toList()));
                List<ReportSection> sections = r.evaluation() != null ? withEvaluation(ReportWriter.defaultSections(), evals)
                        : ReportWriter.defaultSections();
                if (r.evaluation() != null || !exec.skips().isEmpty()) options = options.withSections(exec.skips().sections(sections));
                ReportOutput written = ReportWriter.writeAll(results, out.path(), options);
                for (EvalResult e : evals) EvalJob.write(e, written.modelDirs().get(e.label()));
                exec.skips().write(out.path());
            } catch (IOException e) {
                throw new UncheckedIOException(r.out() + ": cannot write the output (" + AtomicDir.reason(out.path(), e)
                        + "); nothing was written", e);
            }
            out.commit();
        }
        if (r.reportsDir() != null) ReportWriter.copyToReports(r.out(), r.reportsDir());
        return r.out();
    }

    /** One model's analysis: its windows, the log line and provenance, then the metrics from the planner's outcome. */
    static JobDriver.Work<ModelResult> work(Request r) {
        String source = r.data().path().toString();
        return (spec, model, log) -> {
            List<int[]> windows = r.data().windows(spec.dir(), r.window(), r.maxWindows());
            Windows.validate(windows, model.arch().vocab(), model.arch().maxPositions(), source, true);
            long tokens = windows.stream().mapToLong(w -> w.length).sum();
            log.printf("%s: %s, %d blocks, %s, %d windows (%d tokens)%n", spec.label(), model.arch().family(),
                    model.arch().layers(), model.arch().norm().describe(), windows.size(), tokens);
            Provenance prov = ProvenanceBuilder.of(model, source, r.data().bytes(), windows.size(), tokens);
            List<Sequence> seqs = Analyzer.sequences(windows);
            String family = model.arch().family();
            boolean lns = model.arch().lns();
            return new JobDriver.Planned<>(seqs, r.options(), (o, seconds) -> {
                Analyzer.Outcome a = Analyzer.outcome(seqs, o, r.options());
                return new ModelResult(spec.label(), family, lns, a.metrics(), a.pruned(), a.expertUsage(), prov);
            });
        };
    }

    /** The evaluation of every analysed model (null where its analysis failed), with the pruning the analysis chose. */
    private static List<EvalResult> evaluate(JobDriver driver, Request r, List<ModelResult> analysed) {
        Map<String, Evaluator.Options> options = new HashMap<>();
        List<ModelSpec> models = new ArrayList<>();
        for (int i = 0; i < analysed.size(); i++) {
            ModelResult a = analysed.get(i);
            if (a == null) continue;
            models.add(r.models().get(i));
            options.put(a.label(), new Evaluator.Options(r.evaluation().maxLength(), true, a.prunedRemoval().size(),
                    EvalJob.branches(a.prunedRemoval()), "angular_last of the analyze probe pass (" + a.provenance().windows()
                    + " windows of the analysed text)", r.options().memoryBudgetBytes()));
        }
        List<EvalResult> done = driver.run(models, EvalJob.work(r.evaluation().inputs(), s -> options.get(s.label()), true));
        List<EvalResult> out = new ArrayList<>();
        int j = 0;
        for (ModelResult a : analysed) out.add(a == null ? null : done.get(j++));
        return out;
    }

    /** The default sections with the Evaluation section before the list of files. */
    private static List<ReportSection> withEvaluation(List<ReportSection> defaults, List<EvalResult> evals) {
        List<EvalSection.Entry> entries = new ArrayList<>();
        List<String> dirs = ReportModel.dirNames(evals.stream().map(EvalResult::label).toList());
        for (int i = 0; i < evals.size(); i++) entries.add(new EvalSection.Entry(evals.get(i).label(), dirs.get(i), Color.GRAY, evals.get(i)));
        List<ReportSection> out = new ArrayList<>(defaults);
        int at = out.size();
        for (int i = 0; i < out.size(); i++) if (out.get(i).id().equals("files")) at = i;
        out.add(at, new EvalSection(entries));
        return out;
    }

    private static ModelResult withExecution(ModelResult m, String execution) {
        if (execution == null) return m;
        return new ModelResult(m.label(), m.family(), m.lns(), m.metrics(), m.prunedRemoval(), m.expertUsage(),
                m.provenance().withExecution(execution));
    }

    private static List<String> labels(Request r) {
        return r.models().stream().map(ModelSpec::label).toList();
    }
}
