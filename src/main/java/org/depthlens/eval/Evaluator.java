package org.depthlens.eval;

import org.depthlens.BadInputException;
import org.depthlens.pass.Branch;
import org.depthlens.pass.Passes;
import org.depthlens.pass.RequestOptions;
import org.depthlens.pass.Sequence;
import org.depthlens.stats.Bootstrap;
import org.depthlens.util.Progress;
import org.depthlens.model.Model;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * Perplexity and multiple-choice accuracy of one model, with the performance drop of every single-block
 * removal and of contiguous pruning.
 *
 * <p>All requests (every choice of every task item, every rolling window of every document) are scored
 * together through the pass planner ({@link Passes}), as {@code analyze} scores its windows: each batch is
 * one pass over the weights carrying the main stream and one branch per removed block (and per pruning when
 * its blocks are already known), each branch born from the shared prefix. When {@code eval --prune K} must
 * choose the pruned blocks itself, the first stage also measures angular_last on the last token of every
 * scored sequence and the planner chooses and scores the prunings by the same rule as {@code analyze}.
 */
public final class Evaluator {
    /** Context the default max length is capped at (lm-eval's default max_length). */
    public static final int DEFAULT_MAX_LENGTH_CAP = 2048;

    /**
     * @param maxLength    tokens per model input, 0 for the default (max_position_embeddings, capped at 2048)
     * @param removal      run the single-block removal sweep
     * @param prune        K: contiguous pruning for n = 1..K (0 = none)
     * @param pruning      the pruned blocks when already chosen (analyze's probe pass: one branch per n, in n order),
     *                     or null to choose them by angular_last on the evaluation's own sequences
     * @param pruningSource where the given pruning was chosen (recorded in eval.json)
     */
    public record Options(int maxLength, boolean removal, int prune, List<Branch.Skip> pruning, String pruningSource,
                          long memoryBudgetBytes) implements RequestOptions {
        public Options {
            pruning = pruning == null ? null : List.copyOf(pruning);
        }

        @Override
        public Passes.Request request(Model model) {
            return Evaluator.request(model, this);
        }
    }

    private final Model model;
    private final TextEncoder tok;
    private final Options options;
    private final Progress progress;

    public Evaluator(Model model, TextEncoder tok, Options options, Progress progress) {
        this.model = model;
        this.tok = tok;
        this.options = options;
        this.progress = progress == null ? Progress.NONE : progress;
    }

    /** The max length used for {@code model}: the option, or max_position_embeddings capped at 2048. */
    public static int maxLength(Model model, int option) {
        int ctx = model.arch().maxPositions();
        if (option <= 0) return Math.min(ctx, DEFAULT_MAX_LENGTH_CAP);
        checkMaxLength(model.dir().resolve("config.json"), ctx, option);
        return option;
    }

    /** Refuses a --max-length longer than the model's context {@code ctx} (from {@code configFile}). */
    public static void checkMaxLength(Path configFile, int ctx, int option) {
        if (option > ctx) {
            throw new BadInputException(configFile + ": --max-length " + option + " exceeds the model's context of " + ctx
                    + " (max_position_embeddings); give --max-length " + ctx + " or less");
        }
    }

    /**
     * An evaluation's sequences for the pass planner, and where each task choice and each document's rolling
     * windows sit among them.
     *
     * @param choices   request index of {@code [task][item][choice]}
     * @param docFirst  {@code [docs file][document]}: the index of its first window
     * @param docWindows {@code [docs file][document]}: its number of windows
     * @param docCounts {@code [docs file]}: tokens, words and bytes
     * @param docSizes  {@code [docs file][document]}: its tokens, words and bytes (the bootstrap resamples documents)
     */
    public record Prepared(List<McTask> tasks, List<Documents> docs, int maxLength, int prefixToken, List<Sequence> sequences,
                           int[][][] choices, int[][] docFirst, int[][] docWindows, long[][] docCounts, long[][][] docSizes) {
    }

    /** Runs the evaluation here: {@link #prepare}, the planner's passes, {@link #result}. */
    public EvalResult run(String label, List<McTask> tasks, List<Documents> docs) {
        long t0 = System.nanoTime();
        Prepared p = prepare(tasks, docs);
        Passes.Outcome o = new Passes(model, options.memoryBudgetBytes(), progress).run(p.sequences(), request());
        return result(label, p, o, (System.nanoTime() - t0) / 1e9);
    }

