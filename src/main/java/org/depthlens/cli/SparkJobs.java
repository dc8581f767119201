package org.depthlens.cli;

import org.depthlens.BadInputException;
import org.depthlens.analysis.Analyzer;
import org.depthlens.analysis.ModelResult;
import org.depthlens.analysis.Windows;
import org.depthlens.eval.EvalInputs;
import org.depthlens.eval.EvalResult;
import org.depthlens.eval.Evaluator;
import org.depthlens.eval.TextEncoder;
import org.depthlens.text.ModelTokenizer;
import org.depthlens.util.Progress;
import org.depthlens.model.Model;
import org.depthlens.pass.Passes;
import org.depthlens.pass.Provenance;
import org.depthlens.pass.ProvenanceBuilder;
import org.depthlens.pass.Sequence;
import org.depthlens.spark.SparkOptions;
import org.depthlens.spark.SparkPasses;
import org.depthlens.spark.SparkRun;

import java.io.PrintStream;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * {@code analyze} and {@code eval} on Spark. The only class of the commands that uses Spark's side of
 * {@code org.depthlens.spark}, so that a run without {@code --spark} never loads Spark (it is not on the
 * single-machine launcher's class path).
 */
final class SparkJobs {
    private SparkJobs() {}

    /** What a model needs on the driver besides its planner outcome, to become a result. */
    private record Planned(ModelSpec spec, String family, boolean lns, List<Sequence> seqs, Provenance provenance) {
    }

    /**
     * Each model's analysis, as {@link AnalyzeJob} computes it in one process; null for a model skipped with
     * {@code keepGoing} (a warning names it and its error).
     */
    static List<ModelResult> analyze(AnalyzeJob.Request r, SparkOptions o, AnalyzeJob.Execution keepGoing, PrintStream log) {
        Analyzer.Options options = new Analyzer.Options(true, r.prune(), r.memoryBudget(), r.probes());
        Analyze requests = new Analyze(true, r.prune(), r.memoryBudget(), r.probes().logitLens(), r.probes().jacobian(),
                r.probes().sublayerRemoval());
        List<Planned> planned = new ArrayList<>();
        List<SparkPasses.Job> jobs = new ArrayList<>();
        List<ModelResult> out = new ArrayList<>();
        for (ModelSpec spec : r.models()) {
            out.add(null);
            try (Model model = Model.open(spec.dir(), spec.norm())) {
                List<int[]> windows = r.data().windows(spec.dir(), r.window(), r.maxWindows());
                Windows.validate(windows, model.arch().vocab(), model.arch().maxPositions(), r.data().path().toString(), true);
                long tokens = windows.stream().mapToLong(w -> w.length).sum();
                log.printf("%s: %s, %d blocks, %s, %d windows (%d tokens)%n", spec.label(), model.arch().family(),
                        model.arch().layers(), model.arch().norm().describe(), windows.size(), tokens);
                Provenance prov = ProvenanceBuilder.of(model, r.data().path().toString(), r.data().bytes(), windows.size(), tokens);
                planned.add(new Planned(spec, model.arch().family(), model.arch().lns(), Analyzer.sequences(windows), prov));
            } catch (BadInputException e) {
                RunOptions.skipOrThrow(spec, e.getMessage(), keepGoing, log);
                planned.add(null);
                continue;
            }
            Planned p = planned.get(planned.size() - 1);
            jobs.add(new SparkPasses.Job(spec.dir().toString(), spec.label(), spec.norm(), r.allowNan(), p.seqs(), requests,
                    r.memoryBudget()));
        }
        List<SparkPasses.Result> results;
        String execution;
        try (SparkRun run = SparkRun.start(o, "depthlens analyze", log)) {
            results = SparkPasses.run(run, jobs, o.windowsPerTask(), log);
            execution = run.describe();
        }
        int j = 0;
        for (int i = 0; i < planned.size(); i++) {
            Planned p = planned.get(i);
            if (p == null) continue;
            SparkPasses.Result res = results.get(j++);
            if (res.badInput() != null) {
                RunOptions.skipOrThrow(p.spec(), res.badInput(), keepGoing, log);
                continue;
            }
            Analyzer.Outcome a = Analyzer.outcome(p.seqs(), res.outcome(), options);
            out.set(i, new ModelResult(p.spec().label(), p.family(), p.lns(), a.metrics(), a.pruned(), a.expertUsage(),
                    p.provenance().withExecution(execution)));
        }
        log.println(execution);
        return out;
    }

    /** An evaluation planned on the driver (its evaluator keeps the model's architecture for the results). */
    private record PlannedEval(ModelSpec spec, Evaluator evaluator, Evaluator.Prepared prepared, Provenance provenance,
                               String describe) {
    }

    /** Each model's evaluation, as {@link EvalJob} computes it in one process; null for a model skipped with keepGoing. */
    static List<EvalResult> eval(EvalJob.Request r, EvalInputs inputs, SparkOptions o, AnalyzeJob.Execution keepGoing, PrintStream log) {
        long t0 = System.nanoTime();
        Evaluator.Options options = new Evaluator.Options(r.maxLength(), r.removal(), r.prune(), null, null, r.memoryBudget());
        Eval requests = new Eval(r.maxLength(), r.removal(), r.prune(), r.memoryBudget());
        List<PlannedEval> planned = new ArrayList<>();
        List<SparkPasses.Job> jobs = new ArrayList<>();
        List<EvalResult> out = new ArrayList<>();
        for (ModelSpec spec : r.models()) {
            out.add(null);
            PlannedEval pe;
            try (Model model = Model.open(spec.dir(), spec.norm()); ModelTokenizer tok = ModelTokenizer.open(spec.dir())) {
                Evaluator ev = new Evaluator(model, TextEncoder.of(tok), options, Progress.NONE);
                Evaluator.Prepared p = ev.prepare(inputs.tasks(), inputs.docs());
                long tokens = p.sequences().stream().mapToLong(Sequence::length).sum();
                pe = new PlannedEval(spec, ev, p, ProvenanceBuilder.of(model, inputs.dataPath(), inputs.fingerprint(),
                        p.sequences().size(), tokens), model.arch().norm().describe());
            } catch (BadInputException e) {
                RunOptions.skipOrThrow(spec, e.getMessage(), keepGoing, log);
                planned.add(null);
                continue;
            }
            planned.add(pe);
            jobs.add(new SparkPasses.Job(spec.dir().toString(), spec.label(), spec.norm(), r.allowNan(), pe.prepared().sequences(),
                    requests, r.memoryBudget()));
        }
        List<SparkPasses.Result> results;
        String execution;
        try (SparkRun run = SparkRun.start(o, "depthlens eval", log)) {
            results = SparkPasses.run(run, jobs, o.windowsPerTask(), log);
            execution = run.describe();
        }
        double seconds = (System.nanoTime() - t0) / 1e9;
        int j = 0;
        for (int i = 0; i < planned.size(); i++) {
            PlannedEval p = planned.get(i);
            if (p == null) continue;
            SparkPasses.Result res = results.get(j++);
            if (res.badInput() != null) {
                RunOptions.skipOrThrow(p.spec(), res.badInput(), keepGoing, log);
                continue;
            }
            EvalResult e = p.evaluator().result(p.spec().label(), p.prepared(), res.outcome(), seconds);
            log.printf(Locale.ROOT, "%s: %s, %d blocks, %s: %d sequences (%d tokens), %d passes%n", p.spec().label(), e.family(),
                    e.blocks(), p.describe(), e.settings().requests(), e.settings().inputTokens(), e.settings().passes());
            out.set(i, e.with(inputs.describe(), p.provenance().withExecution(execution)));
        }
        log.println(execution);
        return out;
    }


    /** eval's planner request (the pruning chosen on the evaluation's own sequences), rebuilt on every executor. */
    private record Eval(int maxLength, boolean removal, int prune, long budget) implements SparkPasses.Requests {
        @Override
        public Passes.Request of(Model model) {
            return new Evaluator(model, null, new Evaluator.Options(maxLength, removal, prune, null, null, budget), Progress.NONE)
                    .request();
        }
    }

    /** analyze's planner request, rebuilt from its options on every executor. */
    private record Analyze(boolean removalSweep, int prune, long budget, boolean logitLens, boolean jacobian,
                           boolean sublayerRemoval) implements SparkPasses.Requests {
        @Override
        public Passes.Request of(Model model) {
            return Analyzer.request(model, new Analyzer.Options(removalSweep, prune, budget,
                    new Analyzer.DepthProbes(logitLens, jacobian, sublayerRemoval)));
        }
    }
}
