package org.depthlens.pass;

import org.depthlens.model.Gemm;
import org.depthlens.model.Model;
import org.depthlens.model.WeightPool;
import org.depthlens.probe.LastTokenAngles;
import org.depthlens.probe.Rows;
import org.depthlens.util.Progress;
import org.nd4j.linalg.api.ndarray.INDArray;

import java.io.Serializable;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.Comparator;
import java.util.IdentityHashMap;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * The one pass planner of {@code analyze} and {@code eval}: it groups sequences into batches that fit the
 * memory budget, runs each batch as one {@link BlockMajorPass} carrying the main stream and every branch,
 * scores the next-token log-likelihood of each sequence's scored rows in every stream, measures angular_last
 * per sequence, counts expert choices, feeds the main stream to the run's {@link PassProbe}s, and — when a
 * run asks for contiguous pruning — chooses the pruned blocks from angular_last ({@link PrunedRemoval#choose})
 * and scores them in a second stage.
 *
 * <p>The steps are public so that a distributed driver can run them apart: {@link #groups} plans a stage,
 * {@link #run(List, int[], Plan)} runs one group into a {@link PassPart}, {@link #merge} merges parts in a
 * fixed order, {@link Request#pruningStage} plans the second stage from the first one's totals, and
 * {@link #outcome} puts both stages together. {@link #run(List, Request)} does all of it here. Parts and
 * branches are serialisable; plans and requests hold live probes, so each worker builds its own from
 * the same options (e.g. {@code Analyzer.request}) and only parts travel.
 */
public final class Passes {
    /** Hidden vectors per token of working room besides the live streams: block temporaries, the head's inputs. */
    static final long WORKING_VECTORS = 8;

    private final Model model;
    private final WeightPool pool;
    private final long memoryBudgetBytes;
    private final Progress progress;

    public Passes(Model model, WeightPool pool, long memoryBudgetBytes, Progress progress) {
        this.model = model;
        this.pool = pool;
        this.memoryBudgetBytes = memoryBudgetBytes;
        this.progress = progress == null ? Progress.NONE : progress;
    }

    /** With a weight pool of its own. */
    public Passes(Model model, long memoryBudgetBytes, Progress progress) {
        this(model, model.newPool(), memoryBudgetBytes, progress);
    }

    /**
     * What one stage computes for each sequence.
     *
     * @param branches   streams carried next to the main stream, scored like it
     * @param scoreMain  whether the main stream's log-likelihoods are wanted (it always runs: branches fork from it)
     * @param lastAngles whether to measure angular_last per sequence
     * @param probes     what else watches the main stream
     */
    public record Plan(List<Branch> branches, boolean scoreMain, boolean lastAngles, List<PassProbe<?>> probes) {
        public Plan {
            branches = List.copyOf(new LinkedHashSet<>(branches));
            probes = List.copyOf(probes);
        }

        /** Streams scored per sequence: the main one (if scored), then the branches. */
        int scoredStreams() {
            return branches.size() + (scoreMain ? 1 : 0);
        }

        boolean allowsPadding() {
            return probes.stream().allMatch(PassProbe::allowsPadding);
        }
    }

    /**
     * A run: the first stage's branches and probes, and contiguous pruning of n = 1..{@code prune} blocks,
     * either {@code pruning} given (one span per n, in n order) or chosen from the first stage's angular_last.
     *
     * @param lastAngles measure angular_last even when no pruning is chosen (analyze reports it)
     */
    public record Request(List<Branch> branches, boolean scoreMain, boolean lastAngles, int prune, List<Branch.Skip> pruning,
                          List<PassProbe<?>> probes) {
        public Request {
            branches = List.copyOf(branches);
            pruning = pruning == null ? null : List.copyOf(pruning);
            probes = List.copyOf(probes);
            if (pruning != null && pruning.size() != prune) throw new IllegalArgumentException(pruning.size() + " spans for --prune " + prune);
        }

        boolean choosesPruning() {
            return prune > 0 && pruning == null;
        }

        /** The first stage: the branches, the given pruning spans, and angular_last if the pruning is to be chosen. */
        public Plan firstStage() {
            List<Branch> all = new ArrayList<>(branches);
            if (pruning != null) all.addAll(pruning);
            return new Plan(all, scoreMain, lastAngles || choosesPruning(), probes);
        }

        /** The pruning spans, n = 1..K: given, or chosen from the first stage's angular_last. */
        public List<Branch.Skip> spans(Totals first) {
            if (prune == 0) return List.of();
            return pruning != null ? pruning : PrunedRemoval.choose(first.angularLast(), prune);
        }

        /** The second stage: the pruning spans the first stage did not score, or null when there is none. */
        public Plan pruningStage(Totals first) {
            List<Branch> missing = new ArrayList<>(new LinkedHashSet<>(spans(first)));
            missing.removeAll(first.loglik().keySet()); // n = 1 is usually one of the single removals
            return missing.isEmpty() ? null : new Plan(missing, false, false, List.of());
        }
    }

    /**
     * Merged parts of one stage.
     *
     * @param main        per sequence, the main stream's log-likelihood (null when not scored)
     * @param loglik      per branch, per sequence
     * @param angularLast angular_last[l][n-1], or null when not measured
     * @param probes      each probe's partials added up in sequence order, by name
     * @param perSequence each probe's partials per sequence, in sequence order, by name (e.g. for resampling windows)
     * @param groups      passes over the weights (one per group)
     * @param lastAngles  per sequence, its angular_last values ({@link LastTokenAngles#index}), or null
     */
    public record Totals(double[] main, Map<Branch, double[]> loglik, double[][] angularLast, List<long[]> expertUsage,
                         Map<String, Object> probes, Map<String, List<Serializable>> perSequence, int groups, long inputTokens,
                         double[][] lastAngles) {
    }

    /**
     * A whole run.
     *
     * @param pruning the spans pruned together, n = 1..K (their log-likelihoods are in {@code loglik})
     * @param probes      each probe's partials added up in sequence order, by name
     * @param perSequence each probe's partials per sequence, in sequence order, by name
     * @param passes      passes over the weights, both stages
     * @param lastAngles  per sequence, its angular_last values, or null (the windows the bootstrap resamples)
     */
    public record Outcome(double[] main, Map<Branch, double[]> loglik, double[][] angularLast, List<Branch.Skip> pruning,
                          List<long[]> expertUsage, Map<String, Object> probes, Map<String, List<Serializable>> perSequence,
                          int passes, long inputTokens, double[][] lastAngles) {
    }

    /** Runs both stages here, group by group. */
    public Outcome run(List<Sequence> seqs, Request r) {
        Totals first = runStage(seqs, r.firstStage(), "");
        Plan second = r.pruningStage(first);
        Totals pruning = second == null ? null : runStage(seqs, second, "pruning, ");
        return outcome(r, first, pruning);
    }

    private Totals runStage(List<Sequence> seqs, Plan plan, String what) {
        List<int[]> groups = groups(seqs, plan);
        List<PassPart> parts = new ArrayList<>();
        for (int g = 0; g < groups.size(); g++) {
            String label = what + "batch " + (g + 1) + "/" + groups.size() + ", ";
            parts.add(run(seqs, groups.get(g), plan, (d, t, w) -> progress.update(d, t, label + w)));
        }
        return merge(seqs.size(), plan, model.arch().layers(), parts);
    }

    /** Both stages put together: the pruning spans and every stream's log-likelihoods. */
    public static Outcome outcome(Request r, Totals first, Totals pruning) {
        Map<Branch, double[]> all = new LinkedHashMap<>(first.loglik());
        if (pruning != null) all.putAll(pruning.loglik());
        List<Branch.Skip> spans = r.spans(first);
        for (Branch b : spans) if (!all.containsKey(b)) throw new IllegalStateException("span " + b + " was not scored");
        return new Outcome(first.main(), all, first.angularLast(), spans, first.expertUsage(), first.probes(), first.perSequence(),
                first.groups() + (pruning == null ? 0 : pruning.groups()), first.inputTokens(), first.lastAngles());
    }

    /**
     * The one batching rule: sequences sorted longest first (then by index), each batch padded to its longest
     * sequence t and holding only sequences longer than t/2 (padding at most doubles any sequence's work),
     * or exactly t long when a probe observes every row; at most as many tokens as the memory budget holds
     * for one state per stream, the probes' own per-token states, and working room.
     */
    public List<int[]> groups(List<Sequence> seqs, Plan plan) {
        long floats = (long) model.arch().hidden() * (1 + plan.branches().size() + WORKING_VECTORS);
        for (PassProbe<?> p : plan.probes()) floats += p.floatsPerToken();
        long maxTokens = Math.max(1, memoryBudgetBytes / (4 * floats));
        boolean mix = plan.allowsPadding();
        Integer[] order = new Integer[seqs.size()];
        for (int i = 0; i < order.length; i++) order[i] = i;
        Arrays.sort(order, Comparator.comparingInt((Integer i) -> -seqs.get(i).length()).thenComparingInt(i -> i));
        List<int[]> out = new ArrayList<>();
        int i = 0;
        while (i < order.length) {
            int t = seqs.get(order[i]).length();
            int cap = (int) Math.max(1, Math.min(Integer.MAX_VALUE, maxTokens / t));
            int end = i + 1;
            while (end < order.length && end - i < cap) {
                int len = seqs.get(order[end]).length();
                if (mix ? 2 * len <= t : len != t) break;
                end++;
            }
            int[] members = new int[end - i];
            for (int k = i; k < end; k++) members[k - i] = order[k];
            out.add(members);
            i = end;
        }
        return out;
    }

    /** Runs one group of sequences ({@code members}, indices into {@code seqs}) in one pass over the weights. */
    public PassPart run(List<Sequence> seqs, int[] members, Plan plan) {
        return run(seqs, members, plan, progress);
    }

    @SuppressWarnings({"unchecked", "rawtypes"})
    private PassPart run(List<Sequence> seqs, int[] members, Plan plan, Progress prog) {
        Batch batch = Batch.of(seqs, members);
        if (batch.padded() && !plan.allowsPadding()) throw new IllegalArgumentException("a probe of this plan cannot see padded batches");
        int layers = model.arch().layers();
        List<StreamObserver> observers = new ArrayList<>();
        LastTokenAngles angles = plan.lastAngles() ? new LastTokenAngles(layers, batch.lastRows()) : null;
        if (angles != null) observers.add((depth, x) -> angles.observe(depth, x));
        Map<String, PassProbe.Observer<?>> probes = new LinkedHashMap<>();
        for (PassProbe<?> p : plan.probes()) {
            PassProbe.Observer<?> o = p.observe(batch);
            probes.put(p.name(), o);
            observers.add(o);
        }
        BlockMajorPass.Result r = new BlockMajorPass(model, pool).run(batch, plan.branches(), observers, prog);

        // only the scored rows go through the head: the cost is rows x V x H per stream
        int scored = 0;
        for (int m : members) scored += seqs.get(m).targets().length;
        int[] rows = new int[scored];
        int[] targets = new int[scored];
        int k = 0;
        for (int b = 0; b < members.length; b++) {
            Sequence s = seqs.get(members[b]);
            for (int j = 0; j < s.targets().length; j++) {
                rows[k] = b * batch.seqLen() + s.scoredFrom() + j;
                targets[k++] = s.targets()[j];
            }
        }
        List<INDArray> states = new ArrayList<>();
        if (plan.scoreMain()) states.add(Rows.gather(r.main(), rows));
        for (Branch b : plan.branches()) states.add(Rows.gather(r.branches().get(b), rows));
        Set<INDArray> finals = Collections.newSetFromMap(new IdentityHashMap<>());
        finals.add(r.main());
        finals.addAll(r.branches().values());
        for (INDArray a : finals) close(a);
        int[] scoredPer = new int[members.length];
        for (int b = 0; b < members.length; b++) scoredPer[b] = seqs.get(members[b]).targets().length;
        double[][] lp = states.isEmpty() ? new double[0][] : model.head().logProbs(states, targets, Gemm.Segments.consecutive(scoredPer));
        for (INDArray a : states) close(a);
        double[][] loglik = new double[members.length][plan.scoredStreams()];
        for (int s = 0; s < lp.length; s++) {
            int row = 0;
            for (int b = 0; b < members.length; b++) {
                double sum = 0; // each sequence's rows, in order, in double
                for (int j = 0; j < seqs.get(members[b]).targets().length; j++) sum += lp[s][row++];
                loglik[b][s] = sum;
            }
        }
        Map<String, List<Serializable>> partials = new LinkedHashMap<>();
        probes.forEach((name, o) -> {
            List<Serializable> perSeq = new ArrayList<>((List<Serializable>) ((PassProbe.Observer) o).result());
            if (perSeq.size() != members.length) {
                throw new IllegalStateException(name + " gave " + perSeq.size() + " partials for " + members.length + " sequences");
            }
            partials.put(name, perSeq);
        });
        long tokens = 0;
        for (int len : batch.lengths()) tokens += len;
        return new PassPart(members.clone(), loglik, angles == null ? null : angles.perSequence(), r.expertUsage(), partials, tokens);
    }

    /**
     * Merges the parts of one stage, given in any order: everything is placed by sequence, so every sequence must
     * be in exactly one part; angular_last and each probe's partials are then added up in sequence order (a fixed
     * order over fixed pieces, whatever the grouping), expert counts (integers) are added.
     */
    @SuppressWarnings({"unchecked", "rawtypes"})
    public static Totals merge(int sequences, Plan plan, int layers, List<PassPart> parts) {
        double[][] ll = new double[sequences][];
        double[][] angles = plan.lastAngles() ? new double[sequences][] : null;
        List<long[]> usage = null;
        Map<String, Serializable[]> bySeq = new LinkedHashMap<>();
        for (PassProbe<?> probe : plan.probes()) bySeq.put(probe.name(), new Serializable[sequences]);
        long tokens = 0;
        for (PassPart p : parts) {
            for (int i = 0; i < p.members().length; i++) {
                int m = p.members()[i];
                if (ll[m] != null) throw new IllegalArgumentException("sequence " + m + " is in two parts");
                ll[m] = p.loglik()[i];
                if (angles != null) angles[m] = p.lastAngles()[i];
                for (PassProbe<?> probe : plan.probes()) bySeq.get(probe.name())[m] = p.probes().get(probe.name()).get(i);
            }
            usage = addUsage(usage, p.expertUsage());
            tokens += p.inputTokens();
        }
        for (int m = 0; m < sequences; m++) if (ll[m] == null) throw new IllegalArgumentException("sequence " + m + " is in no part");
        Map<String, Object> probes = new LinkedHashMap<>();
        Map<String, List<Serializable>> perSequence = new LinkedHashMap<>();
        for (PassProbe<?> probe : plan.probes()) {
            List<Serializable> list = List.of(bySeq.get(probe.name()));
            Serializable acc = probe.empty();
            for (Serializable s : list) acc = ((PassProbe) probe).merge(acc, s);
            probes.put(probe.name(), acc);
            perSequence.put(probe.name(), list);
        }
        double[] main = plan.scoreMain() ? column(ll, 0) : null;
        Map<Branch, double[]> byBranch = new LinkedHashMap<>();
        int first = plan.scoreMain() ? 1 : 0;
        for (int b = 0; b < plan.branches().size(); b++) byBranch.put(plan.branches().get(b), column(ll, first + b));
        return new Totals(main, byBranch, angles == null ? null : LastTokenAngles.mean(layers, angles), usage, probes, perSequence,
                parts.size(), tokens, angles);
    }

    /** Sum of {@code values} in sequence order. */
    public static double sum(double[] values) {
        double s = 0;
        for (double v : values) s += v;
        return s;
    }

    private static double[] column(double[][] rows, int c) {
        double[] out = new double[rows.length];
        for (int i = 0; i < rows.length; i++) out[i] = rows[i][c];
        return out;
    }

    private static List<long[]> addUsage(List<long[]> acc, List<long[]> add) {
        if (add == null) return acc;
        if (acc == null) {
            List<long[]> copy = new ArrayList<>();
            for (long[] a : add) copy.add(a == null ? null : a.clone());
            return copy;
        }
        for (int i = 0; i < acc.size(); i++) {
            if (acc.get(i) == null) continue;
            for (int e = 0; e < acc.get(i).length; e++) acc.get(i)[e] += add.get(i)[e];
        }
        return acc;
    }

    private static void close(INDArray a) {
        if (a != null && a.closeable()) a.close();
    }
}