    /** Encodes every choice of every task item and every rolling window of every document (bad input refused here). */
    public Prepared prepare(List<McTask> tasks, List<Documents> docs) {
        int maxLength = maxLength(model, options.maxLength());
        List<LoglikRequest> requests = new ArrayList<>();

        // every choice of every item: request index [task][item][choice]
        int[][][] choiceIdx = new int[tasks.size()][][];
        for (int t = 0; t < tasks.size(); t++) {
            McTask task = tasks.get(t);
            choiceIdx[t] = new int[task.items().size()][];
            for (int i = 0; i < task.items().size(); i++) {
                McTask.Item item = task.items().get(i);
                choiceIdx[t][i] = new int[item.choices().size()];
                for (int c = 0; c < item.choices().size(); c++) {
                    LoglikRequest r;
                    try {
                        r = McEncoding.encode(tok, item.context(), item.choices().get(c));
                    } catch (IllegalArgumentException e) {
                        throw new BadInputException(task.path() + ": line " + item.line() + ", choice " + c + ": " + e.getMessage());
                    }
                    if (r.continuation().length > maxLength) {
                        throw new BadInputException(task.path() + ": line " + item.line() + ", choice " + c + " is "
                                + r.continuation().length + " tokens, longer than --max-length " + maxLength);
                    }
                    choiceIdx[t][i][c] = requests.size();
                    requests.add(r);
                }
            }
        }
        // every rolling window of every document: [docs file][document] -> first request, window count
        int prefix = docs.isEmpty() ? -1 : tok.prefixToken();
        int[][] docFirst = new int[docs.size()][];
        int[][] docWindows = new int[docs.size()][];
        long[][] docCounts = new long[docs.size()][3]; // tokens, words, bytes
        long[][][] docSizes = new long[docs.size()][][];
        for (int d = 0; d < docs.size(); d++) {
            List<String> texts = docs.get(d).texts();
            docFirst[d] = new int[texts.size()];
            docWindows[d] = new int[texts.size()];
            docSizes[d] = new long[texts.size()][];
            for (int k = 0; k < texts.size(); k++) {
                int[] ids = tok.encode(texts.get(k), false);
                List<LoglikRequest> ws = RollingWindows.of(ids, prefix, maxLength);
                docFirst[d][k] = requests.size();
                docWindows[d][k] = ws.size();
                requests.addAll(ws);
                docSizes[d][k] = new long[] {ids.length, Documents.words(texts.get(k)), Documents.utf8Bytes(texts.get(k))};
                for (int c = 0; c < 3; c++) docCounts[d][c] += docSizes[d][k][c];
            }
            if (docCounts[d][0] == 0) throw new BadInputException(docs.get(d).path() + ": the documents encode to no tokens");
        }
        if (requests.isEmpty()) throw new BadInputException("nothing to evaluate: give --tasks or --docs");
        List<Sequence> seqs = requests.stream().map(r -> r.sequence(maxLength)).toList();
        return new Prepared(List.copyOf(tasks), List.copyOf(docs), maxLength, prefix, seqs, choiceIdx, docFirst, docWindows, docCounts,
                docSizes);
    }

    /** What the evaluation asks of the planner: the removal sweep, and the pruning (given, or chosen by angular_last). */
    public Passes.Request request() {
        return request(model, options);
    }

    /** {@link #request()} from the options alone (a Spark executor rebuilds it from them). */
    public static Passes.Request request(Model model, Options options) {
        int k = Math.min(options.prune(), model.arch().layers());
        List<Branch.Skip> given = k > 0 && options.pruning() != null ? options.pruning() : null;
        return new Passes.Request(single(model, options), true, false, k, given, List.of());
    }

    private static List<Branch> single(Model model, Options options) {
        List<Branch> single = new ArrayList<>();
        if (options.removal()) for (int l = 0; l < model.arch().layers(); l++) single.add(Branch.without(l));
        return single;
    }

