package org.depthlens.model;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import org.depthlens.BadInputException;
import org.depthlens.Fixtures;
import org.depthlens.model.family.Architecture;
import org.depthlens.model.family.AttentionSpec;
import org.depthlens.model.family.BlockSpec;
import org.depthlens.model.family.Families;
import org.depthlens.model.family.MlpSpec;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The family rules of {@link Families} for the MoE and MLA families (architectures.md §3.3-3.9, §4, §8). */
class ArchitectureRulesTest {
    private static final ObjectMapper JSON = new ObjectMapper();

    private static ObjectNode fixtureConfig(String fixture) throws IOException {
        return (ObjectNode) JSON.readTree(Fixtures.hf(fixture).resolve("model/config.json").toFile());
    }

    private static Architecture arch(ObjectNode config) {
        return Families.describe(Path.of("config.json"), config, Architecture.LnsMode.AUTO);
    }

    private static MlpSpec.Moe moe(Architecture a, int block) {
        return (MlpSpec.Moe) a.blocks().get(block).mlp();
    }

    @Test
    void mixtral() throws IOException {
        Architecture a = arch(fixtureConfig("mixtral"));
        MlpSpec.Moe m = moe(a, 0);
        assertEquals(List.of("block_sparse_moe", "w1", "w3", "w2"), List.of(m.prefix(), m.gateName(), m.upName(), m.downName()));
        assertEquals(4, m.experts());
        assertEquals(160, m.intermediate(), "Mixtral experts use intermediate_size");
        assertTrue(m.renormalize());
        assertNull(m.shared());
    }

    @Test
    void qwen2MoeHasDenseMlpOnlyLayersAndAGatedSharedExpert() throws IOException {
        Architecture a = arch(fixtureConfig("qwen2_moe"));
        assertEquals(new MlpSpec.Dense(160), a.blocks().get(0).mlp());
        MlpSpec.Moe m = moe(a, 1);
        assertFalse(m.renormalize());
        assertEquals(new MlpSpec.SharedExpert("shared_expert", 48, true), m.shared());
        assertEquals(new AttentionSpec.Gqa(4, 2, 16, true, false, false), a.attention());

        ObjectNode c = fixtureConfig("qwen2_moe");
        c.putArray("mlp_only_layers");
        c.put("decoder_sparse_step", 2);
        Architecture stepped = arch(c);
        assertTrue(stepped.blocks().get(0).mlp() instanceof MlpSpec.Dense);
        assertTrue(stepped.blocks().get(1).mlp() instanceof MlpSpec.Moe, "(i+1) % decoder_sparse_step == 0");
        assertTrue(stepped.blocks().get(2).mlp() instanceof MlpSpec.Dense);
    }

    @Test
    void qwen3MoeReadsNumLocalExperts() throws IOException {
        Architecture a = arch(fixtureConfig("qwen3_moe"));
        for (BlockSpec b : a.blocks()) {
            MlpSpec.Moe m = (MlpSpec.Moe) b.mlp();
            assertEquals(4, m.experts(), "config.json says num_local_experts 4 (the class default num_experts is 128)");
            assertTrue(m.renormalize());
            assertNull(m.shared());
        }
        assertEquals(AttentionSpec.QkNorm.PER_HEAD, ((AttentionSpec.Gqa) a.attention()).qkNorm());
    }

    @Test
    void deepseekV2Lite() throws IOException {
        Architecture a = arch(fixtureConfig("deepseek_v2_lite"));
        assertEquals(new MlpSpec.Dense(160), a.blocks().get(0).mlp(), "first_k_dense_replace 1");
        MlpSpec.Moe m = moe(a, 1);
        assertEquals(MlpSpec.Scoring.SOFTMAX, m.scoring());
        assertEquals(MlpSpec.Selection.TOPK, m.selection());
        assertFalse(m.renormalize(), "HF's V2 never renormalises");
        assertEquals(new MlpSpec.SharedExpert("shared_experts", 32, false), m.shared());
        AttentionSpec.Mla mla = (AttentionSpec.Mla) a.attention();
        assertNull(mla.qLoraRank());
        assertEquals(Math.pow(24, -0.5), mla.scale(), 1e-12, "default rope: no mscale");
        assertTrue(a.rope().interleaved());
        assertEquals(8, a.rope().dim());

        ObjectNode c = fixtureConfig("deepseek_v2_lite");
        c.put("topk_method", "group_limited_greedy");
        c.put("n_group", 2);
        c.put("topk_group", 1);
        assertEquals(MlpSpec.Selection.GROUP_MAX, moe(arch(c), 1).selection());
        c.put("topk_method", "noaux_tc");
        assertThrows(BadInputException.class, () -> arch(c));
    }

    @Test
    void deepseekV3() throws IOException {
        Architecture a = arch(fixtureConfig("deepseek_v3"));
        MlpSpec.Moe m = moe(a, 1);
        assertEquals(MlpSpec.Scoring.SIGMOID, m.scoring());
        assertEquals(MlpSpec.Selection.GROUP_TOP2_SUM, m.selection());
        assertTrue(m.correctionBias());
        assertTrue(m.renormalize());
        assertEquals(2.5, m.scaling());
        assertEquals(List.of(2, 1), List.of(m.nGroup(), m.topkGroup()));
        AttentionSpec.Mla mla = (AttentionSpec.Mla) a.attention();
        assertEquals(32, mla.qLoraRank());
        double ms = 0.1 * Math.log(4) + 1;
        assertEquals(Math.pow(24, -0.5) * ms * ms, mla.scale(), 1e-12, "YaRN factor 4, mscale_all_dim 1");
        assertEquals(1f, new Rope(a.rope()).attentionScaling(), "mscale == mscale_all_dim: cos/sin unscaled");

        ObjectNode c = fixtureConfig("deepseek_v3");
        c.putNull("q_lora_rank");
        assertNull(((AttentionSpec.Mla) arch(c).attention()).qLoraRank(), "explicit null is a plain q_proj, not the 1536 default");
        c.put("rope_interleave", false);
        assertFalse(arch(c).rope().interleaved());
    }

