package org.depthlens.model.family;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import org.depthlens.BadInputException;

import java.nio.file.Path;
import java.util.List;

/**
 * A config.json key whose meaning depends on block indices, as a family declares it ({@link Family#layerKeys}),
 * and how {@code prune} rewrites it when blocks are removed. The kept blocks keep their order, so a
 * threshold ("blocks below t", "blocks from t on") stays a threshold on them; a rule on the index itself
 * (every second block, every k-th block) does not, and is rewritten into the explicit form the family's
 * HF class also reads, or refused.
 */
public sealed interface LayerKey {
    /** The config.json key. */
    String key();

    /**
     * Rewrites the key in {@code config} (if present) for the blocks {@code kept} (original indices, ascending) of
     * {@code layers}; {@code file} names the source config.json in errors, {@code at} the object holding the key
     * there ("" for the root, "text_config." for a multimodal wrapper's language model, {@link Family#blocksConfig}).
     */
    void apply(ObjectNode config, int[] kept, int layers, Path file, String at);

    /** One entry per block ({@code layer_types}, a list of LNS factors): the kept blocks' entries. Other values stay. */
    record PerBlock(String key) implements LayerKey {
        @Override
        public void apply(ObjectNode config, int[] kept, int layers, Path file, String at) {
            JsonNode v = config.get(key);
            if (v == null || !v.isArray()) return;
            if (v.size() != layers) throw new BadInputException(file + ": '" + at + key + "' has " + v.size() + " entries for " + layers + " blocks");
            ArrayNode out = JsonNodeFactory.instance.arrayNode();
            for (int i : kept) out.add(v.get(i).deepCopy());
            config.set(key, out);
        }
    }

    /**
     * A block-index threshold t ({@code max_window_layers}, {@code first_k_dense_replace}, {@code post_num}): the
     * number of kept blocks below t, so that the same kept blocks fall on each side of it.
     */
    record Threshold(String key) implements LayerKey {
        @Override
        public void apply(ObjectNode config, int[] kept, int layers, Path file, String at) {
            JsonNode v = config.get(key);
            if (v == null || v.isNull()) return;
            if (!v.canConvertToInt() || !v.isIntegralNumber()) throw new BadInputException(file + ": '" + at + key + "' must be an integer, got " + v);
            int t = v.asInt();
            int below = 0;
            for (int i : kept) if (i < t) below++;
            config.put(key, below);
        }
    }

    /** A list of block indices ({@code mlp_only_layers}): the kept ones, renumbered. */
    record BlockIndices(String key) implements LayerKey {
        @Override
        public void apply(ObjectNode config, int[] kept, int layers, Path file, String at) {
            JsonNode v = config.get(key);
            if (v == null || !v.isArray()) return;
            ArrayNode out = JsonNodeFactory.instance.arrayNode();
            for (JsonNode e : v) {
                if (!e.canConvertToInt()) throw new BadInputException(file + ": '" + at + key + "' holds " + e + ", not a block index");
                int j = indexOf(kept, e.asInt());
                if (j >= 0) out.add(j);
            }
            config.set(key, out);
        }
    }

    /**
     * Every {@code key}-th block sparse ({@code decoder_sparse_step}: block i is a mixture of experts iff
     * (i+1) % step == 0 and i is not in {@code denseList}): not a rule the kept blocks still follow, so the step
     * becomes 1 and the kept blocks it made dense join {@code denseList}. Declare it after {@code denseList}'s own key.
     */
    record SparseStep(String key, String denseList) implements LayerKey {
        @Override
        public void apply(ObjectNode config, int[] kept, int layers, Path file, String at) {
            JsonNode v = config.get(key);
            if (v == null || v.isNull()) return;
            if (!v.canConvertToInt() || v.asInt() < 1) throw new BadInputException(file + ": '" + at + key + "' must be a positive integer, got " + v);
            int step = v.asInt();
            if (step == 1) return;
            ArrayNode dense = config.get(denseList) instanceof ArrayNode a ? a : JsonNodeFactory.instance.arrayNode();
            List<Integer> have = new java.util.ArrayList<>();
            for (JsonNode e : dense) have.add(e.asInt());
            for (int j = 0; j < kept.length; j++) if ((kept[j] + 1) % step != 0 && !have.contains(j)) have.add(j);
            have.sort(null);
            ArrayNode out = JsonNodeFactory.instance.arrayNode();
            have.forEach(out::add);
            config.set(denseList, out);
            config.put(key, 1);
        }
    }

    /** Keys every family shares: an explicit {@code layer_types}, a list of LNS factors, Mix-LN's {@code post_num}. */
    List<LayerKey> COMMON = List.of(new PerBlock("layer_types"), new PerBlock("layernorm_scaling"), new Threshold("post_num"));

    private static int indexOf(int[] kept, int i) {
        for (int j = 0; j < kept.length; j++) if (kept[j] == i) return j;
        return -1;
    }
}
