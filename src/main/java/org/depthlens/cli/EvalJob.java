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
import org.depthlens.pass.ProvenanceBuilder;
import org.depthlens.model.family.Architecture;
import org.depthlens.model.Model;
import org.depthlens.report.Palette;
import org.depthlens.report.ReportModel;
import org.depthlens.report.ReportWriter;
import org.depthlens.text.ModelTokenizer;
import org.depthlens.model.family.Families;

import java.io.IOException;
import java.io.PrintStream;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Locale;
import java.util.Set;

/**
 * {@code depthlens eval}: every model evaluated on the same task and documents files, then
 * {@code OUT/<label>/eval.json} (+ CSV tables and charts) and one {@code OUT/report.html}, the folder
 * built under a temporary name and renamed into place when complete (as {@code analyze} does).
 */
public final class EvalJob {
    /**
     * @param maxLength  0 for the default (max_position_embeddings capped at 2048)
     * @param reportsDir where a copy of report.html goes (the project's {@code reports/}), or null
     */
    public record Request(List<ModelSpec> models, List<Path> tasks, List<Path> docs, boolean removal, int prune, int maxLength,
                          Path out, boolean force, Path reportsDir, long memoryBudget, boolean allowNan) {
    }

    private EvalJob() {}

    public static Path run(Request r, Progress progress, PrintStream log) {
        return run(r, progress, log, AnalyzeJob.Execution.LOCAL);
    }

    /** Runs the request here or on Spark, as {@code exec} says; returns the finished output folder. */
    public static Path run(Request r, Progress progress, PrintStream log, AnalyzeJob.Execution exec) {
        ModelSpec.checkLabels(r.models());
        List<ModelSpec> checked = new ArrayList<>();
        for (ModelSpec m : r.models()) {
            try {
                checkOptions(m, r);
                checked.add(m);
            } catch (BadInputException e) {
                RunOptions.skipOrThrow(m, e.getMessage(), exec, log);
            }
        }
        if (checked.size() < r.models().size()) {
            r = new Request(checked, r.tasks(), r.docs(), r.removal(), r.prune(), r.maxLength(), r.out(), r.force(), r.reportsDir(),
                    r.memoryBudget(), r.allowNan());
        }
        EvalInputs inputs = EvalInputs.read(r.tasks(), r.docs());
        List<String> dirs = ReportModel.dirNames(labels(r));
        List<EvalSection.Entry> entries = new ArrayList<>();
        try (AtomicDir out = AtomicDir.create(r.out(), r.force())) {
            List<EvalResult> results = new ArrayList<>();
            if (exec.spark() != null) {
                results.addAll(SparkJobs.eval(r, inputs, exec.spark(), exec, log));
            } else {
                for (ModelSpec spec : r.models()) {
                    try {
                        results.add(evaluate(spec, r, inputs, progress, log));
                    } catch (BadInputException e) {
                        RunOptions.skipOrThrow(spec, e.getMessage(), exec, log);
                        results.add(null);
                    }
                }
            }
            for (int i = 0; i < r.models().size(); i++) {
                if (results.get(i) == null) continue;
                entries.add(new EvalSection.Entry(r.models().get(i).label(), dirs.get(i), Palette.model(i), results.get(i)));
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

    /** Options that must fit every model, checked on its config.json before anything is computed. */
    private static void checkOptions(ModelSpec m, Request r) {
        Architecture a = Families.read(m.dir(), Architecture.LnsMode.AUTO);
        org.depthlens.pass.PrunedRemoval.checkDepth(a, r.prune());
        if (r.maxLength() > 0) Evaluator.checkMaxLength(a.configFile(), a.maxPositions(), r.maxLength());
    }

    /** eval.json and the CSV tables of one model into {@code dir}. */
    public static void write(EvalResult r, Path dir) throws IOException {
        Files.createDirectories(dir);
        EvalJson.write(r, dir.resolve(EvalJson.FILE));
        EvalCsv.writeAll(r, dir);
    }

    static EvalResult evaluate(ModelSpec spec, Request r, EvalInputs inputs, Progress progress, PrintStream log) {
        try (Model model = Model.open(spec.dir(), spec.norm()); ModelTokenizer tok = ModelTokenizer.open(spec.dir())) {
            model.checkpoint().onNonFinite(RunOptions.nonFinite(r.allowNan(), log));
            Progress labelled = (d, t, w) -> progress.update(d, t, spec.label() + ": " + w);
            Evaluator.Options o = new Evaluator.Options(r.maxLength(), r.removal(), r.prune(), null, null, r.memoryBudget());
            EvalResult res = new Evaluator(model, TextEncoder.of(tok), o, labelled).run(spec.label(), inputs.tasks(), inputs.docs());
            log.printf(Locale.ROOT, "%s: %s, %d blocks, %s: %d sequences (%d tokens), %d passes, %.1f s%n", spec.label(),
                    model.arch().family(), model.arch().layers(), model.arch().norm().describe(), res.settings().requests(),
                    res.settings().inputTokens(), res.settings().passes(), res.settings().seconds());
            return withProvenance(res, model, inputs);
        }
    }

    static EvalResult withProvenance(EvalResult res, Model model, EvalInputs inputs) {
        Provenance p = ProvenanceBuilder.of(model, inputs.dataPath(), inputs.fingerprint(), res.settings().requests(),
                res.settings().inputTokens());
        return res.with(inputs.describe(), p);
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
