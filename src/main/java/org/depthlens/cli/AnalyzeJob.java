package org.depthlens.cli;

import org.depthlens.analysis.Analyzer;
import org.depthlens.analysis.DataSource;
import org.depthlens.analysis.ModelResult;
import org.depthlens.analysis.Windows;
import org.depthlens.pass.Provenance;
import org.depthlens.pass.ProvenanceBuilder;
import org.depthlens.util.AtomicDir;
import org.depthlens.util.Progress;
import org.depthlens.BadInputException;
import org.depthlens.model.Model;
import org.depthlens.report.ReportOptions;
import org.depthlens.report.ReportOutput;
import org.depthlens.report.ReportSection;
import org.depthlens.report.ReportWriter;
import org.depthlens.spark.SparkOptions;
import org.depthlens.weights.Checkpoint;

import java.io.IOException;
import java.io.PrintStream;
import java.io.UncheckedIOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;

/** {@code depthlens analyze}: every model analysed on the same data, then one report, written atomically. */
public final class AnalyzeJob {

    /**
     * @param reportsDir where a copy of report.html goes (the project's {@code reports/}), or null
     */
    public record Request(List<ModelSpec> models, DataSource data, int window, int maxWindows,
                          int prune, Path out, boolean force, Path reportsDir, long memoryBudget, boolean allowNan,
                          Analyzer.DepthProbes probes) {
    }

    /**
     * More work in the same run (e.g. evaluation with {@code --tasks/--docs}): called for each model while it is
     * still open, right after its analysis; its sections join report.html and its files are written into the
     * output folder before it is renamed into place.
     */
    public interface Extension {
        void afterAnalysis(ModelSpec spec, Model model, Analyzer.Outcome outcome, Progress progress, PrintStream log);

        /** The report's sections, given the default ones. */
        List<ReportSection> sections(List<ReportSection> defaults);

        /** Writes extra files next to what the report wrote. */
        void write(ReportOutput written) throws IOException;
    }

    private AnalyzeJob() {}

    /** Runs the request; returns the finished output folder. */
    public static Path run(Request r, Progress progress, PrintStream log) {
        return run(r, progress, log, null);
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

    /** Runs the request with an extension (may be null); returns the finished output folder. */
    public static Path run(Request r, Progress progress, PrintStream log, Extension ext) {
        return run(r, progress, log, ext, Execution.LOCAL);
    }

    /** Runs the request with an extension (may be null) as {@code exec} says; returns the finished output folder. */
    public static Path run(Request r, Progress progress, PrintStream log, Extension ext, Execution exec) {
        ModelSpec.checkLabels(r.models());
        List<ModelResult> results = new ArrayList<>();
        try (AtomicDir out = AtomicDir.create(r.out(), r.force())) {
            if (exec.spark() != null) {
                results.addAll(SparkJobs.analyze(r, exec.spark(), exec, log));
            } else {
                for (ModelSpec spec : r.models()) {
                    try {
                        results.add(analyse(spec, r, progress, log, ext));
                    } catch (BadInputException e) {
                        RunOptions.skipOrThrow(spec, e.getMessage(), exec, log);
                    }
                }
            }
            results.removeIf(java.util.Objects::isNull);
            if (results.isEmpty()) throw new BadInputException("no model left to report: every model failed (--keep-going)");
            try {
                ReportOptions options = ReportOptions.defaults()
                        .withTitle(exec.skips().title("depthlens: ", results.stream().map(ModelResult::label).toList()));
                List<ReportSection> sections = ext != null ? ext.sections(ReportWriter.defaultSections()) : ReportWriter.defaultSections();
                if (ext != null || !exec.skips().isEmpty()) options = options.withSections(exec.skips().sections(sections));
                ReportOutput written = ReportWriter.writeAll(results, out.path(), options);
                if (ext != null) ext.write(written);
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

    private static List<String> labels(Request r) {
        return r.models().stream().map(ModelSpec::label).toList();
    }

    static ModelResult analyse(ModelSpec spec, Request r, Progress progress, PrintStream log, Extension ext) {
        try (Model model = Model.open(spec.dir(), spec.norm())) {
            model.checkpoint().onNonFinite(RunOptions.nonFinite(r.allowNan(), log));
            List<int[]> windows = r.data().windows(spec.dir(), r.window(), r.maxWindows());
            Windows.validate(windows, model.arch().vocab(), model.arch().maxPositions(), r.data().path().toString(), true);
            long tokens = windows.stream().mapToLong(w -> w.length).sum();
            log.printf("%s: %s, %d blocks, %s, %d windows (%d tokens)%n", spec.label(), model.arch().family(), model.arch().layers(),
                    model.arch().norm().describe(), windows.size(), tokens);
            Analyzer.Options options = new Analyzer.Options(true, r.prune(), r.memoryBudget(), r.probes());
            Progress labelled = (d, t, w) -> progress.update(d, t, spec.label() + ": " + w);
            Analyzer.Outcome o = new Analyzer(model, options, labelled).run(windows);
            Provenance prov = ProvenanceBuilder.of(model, r.data().path().toString(), r.data().bytes(), o.windows(), o.tokens());
            if (ext != null) ext.afterAnalysis(spec, model, o, labelled, log);
            return new ModelResult(spec.label(), model.arch().family(), model.arch().lns(), o.metrics(), o.pruned(), o.expertUsage(), prov);
        }
    }
}
