package org.depthlens.model;

import org.depthlens.Fixtures;
import org.depthlens.model.family.Architecture;
import org.depthlens.model.family.AttentionSpec;
import org.depthlens.model.family.MlpSpec;
import org.depthlens.weights.SafetensorsFile;
import org.junit.jupiter.api.Test;

import java.nio.file.Path;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * A Llama with {@code mlp_bias} and {@code attention_bias} against an independent float64 forward
 * (src/test/resources/fixtures/llama_mlp_bias/make.py: written from the Llama equations in torch, without
 * transformers or depthlens; its outputs are committed, so the test needs no Python).
 */
class MlpBiasParityTest {
    static final Path FIXTURE = Path.of("src/test/resources/fixtures/llama_mlp_bias");

    @Test
    void llamaWithMlpAndAttentionBiasesMatchesTheIndependentReference() {
        Path ref = FIXTURE.resolve("reference.safetensors");
        try (Model m = Model.open(FIXTURE.resolve("model"), Architecture.LnsMode.AUTO)) {
            assertEquals(new MlpSpec.Dense(48, true), m.arch().blocks().get(0).mlp());
            assertEquals(new AttentionSpec.Gqa(4, 2, 8, true, true, false), m.arch().attention());
        }
        double worst = 0;
        StringBuilder report = new StringBuilder("llama_mlp_bias:");
        try (SafetensorsFile r = SafetensorsFile.open(ref)) {
            float[] logits = Fixtures.readFloats(r, "logits");
            // the fixture can tell: without its MLP biases the model's logits move by far more than the tolerance
            double withoutBias = Fixtures.relMaxError(Fixtures.readFloats(r, "logits_without_mlp_bias"), logits);
            assertTrue(withoutBias > 0.1, "MLP biases change the reference logits by only " + withoutBias);
            for (Map.Entry<String, float[]> e : ForwardParityTest.forward(FIXTURE.resolve("model"), ref, null).entrySet()) {
                double err = Fixtures.relMaxError(e.getValue(), Fixtures.readFloats(r, e.getKey()));
                report.append(String.format(" %s=%.2e", e.getKey(), err));
                worst = Math.max(worst, err);
            }
            System.out.println(report + String.format("; worst %.3e (tolerance 1e-5); without MLP biases the logits differ by %.3f",
                    worst, withoutBias));
        }
        assertTrue(worst <= 1e-5, report.toString());
    }
}
