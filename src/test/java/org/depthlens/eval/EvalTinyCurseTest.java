package org.depthlens.eval;

import org.depthlens.Fixtures;
import org.depthlens.TinyCurse;
import org.depthlens.analysis.Analyzer;
import org.depthlens.pass.Branch;
import org.depthlens.util.Progress;
import org.depthlens.model.family.Architecture;
import org.depthlens.model.Model;
import org.depthlens.text.ModelTokenizer;
import org.junit.jupiter.api.Test;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The trained tiny-curse-24 Pre-LN model: the evaluation's removal sweep against the analysis pass (itself
 * checked against the independent reference_metrics.json), and a document's perplexity against the plain
 * next-token loss of [BOS] + its tokens.
 */
class EvalTinyCurseTest {
    static final Path PRE_LN = Fixtures.tinyCurse().resolve("pre_ln");

    @Test
    void removalSweepMatchesTheAnalysisPass() {
        List<int[]> windows = TinyCurse.windows(3, 96);
        try (Model m = Model.open(PRE_LN, Architecture.LnsMode.AUTO)) {
            Analyzer.Outcome o = new Analyzer(m, new Analyzer.Options(true, 0, 1L << 30), Progress.NONE).run(windows);
            List<LoglikRequest> requests = new ArrayList<>();
            for (int[] w : windows) requests.add(new LoglikRequest(new int[] {w[0]}, Arrays.copyOfRange(w, 1, w.length)));
            int layers = m.arch().layers();
            List<Branch> br = new ArrayList<>();
            for (int l = 0; l < layers; l++) br.add(Branch.without(l));
            Scorer.Scores s = new Scorer(m, 1L << 30, Progress.NONE).score(requests, 256, br, true);
            long count = 3 * 95;
            double worst = rel(-Arrays.stream(s.full()).sum() / count, o.metrics().loss());
            for (int l = 0; l < layers; l++) {
                worst = Math.max(worst, rel(-Arrays.stream(s.branches().get(Branch.without(l))).sum() / count, o.metrics().lossWithoutLayer()[l]));
            }
            System.out.printf("tiny-curse pre_ln: loss and 24 removals from summed log-likelihoods vs the analysis pass: worst relative %.3g%n", worst);
            assertTrue(worst < 1e-6, "worst " + worst);
        }
    }

    @Test
    void documentPerplexityIsTheLossOfBosPlusItsTokens() throws Exception {
        String doc1 = "The kernel allocates memory for the buffer and returns a pointer to it.\nIf the allocation fails, it returns NULL.";
        String doc2 = "Each process has a unique process ID.";
        Path f = java.nio.file.Files.createTempFile("docs", ".txt");
        java.nio.file.Files.writeString(f, doc1 + "\n\n" + doc2 + "\n");
        try (Model m = Model.open(PRE_LN, Architecture.LnsMode.AUTO); ModelTokenizer tok = ModelTokenizer.open(PRE_LN)) {
            TextEncoder enc = TextEncoder.of(tok);
            assertEquals(1, enc.prefixToken(), "BOS <s>");
            Evaluator.Options opt = new Evaluator.Options(0, false, 0, null, null, 1L << 30);
            EvalResult r = new Evaluator(m, enc, opt, Progress.NONE).run("pre_ln", List.of(), List.of(Documents.read(f)));
            DocsResult d = r.perplexity().get(0);
            assertEquals(256, r.settings().maxLength(), "max_position_embeddings 256 (< 2048)");
            // reference: the analysis pass's mean next-token loss on [BOS] + tokens, per document
            double ll = 0;
            long tokens = 0;
            for (String doc : List.of(doc1, doc2)) {
                int[] ids = enc.encode(doc, false);
                int[] seq = new int[ids.length + 1];
                seq[0] = 1;
                System.arraycopy(ids, 0, seq, 1, ids.length);
                Analyzer.Outcome o = new Analyzer(m, new Analyzer.Options(false, 0, 1L << 30), Progress.NONE).run(List.of(seq));
                ll -= o.metrics().loss() * ids.length;
                tokens += ids.length;
            }
            assertEquals(tokens, d.tokens());
            assertEquals(2, d.documents());
            assertEquals(27, d.words());
            assertEquals(doc1.length() + doc2.length(), d.bytes());
            assertEquals(ll, d.loglik(), 1e-6 * Math.abs(ll));
            assertEquals(Math.exp(-ll / tokens), d.full().get("token_ppl"), 1e-6 * d.full().get("token_ppl"));
            System.out.printf("tiny-curse pre_ln: document log-likelihood %.9f vs analysis pass %.9f%n", d.loglik(), ll);

            // the same documents in windows of 8 tokens: more, shorter contexts can only be worse on average here
            EvalResult r8 = new Evaluator(m, enc, new Evaluator.Options(8, false, 0, null, null, 1L << 30), Progress.NONE)
                    .run("pre_ln", List.of(), List.of(Documents.read(f)));
            int windows = 0;
            for (String doc : List.of(doc1, doc2)) windows += (enc.encode(doc, false).length + 7) / 8;
            assertEquals(windows, r8.settings().requests());
            assertEquals(tokens, r8.perplexity().get(0).tokens());
        } finally {
            java.nio.file.Files.deleteIfExists(f);
        }
    }

    static double rel(double a, double b) {
        return Math.abs(a - b) / Math.abs(b);
    }
}
