package org.depthlens.model.family;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.nio.file.Path;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The per-block config keys of each family survive the removal of blocks: every kept block reads back with its
 * original window, feed-forward part and form (the configs are HF's own fixtures, varied where the fixtures are
 * uniform). What the HF class reads is stated in each family's {@link Family#layerKeys}.
 */
class PrunedConfigTest {
    static final Path FIXTURES = Path.of("../shared/fixtures/hf");
    static final ObjectMapper JSON = new ObjectMapper();

    static ObjectNode config(String fixture) throws IOException {
        return (ObjectNode) JSON.readTree(FIXTURES.resolve(fixture).resolve("model/config.json").toFile());
    }

    static Architecture arch(ObjectNode c) {
        return Families.describe(Path.of("src/config.json"), c, NormChoice.AUTO, null, false);
    }

    static PrunedConfig.Result prune(ObjectNode c, int... kept) {
        return PrunedConfig.rewrite(Path.of("src/config.json"), c, arch(c), kept, null, false);
    }

    static void assertSameBlocks(Architecture src, int[] kept, Architecture out) {
        assertEquals(kept.length, out.layers());
        for (int j = 0; j < kept.length; j++) {
            BlockSpec a = src.blocks().get(kept[j]), b = out.blocks().get(j);
            assertEquals(a.slidingWindow(), b.slidingWindow(), "window of block " + kept[j]);
            assertEquals(a.mlp(), b.mlp(), "mlp of block " + kept[j]);
            assertEquals(a.form(), b.form(), "form of block " + kept[j]);
        }
    }

    /** Qwen2-MoE slides on even blocks below max_window_layers: not a rule the kept blocks follow, so layer_types is written. */
    @Test
    void qwen2MoeEvenBlocksBecomeLayerTypes() throws IOException {
        ObjectNode c = config("qwen2_moe");
        c.put("num_hidden_layers", 8);
        c.remove("layer_types");
        c.put("use_sliding_window", true);
        c.put("sliding_window", 4);
        c.put("max_window_layers", 6);
        Architecture src = arch(c);
        assertEquals(List.of(4, 0, 4, 0, 4, 0, 0, 0), src.blocks().stream().map(BlockSpec::slidingWindow).toList());
        int[] kept = {0, 2, 3, 4, 5, 6, 7};
        PrunedConfig.Result r = prune(c, kept);
        assertTrue(r.wroteLayerTypes());
        assertEquals("[\"sliding_attention\",\"sliding_attention\",\"full_attention\",\"sliding_attention\",\"full_attention\","
                + "\"full_attention\",\"full_attention\"]", r.config().get("layer_types").toString());
        assertSameBlocks(src, kept, r.arch());
        assertEquals(5, r.config().get("max_window_layers").asInt());
    }

    /** decoder_sparse_step 2: the kept blocks it made dense join mlp_only_layers and the step becomes 1. */
    @Test
    void qwen2MoeSparseStepBecomesMlpOnlyLayers() throws IOException {
        ObjectNode c = config("qwen2_moe");
        c.put("num_hidden_layers", 8);
        c.remove("layer_types");
        c.put("decoder_sparse_step", 2);
        c.set("mlp_only_layers", JSON.valueToTree(List.of(3)));
        Architecture src = arch(c);
        int[] kept = {1, 2, 3, 4, 5, 6, 7};
        PrunedConfig.Result r = prune(c, kept);
        assertEquals(1, r.config().get("decoder_sparse_step").asInt());
        assertEquals("[1,2,3,5]", r.config().get("mlp_only_layers").toString());
        assertSameBlocks(src, kept, r.arch());
        assertFalse(r.wroteLayerTypes());
    }

    /** Qwen3-MoE: mlp_only_layers renumbered, dropped ones leave it. */
    @Test
    void qwen3MoeMlpOnlyLayersRenumbered() throws IOException {
        ObjectNode c = config("qwen3_moe");
        c.set("mlp_only_layers", JSON.valueToTree(List.of(0, 2)));
        Architecture src = arch(c);
        int[] kept = {1, 2, 3};
        PrunedConfig.Result r = prune(c, kept);
        assertEquals("[1]", r.config().get("mlp_only_layers").toString());
        assertSameBlocks(src, kept, r.arch());
    }

    /** DeepSeek: first_k_dense_replace is a threshold. */
    @Test
    void deepseekFirstKDenseAndMoeLayerFreq() throws IOException {
        for (String f : List.of("deepseek_v2_lite", "deepseek_v3")) {
            ObjectNode c = config(f);
            c.put("first_k_dense_replace", 2);
            Architecture src = arch(c);
            int[] kept = {1, 2, 3};
            PrunedConfig.Result r = prune(c, kept);
            assertEquals(1, r.config().get("first_k_dense_replace").asInt());
            assertSameBlocks(src, kept, r.arch());
        }
    }

