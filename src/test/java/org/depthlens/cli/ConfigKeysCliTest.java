package org.depthlens.cli;

import com.fasterxml.jackson.databind.node.ObjectNode;
import org.depthlens.ExitCodes;
import org.depthlens.Fixtures;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;

import static org.depthlens.cli.Cli.assertError;
import static org.depthlens.cli.Cli.assertNothingLeft;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * A config key holding a value depthlens does not implement stops trace and analyze with exit 3 and one
 * line naming config.json and the key, before anything is computed or written (docs/errors.md).
 * Formerly {@code "hidden_act": "gelu_new"} was never read: SiLU ran and the trace was byte-identical.
 */
class ConfigKeysCliTest {
    @TempDir
    Path tmp;
    Path model;
    Path ids;
    Path out;

    @BeforeEach
    void setUp() {
        model = BadModels.llama(tmp, "llama");
        ids = BadModels.ids(tmp.resolve("ids.json"), 64);
        out = tmp.resolve("out");
    }

    private void failsTraceAndAnalyze(String... fragments) {
        failsTraceAndAnalyze(model, fragments);
    }

    private void failsTraceAndAnalyze(Path model, String... fragments) {
        Path trace = tmp.resolve("trace.safetensors");
        assertError(Cli.run("trace", "--model", model.toString(), "--ids", ids.toString(), "--out", trace.toString()),
                ExitCodes.BAD_INPUT, fragments);
        assertNothingLeft(trace);
        assertError(Cli.run("analyze", "-m", model.toString(), "--ids", ids.toString(), "--window", "32", "--max-windows", "1",
                "--prune", "1", "-o", out.toString()), ExitCodes.BAD_INPUT, fragments);
        assertNothingLeft(out);
    }

    @Test
    void hiddenActNotImplemented() {
        String config = model.resolve("config.json").toString();
        BadModels.editConfig(model, c -> c.put("hidden_act", "gelu_new"));
        failsTraceAndAnalyze(config, "hidden_act = \"gelu_new\": not implemented", "silu");
        BadModels.editConfig(model, c -> c.put("hidden_act", 7));
        failsTraceAndAnalyze(config, "hidden_act = 7: not implemented");
    }

    @Test
    void ropeTypeNotImplemented() {
        BadModels.editConfig(model, c -> ((ObjectNode) c.get("rope_parameters")).put("rope_type", "longrope"));
        failsTraceAndAnalyze(model.resolve("config.json").toString(), "rope_parameters.rope_type = \"longrope\": not implemented");
    }

    /** Formerly "depthlens: error: rope type 'linear' needs a 'factor'", naming no file. */
    @Test
    void ropeTypeWithoutItsFactor() {
        BadModels.editConfig(model, c -> c.putObject("rope_parameters").put("rope_type", "linear").put("rope_theta", 10000.0));
        failsTraceAndAnalyze(model.resolve("config.json").toString(), "rope type 'linear' needs a 'factor'");
    }

    /** HF v5 takes rope_scaling over rope_parameters, older readers the reverse: a file whose two disagree is refused. */
    @Test
    void ropeStylesDisagree() {
        BadModels.editConfig(model, c -> c.putObject("rope_scaling").put("type", "linear").put("factor", 2.0));
        failsTraceAndAnalyze(model.resolve("config.json").toString(), "rope_parameters", "rope_scaling", "disagree");
    }

    /** HF's attribute_map names Mixtral's expert count two ways; two different values are refused, not guessed. */
    @Test
    void aliasedCountsDisagree() {
        Path mixtral = Fixtures.copyModel("mixtral", false, tmp);
        BadModels.editConfig(mixtral, c -> c.put("num_experts", 3));
        failsTraceAndAnalyze(mixtral, mixtral.resolve("config.json").toString(), "num_local_experts = 4 and num_experts = 3",
                "disagree");
    }

    /** Qwen: with use_sliding_window false HF drops sliding_window, so a layer_types asking for windows has none to use. */
    @Test
    void qwenSlidingLayersWithoutUseSlidingWindow() {
        Path qwen = Fixtures.copyModel("qwen3", false, tmp);
        BadModels.editConfig(qwen, c -> {
            c.put("sliding_window", 8);
            c.putArray("layer_types").add("sliding_attention").add("full_attention").add("sliding_attention").add("full_attention");
        });
        failsTraceAndAnalyze(qwen, qwen.resolve("config.json").toString(), "layer_types asks for sliding attention",
                "use_sliding_window false");
    }

    /** Keys HF's class lacks are accepted (HF does not read them either) and inspect names them; the lns_code configs load. */
    @Test
    void inspectListsTheKeysLeftUnread() {
        BadModels.editConfig(model, c -> c.put("hidden_activation", "gelu").put("unsloth_version", "2024.1"));
        Cli.Result r = Cli.run("inspect", "-m", model.toString());
        assertEquals(0, r.code(), r.describe());
        assertTrue(r.out().contains("not read (no key of HF's llama class): hidden_activation, unsloth_version"), r.out());
        r = Cli.run("inspect", "-m", Fixtures.lnsCode("lns").resolve("model").toString());
        assertEquals(0, r.code(), r.describe());
        assertTrue(r.out().contains("config_keys") && !r.out().contains("not read"), r.out()); // max_sequence_length: declared
    }

    @Test
    void otherValuesNotImplemented() {
        String config = model.resolve("config.json").toString();
        BadModels.editConfig(model, c -> c.putObject("quantization_config").put("quant_method", "awq"));
        failsTraceAndAnalyze(config, "quantization_config = {\"quant_method\":\"awq\"}: not implemented");
        BadModels.editConfig(model, c -> {
            c.remove("quantization_config");
            ((ObjectNode) c.get("rope_parameters")).put("partial_rotary_factor", 0.5);
        });
        failsTraceAndAnalyze(config, "rope_parameters.partial_rotary_factor = 0.5: not implemented");
    }
}
