package org.depthlens.spark;

import org.depthlens.BadInputException;
import org.depthlens.model.family.NormChoice;
import org.depthlens.model.Model;
import org.depthlens.pass.Branch;
import org.depthlens.pass.PassPart;
import org.depthlens.pass.Passes;
import org.depthlens.pass.RequestOptions;
import org.depthlens.pass.Sequence;
import org.depthlens.util.Progress;

import java.io.PrintStream;
import java.io.Serializable;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Set;

/**
 * The pass planner's run ({@link Passes#run}) of many models on Spark, with the planner's own steps: the driver
 * plans each model's groups ({@link Passes#groups}) exactly as one process would, every (model, group) becomes a
 * task that opens the model on its executor, streams its weights block by block and returns the group's
 * {@link PassPart}; the driver merges each model's parts in group order ({@link Passes#merge}), plans the pruning
 * stage from the merged first stage ({@link Passes.Request#pruningStage}) and runs it as a second Spark stage.
 *
 * <p>With the planner's groups the merge sees the same parts in the same order as a single process, so every
 * number is bitwise the same. {@code windowsPerTask} cuts groups into smaller tasks: log-likelihoods and angles
 * are merged per sequence and stay bitwise; the probe sums merge in a different grouping (within 1e-12).
 */
public final class SparkPasses {
    /**
     * One model of the run.
     *
     * @param options the planner request's options: the request is built from them on the driver and again on each
     *                executor (so only options travel)
     * @param budget  the memory budget of one pass: the single process's, so groups (and numbers) match it
     */
    public record Job(String dir, String label, NormChoice norm, boolean allowNan, List<Sequence> sequences,
                      RequestOptions options, long budget) implements Serializable {
    }

    /** A model's planner outcome, or the one-line message of the bad input that stopped it. */
    public record Result(Passes.Outcome outcome, String badInput) {
    }

    /** One task: a group of one model's sequences through one stage's plan. */
    private record Task(int job, String dir, NormChoice norm, boolean allowNan, int stage, int[] members,
                        List<Sequence> sequences, RequestOptions options, List<Branch> branches, long budget) implements Serializable {
    }

    private SparkPasses() {}

    /** Runs every job; results in job order. */
    public static List<Result> run(SparkRun spark, List<Job> jobs, int windowsPerTask, PrintStream log) {
        int n = jobs.size();
        Passes.Plan[] first = new Passes.Plan[n];
        Passes.Request[] requests = new Passes.Request[n];
        int[] layers = new int[n];
        List<Task> tasks = new ArrayList<>();
        for (int j = 0; j < n; j++) {
            Job job = jobs.get(j);
            try (Model model = Model.open(java.nio.file.Path.of(job.dir()), job.norm())) {
                requests[j] = job.options().request(model);
                first[j] = requests[j].firstStage();
                layers[j] = model.arch().layers();
                Passes planner = new Passes(model, job.budget(), Progress.NONE);
                for (int[] g : split(planner.groups(job.sequences(), first[j]), windowsPerTask)) {
                    tasks.add(task(j, job, 1, g, List.of()));
                }
            }
        }
        String[] bad = new String[n];
        List<List<PassPart>> parts = collect(spark.stage("depthlens: first stage, " + tasks.size() + " tasks", tasks, new Run()),
                tasks, n, bad);
        Passes.Totals[] totals = new Passes.Totals[n];
        Passes.Plan[] second = new Passes.Plan[n];
        List<Task> pruning = new ArrayList<>();
        for (int j = 0; j < n; j++) {
            if (bad[j] != null) continue;
            Job job = jobs.get(j);
            totals[j] = Passes.merge(job.sequences().size(), first[j], layers[j], parts.get(j));
            second[j] = requests[j].pruningStage(totals[j]);
            if (second[j] == null) continue;
            // the second stage groups as the planner would for its own (smaller) plan
            try (Model model = Model.open(java.nio.file.Path.of(job.dir()), job.norm())) {
                Passes planner = new Passes(model, job.budget(), Progress.NONE);
                for (int[] g : split(planner.groups(job.sequences(), second[j]), windowsPerTask)) {
                    pruning.add(task(j, job, 2, g, second[j].branches()));
                }
            }
        }
        List<List<PassPart>> parts2 = collect(spark.stage("depthlens: pruning stage, " + pruning.size() + " tasks", pruning,
                new Run()), pruning, n, bad);
        List<Result> out = new ArrayList<>();
        for (int j = 0; j < n; j++) {
            if (bad[j] != null) {
                out.add(new Result(null, bad[j]));
                continue;
            }
            Passes.Totals t2 = second[j] == null ? null
                    : Passes.merge(jobs.get(j).sequences().size(), second[j], layers[j], parts2.get(j));
            out.add(new Result(Passes.outcome(requests[j], totals[j], t2), null));
        }
        return out;
    }

    private static Task task(int j, Job job, int stage, int[] members, List<Branch> branches) {
        List<Sequence> seqs = new ArrayList<>(members.length);
        for (int m : members) seqs.add(job.sequences().get(m));
        return new Task(j, job.dir(), job.norm(), job.allowNan(), stage, members, seqs, job.options(), branches, job.budget());
    }

    /** The groups, each cut into consecutive pieces of at most {@code max} sequences (0: as they are). */
    static List<int[]> split(List<int[]> groups, int max) {
        if (max <= 0) return groups;
        List<int[]> out = new ArrayList<>();
        for (int[] g : groups) {
            for (int i = 0; i < g.length; i += max) out.add(Arrays.copyOfRange(g, i, Math.min(g.length, i + max)));
        }
        return out;
    }

    /** Each job's parts in task order; a job with a failed task gets its first message in {@code bad}. */
    private static List<List<PassPart>> collect(List<SparkRun.Done<PassPart>> done, List<Task> tasks, int jobs, String[] bad) {
        List<List<PassPart>> parts = new ArrayList<>();
        for (int j = 0; j < jobs; j++) parts.add(new ArrayList<>());
        for (int i = 0; i < done.size(); i++) {
            int j = tasks.get(i).job();
            if (done.get(i).failed()) {
                if (bad[j] == null) bad[j] = done.get(i).badInput();
            } else {
                parts.get(j).add(done.get(i).value());
            }
        }
        return parts;
    }

    /** On the executor: open the model, rebuild the stage's plan, run the group, return its part. */
    private static final class Run implements SparkRun.Body<Task, PassPart> {
        @Override
        public PassPart run(Task t) {
            ExecutorEnv.checkModel(t.dir());
            try (Model model = Model.open(java.nio.file.Path.of(t.dir()), t.norm())) {
                Set<String> warned = java.util.concurrent.ConcurrentHashMap.newKeySet();
                model.checkpoint().onNonFinite((tensor, count, message) -> {
                    if (!t.allowNan()) throw new BadInputException(message + "; use --allow-nan to analyse anyway");
                    warned.add(tensor.name());
                });
                Passes.Request r = t.options().request(model);
                Passes.Plan plan = t.stage() == 1 ? r.firstStage() : new Passes.Plan(t.branches(), false, false, List.of());
                int[] local = new int[t.members().length];
                for (int i = 0; i < local.length; i++) local[i] = i;
                PassPart p = new Passes(model, t.budget(), Progress.NONE).run(t.sequences(), local, plan);
                return new PassPart(t.members().clone(), p.loglik(), p.lastAngles(), p.expertUsage(), p.probes(), p.inputTokens());
            }
        }
    }
}
