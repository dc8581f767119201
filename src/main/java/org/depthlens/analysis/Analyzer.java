package org.depthlens.analysis;

import org.depthlens.pass.Batch;
import org.depthlens.pass.BlockMajorPass;
import org.depthlens.pass.Branch;
import org.depthlens.pass.PrunedRemoval;
import org.depthlens.util.Progress;
import org.depthlens.model.Head;
import org.depthlens.model.Model;
import org.depthlens.model.WeightPool;
import org.depthlens.probe.Metrics;
import org.depthlens.probe.ProbeSums;
import org.depthlens.probe.StreamProbe;
import org.nd4j.linalg.api.ndarray.INDArray;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The probe analysis of one model: a first pass over the weights computes every probe metric and
 * the full single-block removal sweep; once angular_last is known, a second pass measures the
 * contiguous pruning Gromov et al. choose. Windows are grouped into passes whose stream states fit
 * the memory budget; groups merge as partial sums.
 */
public final class Analyzer {
    /** Options of one analysis. */
    public record Options(boolean removalSweep, int prune, long memoryBudgetBytes) {
        public static Options defaults() {
            return new Options(true, 4, Runtime.getRuntime().maxMemory() / 2);
        }
    }

    /** Metrics, pruning and expert usage of one model. */
    public record Outcome(Metrics metrics, List<PrunedRemoval> pruned, List<long[]> expertUsage, long tokens, int windows) {
    }

    private final Model model;
    private final Options options;
    private final Progress progress;
    /** Weight loads per pass, for tests and benchmarks. */
    private final List<Long> loadsPerPass = new ArrayList<>();
    /** Loads of each tensor in each pass (tests check every block tensor is read exactly once per pass). */
    private final List<Map<String, Integer>> loadsByNamePerPass = new ArrayList<>();

    public Analyzer(Model model, Options options, Progress progress) {
        this.model = model;
        this.options = options;
        this.progress = progress;
    }

    public List<Long> loadsPerPass() {
        return loadsPerPass;
    }

    /** For each pass so far (probe passes, then pruning passes), how many times each tensor was loaded. */
    public List<Map<String, Integer>> loadsByNamePerPass() {
        return loadsByNamePerPass;
    }

    public Outcome run(List<int[]> windows) {
        if (windows.isEmpty()) throw new IllegalArgumentException("no windows to analyse");
        int layers = model.arch().layers();
        List<List<int[]>> groups = groups(windows);
        List<Branch> removal = new ArrayList<>();
        if (options.removalSweep()) for (int l = 0; l < layers; l++) removal.add(Branch.without(l));

        ProbeSums total = null;
        List<long[]> usage = null;
        WeightPool pool = model.newPool();
        long passes = groups.size() * (options.prune() > 0 ? 2L : 1L);
        int passNo = 0;
        for (List<int[]> g : groups) {
            Batch batch = Batch.of(g);
            StreamProbe probe = new StreamProbe(layers, model.arch().hidden(), batch.batch(), batch.seqLen());
            long before = pool.loads();
            Map<String, Integer> namesBefore = Map.copyOf(pool.loadsByName());
            int p = ++passNo;
            BlockMajorPass.Result r = new BlockMajorPass(model, pool).run(batch, removal, probe::observe,
                    (d, t, w) -> progress.update(d, t, "pass " + p + "/" + passes + ", " + w));
            loadsPerPass.add(pool.loads() - before);
            loadsByNamePerPass.add(difference(pool.loadsByName(), namesBefore));
            ProbeSums sums = probe.sums();
            List<INDArray> states = new ArrayList<>();
            states.add(r.main());
            for (Branch b : removal) states.add(r.branches().get(b));
            double[][] nll = model.head().nll(states, batch.nextTokenTargets());
            sums.addLoss(nll[0][0], (long) nll[0][1]);
            for (int l = 0; l < removal.size(); l++) sums.addLossWithout(l, nll[l + 1][0], (long) nll[l + 1][1]);
            total = total == null ? sums : total.merge(sums);
            usage = addUsage(usage, r.expertUsage());
        }
        Metrics metrics = total.finish();
        List<PrunedRemoval> pruned = options.prune() > 0 ? prune(metrics, groups, pool, passNo, passes) : List.of();
        return new Outcome(metrics, pruned, usage, total.tokens(), windows.size());
    }

