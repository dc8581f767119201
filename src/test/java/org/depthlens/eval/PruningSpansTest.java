package org.depthlens.eval;

import org.depthlens.Fixtures;
import org.depthlens.TinyCurse;
import org.depthlens.analysis.Analyzer;
import org.depthlens.model.family.Architecture;
import org.depthlens.model.Model;
import org.depthlens.pass.PrunedRemoval;
import org.depthlens.util.Progress;
import org.junit.jupiter.api.Test;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

/**
 * {@code analyze --prune K} and {@code eval --prune K} choose the same blocks when they read the same
 * sequences: both go through the one pass planner, whose angular_last is measured per sequence by one
 * computation and summed in sequence order, and whose one rule (PrunedRemoval.choose) picks the spans. On
 * the trained tiny-curse-24 model (validation text, each window led by BOS), the analysis reads the windows
 * and the evaluation reads documents whose rolling window is exactly each of them.
 */
class PruningSpansTest {
    static final Path PRE_LN = Fixtures.tinyCurse().resolve("pre_ln");
    static final int K = 6;

    @Test
    void analyzeAndEvalChooseIdenticalSpans() {
        int windows = 6, len = 40;
        List<int[]> next = TinyCurse.windows(windows, len); // consecutive validation ids
        List<int[]> seqs = new ArrayList<>();
        for (int[] w : next) {
            int[] s = new int[len];
            s[0] = 1; // BOS, the evaluation's prefix token
            System.arraycopy(w, 0, s, 1, len - 1);
            seqs.add(s);
        }
        try (Model m = Model.open(PRE_LN, Architecture.LnsMode.AUTO)) {
            Analyzer.Outcome a = new Analyzer(m, new Analyzer.Options(false, K, 1L << 30), Progress.NONE).run(seqs);

            // document d encodes to window d's ids after its BOS and the id that follows them: its one rolling window
            // reads [BOS] + all but its last token, which is exactly window d, and predicts every token
            TextEncoder enc = new TextEncoder() {
                @Override
                public int[] encode(String text, boolean special) {
                    return next.get(Integer.parseInt(text)).clone();
                }

                @Override
                public int prefixToken() {
                    return 1;
                }
            };
            List<String> texts = new ArrayList<>();
            for (int d = 0; d < windows; d++) texts.add(Integer.toString(d));
            Documents docs = new Documents(Path.of("windows.txt"), "windows.txt", texts, new byte[0]);
            EvalResult e = new Evaluator(m, enc, new Evaluator.Options(0, false, K, null, null, 1L << 30), Progress.NONE)
                    .run("pre_ln", List.of(), List.of(docs));
            assertEquals(windows, e.settings().requests(), "one rolling window per document");

            List<FileScores.Pruned> evalSpans = e.perplexity().get(0).pruned();
            assertEquals(K, a.pruned().size());
            assertEquals(K, evalSpans.size());
            StringBuilder spans = new StringBuilder();
            for (int i = 0; i < K; i++) {
                PrunedRemoval p = a.pruned().get(i);
                FileScores.Pruned q = evalSpans.get(i);
                assertArrayEquals(new int[] {p.n(), p.start()}, new int[] {q.n(), q.start()}, "n = " + (i + 1));
                spans.append(String.format(" [%d,%d)", p.start(), p.start() + p.n()));
            }
            System.out.println("tiny-curse pre_ln: analyze and eval prune the same blocks for n = 1.." + K + ":" + spans);
        }
    }
}
