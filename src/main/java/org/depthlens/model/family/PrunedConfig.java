package org.depthlens.model.family;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import org.depthlens.BadInputException;
import org.depthlens.weights.TensorInfo;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * The config.json of a model with some blocks removed: {@code num_hidden_layers}, every per-block key the family
 * declares ({@link Family#layerKeys}), where the family keeps them ({@link Family#blocksConfig}: the root, or gemma3's
 * {@code text_config}; every other key is kept as it is), the LNS factors (each kept block keeps the factor of its original depth,
 * written as the per-block list {@code layernorm_scaling}) and a block form the files cannot show. The result is
 * read back with the family's own description and must give every kept block its original sliding window,
 * feed-forward part and form; a pattern the family's keys cannot state is written as {@code layer_types} when
 * the family's HF class reads it, else refused.
 */
public final class PrunedConfig {
    private PrunedConfig() {}

    /** The rewritten config and the architecture it describes (block j = original block kept[j]). */
    public record Result(ObjectNode config, Architecture arch, boolean wroteLayerTypes) {
    }

    /**
     * @param file         the source config.json (named in errors)
     * @param source       its JSON
     * @param arch         the source model's architecture, as it was opened (block forms included)
     * @param kept         original indices of the kept blocks, ascending
     * @param tensors      the exported tensors under their new names (for the block forms the files show)
     * @param trainingCode as {@code Model.open} judged the source (notes only)
     */
    public static Result rewrite(Path file, JsonNode source, Architecture arch, int[] kept, Map<String, TensorInfo> tensors,
                                 boolean trainingCode) {
        Family family = Families.of(arch.family());
        int layers = arch.layers();
        ObjectNode c = source.deepCopy();
        // the blocks' keys, at the root or in a multimodal wrapper's text_config; every other key stays as it is
        String at = family.blocksConfig() == null ? "" : family.blocksConfig() + ".";
        ObjectNode b = family.blocksConfig() == null ? c : (ObjectNode) c.get(family.blocksConfig()); // describe checked it is an object
        b.put("num_hidden_layers", kept.length);
        for (LayerKey k : family.layerKeys()) k.apply(b, kept, layers, file, at);
        NormForm norm = arch.norm();
        if (norm.lns()) {
            ArrayNode f = JsonNodeFactory.instance.arrayNode();
            for (int i : kept) f.add(arch.blocks().get(i).normScale());
            b.set("layernorm_scaling", f);
        } else {
            b.remove("layernorm_scaling"); // --lns off or another form won over the key: the export says what ran
        }
        // given by flag: the files alone cannot show it (deeppost, ...); a family's fixed form needs no key
        if (norm.source().equals(NormForm.GIVEN_FLAG) && norm.type() != NormType.PRE && norm.type() != NormType.LNS) {
            b.put("norm_type", norm.type().code());
            if (norm.type().usesPostNum()) {
                int below = 0;
                for (int i : kept) if (i < norm.postNum()) below++;
                b.put("post_num", below);
            }
        }
        Path out = file.resolveSibling("config.json (pruned)");
        Architecture a = describe(out, c, tensors, trainingCode);
        String mismatch = mismatch(arch, kept, a);
        boolean wroteTypes = false;
        if (mismatch != null && mismatch.contains("sliding window") && family.honoursLayerTypes() && onlyWindowsDiffer(arch, kept, a)) {
            ArrayNode types = layerTypes(arch, kept, b);
            if (types != null) {
                b.set("layer_types", types);
                a = describe(out, c, tensors, trainingCode);
                mismatch = mismatch(arch, kept, a);
                wroteTypes = true;
            }
        }
        if (mismatch != null) {
            throw new BadInputException(file + ": without blocks " + dropped(kept, layers) + ", " + mismatch + " with the keys the "
                    + arch.family() + " config reads" + (family.honoursLayerTypes() ? "" : " (its HF class ignores layer_types)")
                    + "; prune refuses rather than write a model that runs differently");
        }
        return new Result(c, a, wroteTypes);
    }

    private static Architecture describe(Path out, ObjectNode c, Map<String, TensorInfo> tensors, boolean trainingCode) {
        try {
            return Families.describe(out, c, NormChoice.AUTO, tensors, trainingCode);
        } catch (BadInputException e) {
            throw new BadInputException("the pruned config.json cannot be read back: " + e.getMessage(), e);
        }
    }

    /** What the first kept block that differs gets wrong, or null when every block is its original self. */
    static String mismatch(Architecture src, int[] kept, Architecture out) {
        if (out.layers() != kept.length) return "num_hidden_layers would read " + out.layers() + ", not " + kept.length;
        for (int j = 0; j < kept.length; j++) {
            BlockSpec a = src.blocks().get(kept[j]), b = out.blocks().get(j);
            String what = null;
            if (a.slidingWindow() != b.slidingWindow()) {
                what = "sliding window " + window(a.slidingWindow()) + " would become " + window(b.slidingWindow());
            } else if (!a.mlp().equals(b.mlp())) {
                what = "feed-forward part (" + kind(a.mlp()) + ") would become " + kind(b.mlp());
            } else if (!a.form().equals(b.form())) {
                what = "block form " + a.form() + " would become " + b.form();
            }
            if (what != null) return "block " + kept[j] + " (new index " + j + "): its " + what + "; this cannot be stated";
        }
        return null;
    }

    private static boolean onlyWindowsDiffer(Architecture src, int[] kept, Architecture out) {
        if (out.layers() != kept.length) return false;
        for (int j = 0; j < kept.length; j++) {
            BlockSpec a = src.blocks().get(kept[j]), b = out.blocks().get(j);
            if (!a.mlp().equals(b.mlp()) || !a.form().equals(b.form())) return false;
        }
        return true;
    }

    /** full_attention / sliding_attention per kept block, or null when the sliding blocks do not share {@code c}'s sliding_window. */
    private static ArrayNode layerTypes(Architecture src, int[] kept, ObjectNode c) {
        JsonNode w = c.get("sliding_window");
        ArrayNode types = JsonNodeFactory.instance.arrayNode();
        for (int i : kept) {
            int win = src.blocks().get(i).slidingWindow();
            if (win != 0 && (w == null || !w.canConvertToInt() || w.asInt() != win)) return null;
            types.add(win == 0 ? "full_attention" : "sliding_attention");
        }
        return types;
    }

    private static String window(int w) {
        return w == 0 ? "none (full attention)" : Integer.toString(w);
    }

    private static String kind(MlpSpec m) {
        return m instanceof MlpSpec.Moe ? "mixture of experts" : "dense";
    }

    /** "3, 17" (original indices). */
    static String dropped(int[] kept, int layers) {
        List<String> d = new ArrayList<>();
        int k = 0;
        for (int i = 0; i < layers; i++) {
            if (k < kept.length && kept[k] == i) k++;
            else d.add(Integer.toString(i));
        }
        return String.join(", ", d);
    }
}