    /** For n = 1..K the start minimising angular_last[l][n-1] (lowest l on ties), and the loss without [l, l+n). */
    private List<PrunedRemoval> prune(Metrics m, List<List<int[]>> groups, WeightPool pool, int passNo, long passes) {
        List<Branch> chosen = PrunedRemoval.choose(m.angularLast(), options.prune()); // element n-1: n blocks
        List<Branch> branches = List.copyOf(new java.util.LinkedHashSet<>(chosen));
        Map<Branch, double[]> nll = new LinkedHashMap<>();
        for (List<int[]> g : groups) {
            Batch batch = Batch.of(g);
            int p = ++passNo;
            long before = pool.loads();
            Map<String, Integer> namesBefore = Map.copyOf(pool.loadsByName());
            BlockMajorPass.Result r = new BlockMajorPass(model, pool).run(batch, branches, null,
                    (d, t, w) -> progress.update(d, t, "pass " + p + "/" + passes + " (pruning), " + w));
            loadsPerPass.add(pool.loads() - before);
            loadsByNamePerPass.add(difference(pool.loadsByName(), namesBefore));
            List<INDArray> states = new ArrayList<>();
            for (Branch b : branches) states.add(r.branches().get(b));
            double[][] s = model.head().nll(states, batch.nextTokenTargets());
            for (int i = 0; i < branches.size(); i++) {
                nll.computeIfAbsent(branches.get(i), x -> new double[2]);
                nll.get(branches.get(i))[0] += s[i][0];
                nll.get(branches.get(i))[1] += s[i][1];
            }
        }
        List<PrunedRemoval> out = new ArrayList<>();
        for (int n = 1; n <= chosen.size(); n++) {
            Branch b = chosen.get(n - 1);
            out.add(new PrunedRemoval(n, b.from(), nll.get(b)[0] / nll.get(b)[1]));
        }
        return out;
    }

    private static Map<String, Integer> difference(Map<String, Integer> after, Map<String, Integer> before) {
        Map<String, Integer> d = new java.util.TreeMap<>();
        after.forEach((k, v) -> {
            int n = v - before.getOrDefault(k, 0);
            if (n > 0) d.put(k, n);
        });
        return d;
    }

    private static List<long[]> addUsage(List<long[]> acc, List<long[]> add) {
        if (add == null) return acc;
        if (acc == null) return new ArrayList<>(add);
        for (int i = 0; i < acc.size(); i++) {
            if (acc.get(i) == null) continue;
            for (int e = 0; e < acc.get(i).length; e++) acc.get(i)[e] += add.get(i)[e];
        }
        return acc;
    }

    /**
     * Groups windows of equal length into passes whose states fit the budget: per token, one hidden
     * vector per removal branch and per observed depth, plus working room.
     */
    List<List<int[]>> groups(List<int[]> windows) {
        int layers = model.arch().layers();
        long perToken = 4L * model.arch().hidden() * (2L * (layers + 1) + 8);
        long maxTokens = Math.max(1, options.memoryBudgetBytes() / perToken);
        Map<Integer, List<int[]>> byLen = new LinkedHashMap<>();
        for (int[] w : windows) byLen.computeIfAbsent(w.length, x -> new ArrayList<>()).add(w);
        List<List<int[]>> out = new ArrayList<>();
        for (List<int[]> same : byLen.values()) {
            int len = same.get(0).length;
            int perGroup = (int) Math.max(1, maxTokens / len);
            for (int i = 0; i < same.size(); i += perGroup) out.add(same.subList(i, Math.min(same.size(), i + perGroup)));
        }
        return out;
    }

    /** Head of the model, for callers that score their own states. */
    public Head head() {
        return model.head();
    }
}
