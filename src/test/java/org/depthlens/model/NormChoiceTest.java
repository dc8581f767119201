package org.depthlens.model;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import org.depthlens.BadInputException;
import org.depthlens.model.family.Architecture;
import org.depthlens.model.family.BlockForm;
import org.depthlens.model.family.NormChoice;
import org.depthlens.model.family.NormForm;
import org.depthlens.model.family.NormType;
import org.depthlens.weights.ConfigReader;
import org.depthlens.weights.DType;
import org.depthlens.weights.TensorInfo;
import org.junit.jupiter.api.Test;

import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * How the block form is chosen, on tensor name sets laid out as the Curse-of-Depth code's LlamaDecoderLayer
 * creates its norms per NORM_TYPE (lmsdss/LayerNorm-Scaling): the layouts no fixture covers (pre_post and
 * pre_sandwich switch after block 7, so they need more blocks than the fixtures have), POST_NUM read from the
 * tensors, and the order flag > config key > --lns > detection.
 */
class NormChoiceTest {
    static final int H = 8;

    private static ConfigReader config(int layers, Object... kv) {
        ObjectNode c = new ObjectMapper().createObjectNode().put("model_type", "llama").put("num_hidden_layers", layers).put("hidden_size", H);
        for (int i = 0; i < kv.length; i += 2) c.putPOJO((String) kv[i], kv[i + 1]);
        return new ConfigReader(Path.of("m/config.json"), new ObjectMapper().valueToTree(c), Map.of());
    }

    /** Norm tensors as the code creates them: "pre", "post", "sandwich" or "pre+r" per block. */
    private static Map<String, TensorInfo> tensors(String... kinds) {
        Map<String, TensorInfo> t = new TreeMap<>();
        for (int l = 0; l < kinds.length; l++) {
            String p = "model.layers." + l + ".";
            List<String> names = switch (kinds[l]) {
                case "pre" -> List.of("input_layernorm.weight", "post_attention_layernorm.weight");
                case "pre+r" -> List.of("input_layernorm.weight", "post_attention_layernorm.weight", "raw_scaling_factor_attn", "raw_scaling_factor_mlp");
                case "post" -> List.of("post_attention_layernorm.weight", "post_feedforward_layernorm.weight");
                default -> List.of("input_layernorm.weight", "post_attention_layernorm.weight", "pre_feedforward_layernorm.weight",
                        "post_feedforward_layernorm.weight");
            };
            for (String n : names) t.put(p + n, new TensorInfo(p + n, DType.F32, n.startsWith("raw") ? new long[0] : new long[] {H}, 0, 0, Path.of("m/w"), 0));
        }
        return t;
    }

    private static String[] repeat(String a, int na, String b, int nb) {
        String[] k = new String[na + nb];
        for (int i = 0; i < k.length; i++) k[i] = i < na ? a : b;
        return k;
    }

    @Test
    void detectsEveryLayoutTheTensorsCanTell() {
        record Case(String[] kinds, NormType type, int postNum) {
        }
        for (Case c : List.of(new Case(repeat("pre", 7, "post", 3), NormType.PRE_POST, 1),
                new Case(repeat("pre", 7, "sandwich", 5), NormType.PRE_SANDWICH, 1),
                new Case(repeat("post", 3, "pre", 9), NormType.POST_PRE, 3),
                new Case(repeat("sandwich", 12, "pre", 0), NormType.SANDWICH, 1),
                new Case(repeat("pre+r", 4, "pre", 0), NormType.SCALE_RES_PRE_NORM, 1))) {
            NormForm f = NormChoice.AUTO.resolve(config(c.kinds().length), tensors(c.kinds()), true);
            assertEquals(c.type(), f.type(), String.join(",", c.kinds()));
            assertEquals(c.postNum(), f.postNum());
            assertTrue(f.detected());
            assertNull(f.note(), "nothing was assumed");
            for (int l = 0; l < c.kinds().length; l++) {
                String want = c.kinds()[l].equals("pre+r") ? "pre" : c.kinds()[l];
                assertEquals(want, f.blocks().get(l).kind(), "block " + l);
            }
        }
        // what the tensors cannot tell is assumed and said
        assertTrue(NormChoice.AUTO.resolve(config(3), tensors("post", "post", "post"), false).note().contains("--norm-type deeppost"));
        assertTrue(NormChoice.AUTO.resolve(config(3), tensors("pre", "pre", "pre"), true).note().contains("--norm-type LNS"));
        assertNull(NormChoice.AUTO.resolve(config(3), tensors("pre", "pre", "pre"), false).note(), "stock HF checkpoints: no note");
        assertNull(NormChoice.of(Architecture.LnsMode.OFF).resolve(config(3), tensors("pre", "pre", "pre"), true).note());
    }

    @Test
    void flagThenConfigKeyThenLnsThenTensors() {
        Map<String, TensorInfo> post = tensors(repeat("post", 2, "pre", 4));
        // the flag wins over the config key, any case
        NormForm f = new NormChoice("Post_Pre", 2, Architecture.LnsMode.ON).resolve(config(6, "norm_type", "sandwich"), post, true);
        assertEquals(NormType.POST_PRE, f.type());
        assertEquals("--norm-type", f.source());
        // the config key (with post_num) wins over --lns
        f = NormChoice.of(Architecture.LnsMode.ON).resolve(config(6, "norm_type", "scale_post_pre", "post_num", 2), post, true);
        assertEquals(NormType.SCALE_POST_PRE, f.type());
        assertEquals(2, f.postNum());
        assertEquals("config.json norm_type", f.source());
        // --lns on (and layernorm_scaling) over detection; a config list of factors is kept
        Map<String, TensorInfo> pre = tensors("pre", "pre", "pre");
        f = NormChoice.of(Architecture.LnsMode.ON).resolve(config(3), pre, true);
        assertEquals(NormType.LNS, f.type());
        assertEquals(1 / Math.sqrt(3), ((BlockForm.PreNorm) f.blocks().get(2)).scale(), 1e-15);
        f = NormChoice.AUTO.resolve(config(3, "layernorm_scaling", List.of(1.0, 0.5, 0.25)), pre, false);
        assertEquals(NormType.LNS, f.type());
        assertEquals(0.25, ((BlockForm.PreNorm) f.blocks().get(2)).scale());
        assertEquals("config.json layernorm_scaling", f.source());
        // deeppost's residual factor, exactly as the code writes it
        f = new NormChoice("deeppost", null, null).resolve(config(3), tensors("post", "post", "post"), true);
        assertEquals(2.8284271247461903, ((BlockForm.PostNorm) f.blocks().get(0)).alpha());
        // a config POST_NUM the tensors contradict: the block is named with its missing tensor
        BadInputException e = assertThrows(BadInputException.class,
                () -> NormChoice.AUTO.resolve(config(6, "norm_type", "post_pre", "post_num", 3), post, true));
        assertTrue(e.getMessage().contains("block 2") && e.getMessage().contains("model.layers.2.post_feedforward_layernorm.weight"), e.getMessage());
    }
}
