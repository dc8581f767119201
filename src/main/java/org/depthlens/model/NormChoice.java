package org.depthlens.model;

import org.depthlens.BadInputException;
import org.depthlens.weights.ModelConfig;
import org.depthlens.weights.TensorInfo;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * What the user said about the block normalisation, and the rule that turns it into a {@link NormForm}:
 * {@code --norm-type} (with {@code --post-num}), else config.json's {@code "norm_type"} / {@code "post_num"},
 * else {@code --lns on} or {@code "layernorm_scaling"}, else the norm tensors each block holds. The files
 * cannot tell Pre-LN from LNS nor post from deeppost (same tensors); what was assumed is said in the note.
 *
 * @param normType a {@code NORM_TYPE} name (any case), or null
 * @param postNum  Mix-LN's {@code POST_NUM}, or null; forms without leading Post-LN blocks ignore it (one value may
 *                 serve a run over several models)
 */
public record NormChoice(String normType, Integer postNum, Architecture.LnsMode lns) {
    public static final NormChoice AUTO = new NormChoice(null, null, Architecture.LnsMode.AUTO);

    public NormChoice {
        if (lns == null) lns = Architecture.LnsMode.AUTO;
    }

    public static NormChoice of(Architecture.LnsMode lns) {
        return new NormChoice(null, null, lns);
    }

    /**
     * The form of the model whose config is {@code c} and whose tensors are {@code tensors} (null: no files,
     * e.g. a synthetic shape; Pre-LN unless asked otherwise). Every block's norm tensors must be exactly those
     * of its form. {@code trainingCode}: the files look written by the Curse-of-Depth code (.bin weights or its
     * {@code LLaMAForCausalLM} config), where a Pre-LN guess deserves a note.
     */
    public NormForm resolve(ModelConfig c, Map<String, TensorInfo> tensors, boolean trainingCode) {
        String where = c.file().getParent() + ": ";
        NormType type = null;
        String source = null;
        double[] factors = null;
        if (normType != null) {
            type = NormType.parse(normType);
            if (type == null) throw new BadInputException(where + "--norm-type '" + normType + "' is not a NORM_TYPE of the Curse-of-Depth code (" + NormType.names() + ")");
            source = NormForm.GIVEN_FLAG;
        } else if (c.normType() != null) {
            type = NormType.parse(c.normType());
            if (type == null) throw new BadInputException(c.file() + ": norm_type '" + c.normType() + "' is not a NORM_TYPE of the Curse-of-Depth code (" + NormType.names() + ")");
            source = "config.json norm_type";
        } else if (lns == Architecture.LnsMode.ON) {
            type = NormType.LNS;
            source = "--lns on";
        } else if (lns == Architecture.LnsMode.AUTO && c.layernormScaling() != null) {
            type = NormType.LNS;
            source = "config.json layernorm_scaling";
        }
        if (type == NormType.LNS && c.layernormScaling() != null) factors = c.layernormScaling();
        Integer post = postNum != null ? postNum : c.postNum();
        if (post != null && post < 0) throw new BadInputException(where + "--post-num must not be negative, got " + post);
        String note = null;
        if (type == null) {
            if (tensors == null) return NormForm.preLn(c.numLayers(), "no weights to read (Pre-LN)");
            Detected d = detect(where, c.numLayers(), tensors);
            type = d.type;
            source = NormForm.DETECTED;
            if (d.postNum != null) {
                if (postNum != null && !postNum.equals(d.postNum)) {
                    throw new BadInputException(where + "--post-num " + postNum + " but the norm tensors say the first " + d.postNum
                            + " block" + (d.postNum == 1 ? " is" : "s are") + " Post-LN");
                }
                post = d.postNum;
            }
            if (type == NormType.PRE && trainingCode && lns != Architecture.LnsMode.OFF) {
                note = "the blocks hold Pre-LN norms, which LNS checkpoints hold too; assuming Pre-LN (pass --norm-type LNS or --lns on if it was trained with LayerNorm Scaling)";
            } else if (type == NormType.POST) {
                note = "the blocks hold Post-LN norms, which deeppost checkpoints hold too; assuming post (pass --norm-type deeppost if it was trained with NORM_TYPE=deeppost)";
            }
        }
        int p = post == null ? 1 : post;
        NormForm form = new NormForm(type, p, type.blocks(c.numLayers(), p, factors), source, note == null ? null : where + note);
        if (tensors != null) check(where, form, tensors);
        return form;
    }