    /** Accuracies and perplexities from the planner's outcome on {@code p}'s sequences. */
    public EvalResult result(String label, Prepared p, Passes.Outcome o, double seconds) {
        int layers = model.arch().layers();
        List<McTask> tasks = p.tasks();
        List<Documents> docs = p.docs();
        int[][][] choiceIdx = p.choices();
        int[][] docFirst = p.docFirst(), docWindows = p.docWindows();
        long[][] docCounts = p.docCounts();
        List<Branch> single = single(model, options);
        int k = Math.min(options.prune(), layers);
        Map<Branch, double[]> byBranch = o.loglik();
        List<Branch.Skip> pruning = k > 0 ? o.pruning() : null;
        String chosenOn = k > 0 && options.pruning() != null ? options.pruningSource()
                : "angular_last on the last token of the " + p.sequences().size() + " scored sequences of this evaluation";
        double[] full = o.main();

        // sides of every file: the full model, each removed block, each pruning (the bootstrap's paired columns)
        List<double[]> sides = new ArrayList<>();
        sides.add(full);
        for (Branch b : single) sides.add(byBranch.get(b));
        if (pruning != null) for (Branch.Skip b : pruning) sides.add(byBranch.get(b));
        int nPruned = pruning == null ? 0 : pruning.size();

        List<TaskResult> taskResults = new ArrayList<>();
        for (int t = 0; t < tasks.size(); t++) {
            McTask task = tasks.get(t);
            int[][] idx = choiceIdx[t];
            List<List<String>> choices = task.items().stream().map(McTask.Item::choices).toList();
            int[] gold = task.items().stream().mapToInt(McTask.Item::gold).toArray();
            int[][][] hits = new int[sides.size()][][];
            List<Map<String, Double>> scores = new ArrayList<>();
            for (int s = 0; s < sides.size(); s++) {
                double[][] ll = gatherChoices(sides.get(s), idx);
                hits[s] = McScoring.hits(ll, choices, gold);
                scores.add(McScoring.score(ll, choices, gold));
            }
            List<FileScores.Pruned> pr = new ArrayList<>();
            for (int i = 0; i < nPruned; i++) {
                Branch.Skip b = pruning.get(i);
                pr.add(new FileScores.Pruned(b.n(), b.from(), scores.get(1 + single.size() + i)));
            }
            FileIntervals ci = FileIntervals.items(hits, single.size(), nPruned, Bootstrap.RESAMPLES, Bootstrap.SEED);
            taskResults.add(new TaskResult(task.name(), task.items().size(), scores.get(0), gatherChoices(full, idx),
                    List.copyOf(scores.subList(1, 1 + single.size())), pr, ci));
        }
        List<DocsResult> docResults = new ArrayList<>();
        for (int d = 0; d < docs.size(); d++) {
            long[] c = docCounts[d];
            double[][] perDoc = new double[sides.size()][];
            List<Map<String, Double>> values = new ArrayList<>();
            for (int s = 0; s < sides.size(); s++) {
                perDoc[s] = perDocument(sides.get(s), docFirst[d], docWindows[d]);
                values.add(DocsResult.metrics(sum(perDoc[s]), c[0], c[1], c[2]));
            }
            List<FileScores.Pruned> pr = new ArrayList<>();
            for (int i = 0; i < nPruned; i++) {
                Branch.Skip b = pruning.get(i);
                pr.add(new FileScores.Pruned(b.n(), b.from(), values.get(1 + single.size() + i)));
            }
            FileIntervals ci = FileIntervals.documents(p.docSizes()[d], perDoc, single.size(), nPruned, Bootstrap.RESAMPLES, Bootstrap.SEED);
            docResults.add(new DocsResult(docs.get(d).name(), docs.get(d).texts().size(), c[0], c[1], c[2], sum(perDoc[0]),
                    values.get(0), List.copyOf(values.subList(1, 1 + single.size())), pr, ci));
        }
        EvalResult.Settings settings = new EvalResult.Settings(p.maxLength(), options.removal() ? "single" : "none", k,
                k > 0 ? chosenOn : null, p.prefixToken(), p.sequences().size(), o.inputTokens(), o.passes(), seconds);
        return new EvalResult(label, model.arch().family(), model.arch().lns(), layers, settings, taskResults, docResults, List.of(), null);
    }

    private static double[][] gatherChoices(double[] ll, int[][] idx) {
        double[][] out = new double[idx.length][];
        for (int i = 0; i < idx.length; i++) {
            out[i] = new double[idx[i].length];
            for (int c = 0; c < idx[i].length; c++) out[i][c] = ll[idx[i][c]];
        }
        return out;
    }

    /** Each document's log-likelihood: the sum over its windows, in order, in double. */
    private static double[] perDocument(double[] ll, int[] first, int[] windows) {
        double[] out = new double[first.length];
        for (int k = 0; k < first.length; k++) {
            double doc = 0;
            for (int w = 0; w < windows[k]; w++) doc += ll[first[k] + w];
            out[k] = doc;
        }
        return out;
    }

    /** The documents' log-likelihoods added in document order (as the bootstrap adds them). */
    private static double sum(double[] perDocument) {
        double total = 0;
        for (double v : perDocument) total += v;
        return total;
    }
}
