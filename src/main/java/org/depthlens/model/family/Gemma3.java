package org.depthlens.model.family;

import com.fasterxml.jackson.databind.JsonNode;
import org.depthlens.weights.ConfigReader;
import org.depthlens.weights.TensorInfo;

import java.util.List;
import java.util.Map;

/**
 * A Gemma-3 checkpoint with its vision tower (Gemma3ForConditionalGeneration, {@code gemma3}): depthlens runs its
 * language model, which {@code text_config} describes exactly as a {@code gemma3_text} config ({@link Gemma3Text}).
 * transformers 4.52 on saves it as {@code model.language_model.*} (head {@code lm_head}); the Hub's originals, saved
 * before, as {@code language_model.model.*} (head {@code language_model.lm_head}); the tensors say which. The vision
 * tower and projector are not run: they are refused by name unless {@code --skip-vision} asks to leave them out
 * ({@code prune} carries them over unchanged and rewrites the blocks' keys inside text_config, {@link #blocksConfig}).
 */
final class Gemma3 implements Family {
    private static final String SKIP = "--skip-vision";
    private static final String TEXT_CONFIG = "text_config";
    private static final Family TEXT = new Gemma3Text();
    private static final String LEGACY = "language_model.model.";
    private static final Architecture.Names LEGACY_NAMES = new Architecture.Names(LEGACY + "embed_tokens.weight", LEGACY + "norm",
            "language_model.lm_head.weight", LEGACY + "layers.");
    private static final Architecture.Extra VISION = new Architecture.Extra(
            java.util.regex.Pattern.compile("(model\\.)?(vision_tower|multi_modal_projector)\\..+"),
            "part of the vision tower or its projector (vision_config)", SKIP);

    @Override
    public String modelType() {
        return "gemma3";
    }

    private static final ConfigKeys KEYS = ConfigKeys.COMMON.read(TEXT_CONFIG)
            .ignored("the vision tower and the image tokens, which a text-only analysis never runs (" + SKIP + " leaves the tower's tensors out)",
                    "vision_config", "mm_tokens_per_image", "boi_token_index", "eoi_token_index", "image_token_index", "boi_token_id",
                    "eoi_token_id", "image_token_id");

    @Override
    public ConfigKeys configKeys() {
        return KEYS;
    }

    /** The wrapper's own keys have no say in the language model; text_config's defaults are Gemma3TextConfig's. */
    @Override
    public Map<String, Object> defaults() {
        return Map.of();
    }

    /** The language model's blocks are described, and pruned, inside text_config, as gemma3_text's are at the root. */
    @Override
    public String blocksConfig() {
        return TEXT_CONFIG;
    }

    @Override
    public List<LayerKey> layerKeys() {
        return TEXT.layerKeys();
    }

    @Override
    public boolean honoursLayerTypes() {
        return TEXT.honoursLayerTypes();
    }

    /** text_config read as a gemma3_text config (its keys checked as such). */
    static ConfigReader text(ConfigReader c) {
        JsonNode t = c.raw(TEXT_CONFIG);
        c.has(TEXT_CONFIG); // consulted: it is the language model's description
        if (t == null || !t.isObject()) throw c.error("'text_config' must be an object (the gemma3_text config of the language model)");
        JsonNode type = t.get("model_type");
        if (type != null && !type.isNull() && !"gemma3_text".equals(type.asText())) {
            throw c.error("text_config.model_type = " + type + ": a gemma3 checkpoint's language model is gemma3_text");
        }
        ConfigReader text = c.nested(TEXT_CONFIG, TEXT.defaults());
        Gemma3Text.KEYS.check(text, "gemma3 text_config");
        return text;
    }

    @Override
    public NormForm normForm(ConfigReader c, NormChoice choice, Map<String, TensorInfo> tensors, boolean trainingCode) {
        return choice.fixed(text(c), modelType(), NormType.SANDWICH);
    }

    @Override
    public Architecture describe(ConfigReader c, NormForm norm) {
        return describe(c, norm, null);
    }

    @Override
    public Architecture describe(ConfigReader c, NormForm norm, Map<String, TensorInfo> tensors) {
        boolean legacy = tensors != null && tensors.keySet().stream().anyMatch(n -> n.startsWith(LEGACY));
        Architecture.Names names = legacy ? LEGACY_NAMES : Architecture.Names.HF.under("model.language_model.");
        return Gemma3Text.describe(modelType(), text(c), norm, names, List.of(VISION));
    }
}
