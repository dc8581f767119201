package org.depthlens.model.family;

import org.depthlens.weights.ConfigReader;
import org.depthlens.weights.TensorInfo;

import java.util.Map;

/**
 * Everything depthlens knows about one HF {@code model_type}, in one place: the config keys it reads
 * and HF's code defaults for the ones a file leaves out, and how they become an {@link Architecture}
 * (attention kind and biases, MLP or mixture of experts with its routing, rope, sliding windows, block
 * forms) whose weight lists are what the loader reads, what {@code synth} writes and what every
 * checkpoint tensor is checked against; plus the tensors the family's checkpoints may hold that the
 * model does not use.
 *
 * <p>Adding a family: write one such class (most are a few lines on top of {@link Common}), declaring its
 * config keys ({@link ConfigKeys}; add HF's class to tools/hf_config_keys.py), add it to {@link Families#ALL},
 * and add a fixture test against HF's own activations.
 */
public interface Family {
    /** config.json's {@code model_type}. */
    String modelType();

    /**
     * What the family does with every config.json key of HF's configuration class for {@link #modelType}:
     * read, ignored (with why), or accepted only at implemented values; ConfigKeysTest walks HF's list.
     */
    ConfigKeys configKeys();

    /** HF's code defaults of the keys this family reads (shared/docs/architectures.md §3). */
    Map<String, Object> defaults();

    /** The architecture of one config.json of this family, its blocks in the forms of {@code norm} ({@link #normForm}). */
    Architecture describe(ConfigReader config, NormForm norm);

    /**
     * {@link #describe(ConfigReader, NormForm)} of a checkpoint holding {@code tensors} (null: none), for a family whose
     * checkpoints come in more than one naming (Gemma-3's, saved before and after transformers 4.52).
     */
    default Architecture describe(ConfigReader config, NormForm norm, Map<String, TensorInfo> tensors) {
        return describe(config, norm);
    }

    /**
     * The block forms of this config: what the user and the files say ({@link NormChoice#resolve}) for families the
     * Curse-of-Depth code's forms apply to; a family whose blocks have one fixed form returns it
     * ({@link NormChoice#fixed}).
     *
     * @param tensors the checkpoint's tensors, or null (no files: a synthetic shape)
     */
    default NormForm normForm(ConfigReader config, NormChoice choice, Map<String, TensorInfo> tensors, boolean trainingCode) {
        return choice.resolve(config, tensors, trainingCode);
    }

    /**
     * The config.json keys whose meaning depends on block indices, in the order {@code prune} rewrites them
     * (docs/guide.md, "Export a pruned model"). Every family has {@link LayerKey#COMMON}; a family adds its own.
     * {@code prune} re-reads the rewritten config with {@link #describe} and refuses the export unless every kept
     * block gets its original window, feed-forward part and form back, so a key left out here cannot go wrong
     * silently.
     */
    default java.util.List<LayerKey> layerKeys() {
        return LayerKey.COMMON;
    }

    /**
     * The object of config.json that holds {@code num_hidden_layers} and the per-block keys ({@link #layerKeys}):
     * null for the root; a multimodal wrapper names its language model's config (gemma3: {@code text_config}), which
     * {@code prune} rewrites while every other key, the vision tower's config included, stays as it is.
     */
    default String blocksConfig() {
        return null;
    }

    /**
     * Whether the family's HF class reads an explicit {@code layer_types} list (so {@code prune} may write one when
     * the family's own rule cannot place the kept blocks' sliding windows): its {@link #configKeys} read the key.
     */
    default boolean honoursLayerTypes() {
        ConfigKeys.Key k = configKeys().get("layer_types");
        return k != null && k.use() == ConfigKeys.Use.READ;
    }
}
