package org.depthlens.eval;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import org.depthlens.Fixtures;
import org.depthlens.pass.Branch;
import org.depthlens.util.Progress;
import org.depthlens.model.family.Architecture;
import org.depthlens.model.Model;
import org.depthlens.model.WeightPool;
import org.depthlens.weights.SafetensorsFile;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Token-level log-likelihood scoring against HF's own logits in the fixtures. The fixtures have no
 * tokenizer, so the multiple-choice shape is built from ids: context = the first k ids of a fixture
 * sequence, choices = the true next m ids and variants differing only in their last id. Every summed
 * log-likelihood is compared with sum_i log_softmax(logits[k-1+i])[choice_i] computed in double from
 * HF's logits, which is valid for the variants too because position k+m-2 conditions on the true prefix.
 * All requests of a fixture are scored in one call, so sequences of many lengths share padded batches.
 */
class LoglikFixtureTest {
    static final int[] CONTEXTS = {1, 2, 7, 16, 24};
    static final int[] LENGTHS = {1, 3, 8};

    record Ref(int[][] ids, float[] logits, int vocab) {
        /** log_softmax(logits[b, pos])[id] in double. */
        double logProb(int b, int pos, int id) {
            int t = ids[0].length;
            int base = (b * t + pos) * vocab;
            double max = Double.NEGATIVE_INFINITY;
            for (int v = 0; v < vocab; v++) max = Math.max(max, logits[base + v]);
            double sum = 0;
            for (int v = 0; v < vocab; v++) sum += Math.exp(logits[base + v] - max);
            return logits[base + id] - max - Math.log(sum);
        }

        double maxAbsLogit() {
            double m = 0;
            for (float f : logits) m = Math.max(m, Math.abs(f));
            return m;
        }
    }

    static Ref reference(String fixture) {
        try (SafetensorsFile f = SafetensorsFile.open(Fixtures.dir(fixture).resolve("reference.safetensors"))) {
            var t = f.tensors().get("input_ids");
            long[] ids = f.readLongs(t);
            int b = (int) t.shape()[0], n = (int) t.shape()[1];
            int[][] seqs = new int[b][n];
            for (int i = 0; i < b; i++) for (int k = 0; k < n; k++) seqs[i][k] = (int) ids[i * n + k];
            float[] logits = Fixtures.readFloats(f, "logits");
            int vocab = (int) f.tensors().get("logits").shape()[2];
            return new Ref(seqs, logits, vocab);
        }
    }

    @ParameterizedTest
    @org.junit.jupiter.params.provider.MethodSource("org.depthlens.FixtureSet#all")
    void summedLogLikelihoodMatchesHfLogits(String fixture) {
        Ref ref = reference(fixture);
        List<LoglikRequest> requests = new ArrayList<>();
        List<Double> expected = new ArrayList<>();
        List<Integer> lengths = new ArrayList<>();
        for (int b = 0; b < ref.ids().length; b++) {
            int[] seq = ref.ids()[b];
            for (int k : CONTEXTS) {
                for (int m : LENGTHS) {
                    if (k + m > seq.length) continue;
                    int[] ctx = java.util.Arrays.copyOfRange(seq, 0, k);
                    int[] truth = java.util.Arrays.copyOfRange(seq, k, k + m);
                    for (int variant : new int[] {0, 1, 977}) {
                        int[] choice = truth.clone();
                        choice[m - 1] = (truth[m - 1] + variant) % ref.vocab();
                        double ll = 0;
                        for (int i = 0; i < m; i++) ll += ref.logProb(b, k - 1 + i, choice[i]);
                        requests.add(new LoglikRequest(ctx, choice));
                        expected.add(ll);
                        lengths.add(m);
                    }
                }
            }
        }
        try (Model model = Model.open(Fixtures.dir(fixture).resolve("model"), Architecture.LnsMode.AUTO)) {
            double[] got = new Scorer(model, 1L << 30, Progress.NONE).logLikelihood(requests, 32);
            // the logits agree with HF to tol * max|logit| per element; a log-softmax term moves by at most twice that
            double perToken = 2 * (org.depthlens.FixtureSet.of(fixture).streamTolerance()) * ref.maxAbsLogit();
            double worst = 0, worstRel = 0;
            for (int i = 0; i < got.length; i++) {
                double err = Math.abs(got[i] - expected.get(i));
                worst = Math.max(worst, err / lengths.get(i));
                worstRel = Math.max(worstRel, err / Math.abs(expected.get(i)));
                assertTrue(err <= perToken * lengths.get(i), fixture + " request " + i + ": " + got[i] + " vs HF " + expected.get(i));
            }
            System.out.printf("%s: %d requests, worst |ll - HF| per token %.3g (bound %.3g), worst relative %.3g%n",
                    fixture, got.length, worst, perToken, worstRel);
        }
    }