    /** Every block holds exactly the norm tensors its form reads. */
    private static void check(String where, NormForm form, Map<String, TensorInfo> tensors) {
        for (int l = 0; l < form.blocks().size(); l++) {
            BlockNorm b = form.blocks().get(l);
            String prefix = "model.layers." + l + ".";
            for (String role : b.roles()) {
                String name = prefix + BlockNorm.TENSORS.get(role);
                if (!tensors.containsKey(name)) {
                    throw new BadInputException(where + "NORM_TYPE " + form.type().code() + " (" + form.source() + ") needs tensor '" + name
                            + "' in block " + l + " (a " + b.kind().name().toLowerCase(java.util.Locale.ROOT) + " block), which the weights do not hold");
                }
            }
            for (Map.Entry<String, String> e : BlockNorm.TENSORS.entrySet()) {
                String name = prefix + e.getValue();
                if (tensors.containsKey(name) && !b.roles().contains(e.getKey())) {
                    throw new BadInputException(where + "block " + l + " holds '" + name + "', which NORM_TYPE " + form.type().code() + " ("
                            + form.source() + ") does not use; the weights were trained with another form");
                }
            }
        }
    }

    private record Detected(NormType type, Integer postNum) {
    }

    /** The {@code NORM_TYPE} whose per-block norm tensors are those of the files. */
    private static Detected detect(String where, int layers, Map<String, TensorInfo> tensors) {
        List<String> kinds = new ArrayList<>();
        for (int l = 0; l < layers; l++) kinds.add(kindOf(where, l, tensors));
        int lead = 0;
        while (lead < layers && kinds.get(lead).equals(kinds.get(0))) lead++;
        String first = kinds.get(0), rest = lead < layers ? kinds.get(lead) : null;
        boolean twoRuns = rest != null && kinds.subList(lead, layers).stream().allMatch(rest::equals);
        if (rest == null) {
            return new Detected(switch (first) {
                case "pre" -> NormType.PRE;
                case "pre+r" -> NormType.SCALE_RES_PRE_NORM;
                case "post" -> NormType.POST;
                default -> NormType.SANDWICH;
            }, null);
        }
        if (twoRuns && first.equals("post") && rest.equals("pre")) return new Detected(NormType.POST_PRE, lead);
        if (twoRuns && first.equals("pre") && lead == NormType.PRE_BLOCKS && rest.equals("post")) return new Detected(NormType.PRE_POST, null);
        if (twoRuns && first.equals("pre") && lead == NormType.PRE_BLOCKS && rest.equals("sandwich")) {
            return new Detected(NormType.PRE_SANDWICH, null);
        }
        StringBuilder sb = new StringBuilder();
        for (int l = 0; l < layers; ) {
            int e = l;
            while (e + 1 < layers && kinds.get(e + 1).equals(kinds.get(l))) e++;
            sb.append(sb.length() == 0 ? "" : ", ").append(kinds.get(l)).append(' ').append(l).append(e > l ? "-" + e : "");
            l = e + 1;
        }
        throw new BadInputException(where + "the blocks' norm tensors (" + sb + ") match no NORM_TYPE of the Curse-of-Depth code; give --norm-type");
    }

    /** "pre", "pre+r" (with residual scalars), "post" or "sandwich", from the norm tensors block l holds. */
    private static String kindOf(String where, int l, Map<String, TensorInfo> tensors) {
        String p = "model.layers." + l + ".";
        boolean in = tensors.containsKey(p + "input_layernorm.weight"), pa = tensors.containsKey(p + "post_attention_layernorm.weight"),
                pff = tensors.containsKey(p + "pre_feedforward_layernorm.weight"), pf = tensors.containsKey(p + "post_feedforward_layernorm.weight"),
                ra = tensors.containsKey(p + "raw_scaling_factor_attn"), rm = tensors.containsKey(p + "raw_scaling_factor_mlp");
        if (!pa) throw new BadInputException(where + "block " + l + " has no tensor '" + p + "post_attention_layernorm.weight' (every block form has it)");
        if (ra != rm) {
            throw new BadInputException(where + "block " + l + " has no tensor '" + p + (ra ? "raw_scaling_factor_mlp" : "raw_scaling_factor_attn")
                    + "' (scale_res_pre_norm blocks hold both residual scalars)");
        }
        if (in && !pff && !pf) return ra ? "pre+r" : "pre";
        if (!ra && !in && pf && !pff) return "post";
        if (!ra && in && pff && pf) return "sandwich";
        String missing = !in ? "input_layernorm.weight" : !pff ? "pre_feedforward_layernorm.weight" : "post_feedforward_layernorm.weight";
        throw new BadInputException(where + "block " + l + " has no tensor '" + p + missing + "': its norm tensors match no block form (pre, post, sandwich)");
    }
}