    /** Qwen2: a threshold is always a threshold on the kept blocks; layer_types follows its blocks when given. */
    @Test
    void qwen2MaxWindowLayersAndLayerTypes() throws IOException {
        ObjectNode c = config("qwen2_sharded");
        c.remove("layer_types");
        c.put("use_sliding_window", true);
        c.put("sliding_window", 4);
        c.put("max_window_layers", 2);
        Architecture src = arch(c);
        int[] kept = {0, 2, 3, 4};
        PrunedConfig.Result r = prune(c, kept);
        assertEquals(1, r.config().get("max_window_layers").asInt());
        assertFalse(r.config().has("layer_types"));
        assertSameBlocks(src, kept, r.arch());
        c.set("layer_types", JSON.valueToTree(List.of("sliding_attention", "full_attention", "sliding_attention", "full_attention",
                "full_attention")));
        src = arch(c);
        r = prune(c, 1, 2, 4);
        assertEquals("[\"full_attention\",\"sliding_attention\",\"full_attention\"]", r.config().get("layer_types").toString());
        assertSameBlocks(src, new int[] {1, 2, 4}, r.arch());
    }

    /** LNS: each kept block keeps its original factor, as the per-block list layernorm_scaling. */
    @Test
    void lnsFactorsFollowTheOriginalDepth() throws IOException {
        ObjectNode c = config("llama");
        c.put("layernorm_scaling", true);
        Architecture src = arch(c);
        int[] kept = {0, 3};
        PrunedConfig.Result r = prune(c, kept);
        assertEquals(2, r.config().get("layernorm_scaling").size());
        assertEquals(1.0, r.config().get("layernorm_scaling").get(0).asDouble());
        assertEquals(0.5, r.config().get("layernorm_scaling").get(1).asDouble());
        assertSameBlocks(src, kept, r.arch());
        // forced off: the export does not claim LNS
        Architecture off = Families.describe(Path.of("src/config.json"), c, NormChoice.of(Architecture.LnsMode.OFF), null, false);
        PrunedConfig.Result plain = PrunedConfig.rewrite(Path.of("src/config.json"), c, off, kept, null, false);
        assertFalse(plain.config().has("layernorm_scaling"));
        assertSameBlocks(off, kept, plain.arch());
    }

    /** Mix-LN given by flag: norm_type and the kept Post-LN count are written, since detection could not tell deeppost. */
    @Test
    void mixLnPostNumFollowsTheKeptBlocks() throws IOException {
        ObjectNode c = config("llama");
        c.put("norm_type", "post_pre");
        c.put("post_num", 2);
        Architecture src = arch(c);
        int[] kept = {1, 2, 3};
        PrunedConfig.Result r = prune(c, kept);
        assertEquals(1, r.config().get("post_num").asInt());
        assertSameBlocks(src, kept, r.arch());
    }

    /**
     * pre_post keeps its first 7 blocks Pre-LN by a constant of the training code: removing one of them would turn a
     * Post-LN block into a Pre-LN one, which no key can state, so the export is refused rather than written.
     */
    @Test
    void aFormNoKeyCanStateIsRefused() throws IOException {
        ObjectNode c = config("llama");
        c.put("num_hidden_layers", 10);
        c.put("norm_type", "pre_post");
        org.depthlens.BadInputException e = org.junit.jupiter.api.Assertions.assertThrows(org.depthlens.BadInputException.class,
                () -> prune(c, 0, 1, 3, 4, 5, 6, 7, 8, 9));
        assertTrue(e.getMessage().startsWith("src/config.json: without blocks 2, block 7 (new index 6): its block form"), e.getMessage());
        assertTrue(e.getMessage().contains("prune refuses rather than write a model that runs differently"), e.getMessage());
        // removing a Post-LN block keeps the pattern
        assertSameBlocks(arch(c), new int[] {0, 1, 2, 3, 4, 5, 6, 7, 9}, prune(c, 0, 1, 2, 3, 4, 5, 6, 7, 9).arch());
    }

    /** Every family declares at least the common keys, and the ones HF reads layer_types from say so. */
    @Test
    void everyFamilyDeclaresItsPerBlockKeys() {
        for (Family f : Families.ALL) {
            assertTrue(f.layerKeys().containsAll(LayerKey.COMMON), f.modelType());
            if (List.of("qwen2", "qwen3", "qwen2_moe").contains(f.modelType())) assertTrue(f.honoursLayerTypes(), f.modelType());
            if (List.of("llama", "mistral", "mixtral", "qwen3_moe", "deepseek_v2", "deepseek_v3").contains(f.modelType())) {
                assertFalse(f.honoursLayerTypes(), f.modelType()); // transformers' config classes have no layer_types
            }
        }
    }
}