    /**
     * Removal branches in the scorer's pass: the mean NLL of each fixture sequence's tokens 1..T-1 with block l
     * removed must equal the reference's loss_without_layer[l] (computed independently from HF's modules).
     */
    @ParameterizedTest
    @org.junit.jupiter.params.provider.MethodSource("org.depthlens.FixtureSet#float32")
    void removalBranchesMatchReferenceLossWithoutLayer(String fixture) throws IOException {
        Ref ref = reference(fixture);
        JsonNode metrics = new ObjectMapper().readTree(Fixtures.dir(fixture).resolve("reference.json").toFile()).get("metrics");
        List<LoglikRequest> requests = new ArrayList<>();
        long count = 0;
        for (int[] seq : ref.ids()) {
            requests.add(new LoglikRequest(new int[] {seq[0]}, java.util.Arrays.copyOfRange(seq, 1, seq.length)));
            count += seq.length - 1;
        }
        try (Model model = Model.open(Fixtures.dir(fixture).resolve("model"), Architecture.LnsMode.AUTO)) {
            int layers = model.arch().layers();
            List<Branch> branches = new ArrayList<>();
            for (int l = 0; l < layers; l++) branches.add(Branch.without(l));
            WeightPool pool = model.newPool(), plainPool = model.newPool();
            org.depthlens.LoadCounts loads = org.depthlens.LoadCounts.on(pool), plainLoads = org.depthlens.LoadCounts.on(plainPool);
            Scorer.Scores s = new Scorer(model, pool, 1L << 30, Progress.NONE).score(requests, 32, branches, true);
            Scorer.Scores plain = new Scorer(model, plainPool, 1L << 30, Progress.NONE).score(requests, 32, List.of(), true);
            assertEquals(1, s.batches());
            boolean moe = model.arch().blocks().stream().anyMatch(b -> b.mlp() instanceof org.depthlens.model.family.MlpSpec.Moe);
            if (!moe) {
                // (routed experts load on demand per stream, so only dense models load exactly once per block)
                assertEquals(plainLoads.byName(), loads.byName(), "the branches ride on the main stream's single pass over the weights");
            }
            assertEquals(plain.full()[0], s.full()[0], 1e-12 * Math.abs(plain.full()[0]));
            double worst = rel(-(s.full()[0] + s.full()[1]) / count, metrics.get("loss").asDouble());
            for (int l = 0; l < layers; l++) {
                double[] ll = s.branches().get(Branch.without(l));
                worst = Math.max(worst, rel(-(ll[0] + ll[1]) / count, metrics.get("loss_without_layer").get(l).asDouble()));
            }
            System.out.printf("%s: loss and loss_without_layer from summed log-likelihoods, worst relative error %.3g%n", fixture, worst);
            assertTrue(worst <= 1e-5, fixture + ": " + worst);
        }
    }

    /** Batching is invisible: a budget that forces one request per batch gives the same numbers. */
    @Test
    void batchCompositionDoesNotChangeScores() {
        Ref ref = reference("llama");
        List<LoglikRequest> requests = new ArrayList<>();
        int[] seq = ref.ids()[1];
        for (int k = 1; k < 30; k += 4) requests.add(new LoglikRequest(java.util.Arrays.copyOfRange(seq, 0, k),
                java.util.Arrays.copyOfRange(seq, k, Math.min(seq.length, k + 3))));
        try (Model model = Model.open(Fixtures.hf("llama").resolve("model"), Architecture.LnsMode.AUTO)) {
            List<Branch> br = List.of(Branch.without(1), Branch.skip(1, 3));
            Scorer.Scores one = new Scorer(model, 1L << 30, Progress.NONE).score(requests, 32, br, true);
            Scorer.Scores many = new Scorer(model, 1, Progress.NONE).score(requests, 32, br, true);
            assertTrue(one.batches() < many.batches(), one.batches() + " batches");
            assertEquals(requests.size(), many.batches());
            // batches hold lengths in (t/2, t], longest first
            int[][] inputs = requests.stream().map(q -> q.input(32)).toArray(int[][]::new);
            for (int[] members : new Scorer(model, 1L << 30, Progress.NONE).batches(requests, 32, br)) {
                int t = inputs[members[0]].length;
                for (int m : members) assertTrue(inputs[m].length <= t && 2 * inputs[m].length > t);
            }
            for (int i = 0; i < requests.size(); i++) {
                assertEquals(one.full()[i], many.full()[i], 1e-6 * Math.abs(one.full()[i]));
                for (Branch b : br) assertEquals(one.branches().get(b)[i], many.branches().get(b)[i], 1e-6 * Math.abs(one.branches().get(b)[i]));
            }
        }
    }

    static double rel(double a, double b) {
        return Math.abs(a - b) / Math.abs(b);
    }

}
