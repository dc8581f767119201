package org.depthlens.cli;

import org.depthlens.eval.EvalInputs;
import org.depthlens.eval.EvalResult;
import org.depthlens.eval.Evaluator;
import org.depthlens.eval.TextEncoder;
import org.depthlens.report.EvalSection;
import org.depthlens.analysis.Analyzer;
import org.depthlens.util.Progress;
import org.depthlens.model.Model;
import org.depthlens.report.ReportModel;
import org.depthlens.report.ReportOutput;
import org.depthlens.report.ReportSection;
import org.depthlens.text.ModelTokenizer;

import java.awt.Color;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * {@code analyze --tasks/--docs}: evaluates each model right after its probe analysis, while it is open, with
 * the single-block removal sweep and the contiguous pruning the probe pass chose (angular_last on the analysed
 * text), so both tables describe the same blocks. Adds the Evaluation section to report.html and writes
 * {@code <model>/eval.json} and its CSV tables next to metrics.json.
 */
public final class EvalExtension implements AnalyzeJob.Extension {
    private final EvalInputs inputs;
    private final int maxLength;
    private final long memoryBudget;
    private final List<EvalResult> results = new ArrayList<>();

    public EvalExtension(EvalInputs inputs, int maxLength, long memoryBudget) {
        this.inputs = inputs;
        this.maxLength = maxLength;
        this.memoryBudget = memoryBudget;
    }

    @Override
    public void afterAnalysis(ModelSpec spec, Model model, Analyzer.Outcome outcome, Progress progress, PrintStream log) {
        try (ModelTokenizer tok = ModelTokenizer.open(spec.dir())) {
            int k = outcome.pruned().size();
            Evaluator.Options o = new Evaluator.Options(maxLength, true, k, EvalJob.branches(outcome.pruned()),
                    "angular_last of the analyze probe pass (" + outcome.windows() + " windows of the analysed text)", memoryBudget);
            Progress p = (d, t, w) -> progress.update(d, t, "evaluation, " + w);
            EvalResult r = new Evaluator(model, TextEncoder.of(tok), o, p).run(spec.label(), inputs.tasks(), inputs.docs());
            log.printf(Locale.ROOT, "%s: evaluated %d sequences (%d tokens) in %d passes, %.1f s%n", spec.label(),
                    r.settings().requests(), r.settings().inputTokens(), r.settings().passes(), r.settings().seconds());
            results.add(EvalJob.withProvenance(r, model, inputs));
        }
    }

    @Override
    public List<ReportSection> sections(List<ReportSection> defaults) {
        List<EvalSection.Entry> entries = new ArrayList<>();
        List<String> dirs = ReportModel.dirNames(results.stream().map(EvalResult::label).toList());
        for (int i = 0; i < results.size(); i++) entries.add(new EvalSection.Entry(results.get(i).label(), dirs.get(i), Color.GRAY, results.get(i)));
        List<ReportSection> out = new ArrayList<>(defaults);
        int at = out.size();
        for (int i = 0; i < out.size(); i++) if (out.get(i).id().equals("files")) at = i;
        out.add(at, new EvalSection(entries));
        return out;
    }

    @Override
    public void write(ReportOutput written) throws IOException {
        for (EvalResult r : results) {
            Path dir = written.modelDirs().get(r.label());
            if (dir == null) throw new IllegalStateException("the report wrote no folder for " + r.label());
            EvalJob.write(r, dir);
        }
    }

    public List<EvalResult> results() {
        return List.copyOf(results);
    }
}
