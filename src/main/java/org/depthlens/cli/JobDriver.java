package org.depthlens.cli;

import org.depthlens.BadInputException;
import org.depthlens.eval.Evaluator;
import org.depthlens.model.Model;
import org.depthlens.model.family.Architecture;
import org.depthlens.model.family.Families;
import org.depthlens.pass.Passes;
import org.depthlens.pass.PrunedRemoval;
import org.depthlens.pass.RequestOptions;
import org.depthlens.pass.Sequence;
import org.depthlens.spark.SparkPasses;
import org.depthlens.util.Progress;

import java.io.PrintStream;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;

/**
 * The one per-model loop of {@code analyze} and {@code eval}, in this process or on Spark. For each model it opens
 * the model, lets the command plan it ({@link Work#plan}: its sequences, the options its planner request is built
 * from, and how the planner's outcome becomes the command's result), runs the request, and builds the result; a
 * model that meets bad input fails the run with its one line or, with {@code --keep-going}, is reported and left
 * out. Here, each model is run while it is open, one after the other; on Spark every model is planned first and
 * the planner's stages run as Spark stages ({@link SparkJobs}), the executors rebuilding each request from the
 * same serialisable options. One Spark context serves every {@link #run} of a driver (analyze's evaluation is a
 * second round of stages).
 */
final class JobDriver implements AutoCloseable {
    /** What a command computes on one model. */
    interface Work<R> {
        /** With the model open (on Spark: on the driver, headers only): bad input is thrown here. */
        Planned<R> plan(ModelSpec spec, Model model, PrintStream log);

        /** Words before the progress of a pass, after the model's label. */
        default String stage() {
            return "";
        }
    }

    /**
     * One model's plan.
     *
     * @param options the planner request's options (serialisable: Spark executors build the request from them)
     * @param result  the command's result from the outcome and the seconds since planning began (the model may be
     *                closed by then)
     */
    record Planned<R>(List<Sequence> sequences, RequestOptions options, Result<R> result) {
    }

    @FunctionalInterface
    interface Result<R> {
        R of(Passes.Outcome outcome, double seconds);
    }

    /** The Spark side: a context that runs the jobs of every model of a round, and says how it ran. */
    interface Cluster extends AutoCloseable {
        List<SparkPasses.Result> run(List<SparkPasses.Job> jobs);

        String describe();

        @Override
        void close();
    }

    private final String name;
    private final AnalyzeJob.Execution exec;
    private final long memoryBudget;
    private final boolean allowNan;
    private final Progress progress;
    private final PrintStream log;
    private Cluster cluster;

    /**
     * @param name         the run's name on Spark ("depthlens analyze")
     * @param memoryBudget the memory budget of one pass, also on executors (so groups, and numbers, match)
     */
    JobDriver(String name, AnalyzeJob.Execution exec, long memoryBudget, boolean allowNan, Progress progress, PrintStream log) {
        this.name = name;
        this.exec = exec;
        this.memoryBudget = memoryBudget;
        this.allowNan = allowNan;
        this.progress = progress;
        this.log = log;
    }

    /**
     * The models that the options fit, checked on each config.json before anything is computed or written: a pruning
     * depth the user gave (0: none given) and a {@code --max-length} (0: the default). A model they do not fit fails
     * the run, or with {@code --keep-going} is left out with a warning (and recorded in {@code exec}'s skips).
     */
    static List<ModelSpec> fitting(List<ModelSpec> models, int prune, int maxLength, AnalyzeJob.Execution exec, PrintStream log) {
        List<ModelSpec> out = new ArrayList<>();
        for (ModelSpec m : models) {
            try {
                Architecture a = Families.read(m.dir(), Architecture.LnsMode.AUTO);
                PrunedRemoval.checkDepth(a, prune);
                if (maxLength > 0) Evaluator.checkMaxLength(a.configFile(), a.maxPositions(), maxLength);
                out.add(m);
            } catch (BadInputException e) {
                RunOptions.skipOrThrow(m, e.getMessage(), exec, log);
            }
        }
        return out;
    }

    /** Each model's result, in order; null for a model left out with {@code --keep-going}. */
    <R> List<R> run(List<ModelSpec> models, Work<R> work) {
        List<R> out = new ArrayList<>(Collections.nCopies(models.size(), null));
        List<Waiting<R>> waiting = new ArrayList<>();
        for (int i = 0; i < models.size(); i++) {
            ModelSpec spec = models.get(i);
            long t0 = System.nanoTime();
            try (Model model = Model.open(spec.dir(), spec.norm())) {
                model.checkpoint().onNonFinite(RunOptions.nonFinite(allowNan, log));
                Planned<R> p = work.plan(spec, model, log);
                if (exec.spark() == null) {
                    String what = spec.label() + ": " + work.stage();
                    Passes passes = new Passes(model, memoryBudget, (d, t, w) -> progress.update(d, t, what + w));
                    out.set(i, p.result().of(passes.run(p.sequences(), p.options().request(model)), seconds(t0)));
                } else {
                    waiting.add(new Waiting<>(i, p, t0, new SparkPasses.Job(spec.dir().toString(), spec.label(), spec.norm(),
                            allowNan, p.sequences(), p.options(), memoryBudget)));
                }
            } catch (BadInputException e) {
                RunOptions.skipOrThrow(spec, e.getMessage(), exec, log);
            }
        }
        if (waiting.isEmpty()) return out;
        List<SparkPasses.Result> results = cluster().run(waiting.stream().map(Waiting::job).toList());
        for (int j = 0; j < waiting.size(); j++) {
            Waiting<R> w = waiting.get(j);
            SparkPasses.Result r = results.get(j);
            if (r.badInput() != null) {
                RunOptions.skipOrThrow(models.get(w.index()), r.badInput(), exec, log);
            } else {
                out.set(w.index(), w.planned().result().of(r.outcome(), seconds(w.t0())));
            }
        }
        return out;
    }

    /** A model planned for Spark, waiting for its round's stages. */
    private record Waiting<R>(int index, Planned<R> planned, long t0, SparkPasses.Job job) {
    }

    private Cluster cluster() {
        if (cluster == null) cluster = SparkJobs.start(exec.spark(), name, log);
        return cluster;
    }

    /**
     * After the last {@link #run}: stops Spark, if it ran, logs how it ran and returns that for provenance
     * ("Apache Spark 4.0.4, master local[2], 6 tasks in 2 stages"); null when everything ran here.
     */
    String finish() {
        if (cluster == null) return null;
        String how = cluster.describe();
        close();
        log.println(how);
        return how;
    }

    private static double seconds(long t0) {
        return (System.nanoTime() - t0) / 1e9;
    }

    /** Stops Spark, if it ran (a failed run's clean-up; {@link #finish} after a complete one). */
    @Override
    public void close() {
        if (cluster == null) return;
        cluster.close();
        cluster = null;
    }
}