    /** §8 check values: the released V3 and V2-Lite softmax scales. */
    @Test
    void releasedMlaScales() {
        ObjectNode v3 = JSON.createObjectNode().put("model_type", "deepseek_v3");
        v3.putObject("rope_scaling").put("type", "yarn").put("factor", 40).put("original_max_position_embeddings", 4096)
                .put("beta_fast", 32).put("beta_slow", 1).put("mscale", 1.0).put("mscale_all_dim", 1.0);
        v3.put("max_position_embeddings", 163840);
        assertEquals(0.13523378, arch(v3).attention() instanceof AttentionSpec.Mla m ? m.scale() : 0, 1e-8);

        // HF's DeepseekV2Config has no default top-k; V2-Lite states 6 and no q LoRA
        ObjectNode v2 = JSON.createObjectNode().put("model_type", "deepseek_v2").put("num_experts_per_tok", 6).putNull("q_lora_rank");
        v2.putObject("rope_scaling").put("type", "yarn").put("factor", 40).put("original_max_position_embeddings", 4096)
                .put("beta_fast", 32).put("beta_slow", 1).put("mscale", 0.707).put("mscale_all_dim", 0.707);
        v2.put("max_position_embeddings", 163840);
        assertEquals(0.11472139, ((AttentionSpec.Mla) arch(v2).attention()).scale(), 1e-8);
    }

    @Test
    void refusesRoutingThatCannotWork() throws IOException {
        ObjectNode c = fixtureConfig("deepseek_v3");
        c.put("n_group", 3);
        assertThrows(BadInputException.class, () -> arch(c), "3 groups do not divide 8 experts");
        c.put("n_group", 2);
        c.put("topk_group", 3);
        assertThrows(BadInputException.class, () -> arch(c));
        c.put("n_group", 8);
        c.put("topk_group", 4);
        assertThrows(BadInputException.class, () -> arch(c), "groups of one expert have no top-2 sum");
        ObjectNode k = fixtureConfig("mixtral");
        k.put("num_experts_per_tok", 5);
        assertThrows(BadInputException.class, () -> arch(k));
    }

    @Test
    void mistralNullSlidingWindowMeansNone() {
        ObjectNode c = JSON.createObjectNode().put("model_type", "mistral").putNull("sliding_window");
        assertEquals(0, arch(c).blocks().get(0).slidingWindow());
        assertEquals(4096, arch(JSON.createObjectNode().put("model_type", "mistral")).blocks().get(0).slidingWindow(),
                "absent: the class default");
    }

    @Test
    void describeForInspect() throws IOException {
        Map<String, String> d = arch(fixtureConfig("deepseek_v3")).describe();
        assertEquals("deepseek_v3", d.get("family"));
        assertEquals("mla", d.get("attention"));
        assertEquals("32", d.get("q_lora_rank"));
        assertEquals("16", d.get("kv_lora_rank"));
        assertEquals("8", d.get("experts"));
        assertEquals("2", d.get("experts_per_token"));
        assertEquals("moe in blocks 1-3, dense in 0", d.get("mlp"));
        assertEquals("sigmoid+bias, group top-2 sum of 2 groups keep 1, top-2, renormalised, x2.5", d.get("routing"));
        assertEquals("32 (ungated)", d.get("shared_experts"));
        assertEquals("yarn (interleaved)", d.get("rope"));
        assertEquals(List.of("family", "layers", "hidden"), d.keySet().stream().limit(3).toList(), "ordered");

        Map<String, String> q = arch(fixtureConfig("qwen2_moe")).describe();
        assertEquals("softmax, top-2", q.get("routing"));
        assertEquals("48 (sigmoid-gated)", q.get("shared_experts"));
        assertEquals("gqa", q.get("attention"));
        assertFalse(arch(fixtureConfig("qwen3_moe")).describe().containsKey("intermediate"), "no dense block");
    }

    /**
     * Projection biases as HF's classes build them: Llama honours attention_bias (q/k/v/o) and mlp_bias
     * (gate/up/down); Mistral and Mixtral build every projection without bias whatever the config says.
     */
    @Test
    void biasesFollowTheFamilyClasses() throws IOException {
        ObjectNode llama = fixtureConfig("llama");
        llama.put("attention_bias", true);
        llama.put("mlp_bias", true);
        Architecture a = arch(llama);
        AttentionSpec.Gqa g = (AttentionSpec.Gqa) a.attention();
        assertTrue(g.qkvBias() && g.oBias());
        assertTrue(((MlpSpec.Dense) a.blocks().get(0).mlp()).bias());
        assertTrue(a.blockWeights(0).stream().anyMatch(w -> w.role().equals("mlp.down.bias")));
        for (String f : List.of("mistral_sliding", "mixtral")) {
            ObjectNode c = fixtureConfig(f);
            c.put("attention_bias", true);
            c.put("mlp_bias", true);
            Architecture m = arch(c);
            AttentionSpec.Gqa mg = (AttentionSpec.Gqa) m.attention();
            assertFalse(mg.qkvBias() || mg.oBias(), f);
            assertTrue(m.blockWeights(0).stream().noneMatch(w -> w.role().endsWith(".bias")), f);
        }
    }
}
