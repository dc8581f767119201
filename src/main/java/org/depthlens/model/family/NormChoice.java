package org.depthlens.model.family;

import org.depthlens.BadInputException;
import org.depthlens.weights.ConfigReader;
import org.depthlens.weights.TensorInfo;

import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * What the user said about the block normalisation, and the rule that turns it into a {@link NormForm}:
 * {@code --norm-type} (with {@code --post-num}), else config.json's {@code "norm_type"} / {@code "post_num"},
 * else {@code --lns on} or {@code "layernorm_scaling"}, else the norm tensors each block holds (matched against
 * the weights of each {@link BlockForm}). The files cannot tell Pre-LN from LNS nor post from deeppost (same
 * tensors); what was assumed is said in the form's note. It also carries the one other reading choice a user makes
 * about a checkpoint, {@code --skip-vision}, because it travels the same way to every model a run opens.
 *
 * @param normType a {@code NORM_TYPE} name (any case), or null
 * @param postNum  Mix-LN's {@code POST_NUM} as given (--post-num), or null; a form without leading Post-LN blocks
 *                 refuses it, and it may not exceed the block count
 * @param postNumGiven how the user wrote POST_NUM, for messages: null for {@code --post-num}, or a run config's
 *                 {@code run.json: 'postNum'}
 * @param skipVision a multimodal checkpoint's vision tower and projector tensors are left out of the tensor check
 *                   ({@link Architecture.Extra#onRequest}); without it they are refused by name
 */
public record NormChoice(String normType, Integer postNum, Architecture.LnsMode lns, String postNumGiven, boolean skipVision)
        implements java.io.Serializable {
    public static final NormChoice AUTO = new NormChoice(null, null, Architecture.LnsMode.AUTO);

    public NormChoice {
        if (lns == null) lns = Architecture.LnsMode.AUTO;
    }

    public NormChoice(String normType, Integer postNum, Architecture.LnsMode lns) {
        this(normType, postNum, lns, null, false);
    }

    /** This choice with the vision tower accepted ({@code prune} carries it over unchanged without running it). */
    public NormChoice withSkipVision() {
        return new NormChoice(normType, postNum, lns, postNumGiven, true);
    }

    /** {@code --post-num}, or where a run config gave it. */
    private String postNumName() {
        return postNumGiven == null ? "--post-num" : postNumGiven;
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
    public NormForm resolve(ConfigReader c, Map<String, TensorInfo> tensors, boolean trainingCode) {
        int layers = c.positiveInt("num_hidden_layers"), hidden = c.positiveInt("hidden_size");
        String where = c.file().toAbsolutePath().getParent() + ": ";
        if (tensors != null) checkBlocksHeld(c, where, layers, tensors);
        NormType type = null;
        String source = null;
        String fromConfig = configNormType(c);
        if (normType != null) {
            type = NormType.parseCode(normType);
            if (type == null) throw new BadInputException(where + "--norm-type '" + normType + "' is not a NORM_TYPE of the Curse-of-Depth code (" + NormType.names() + ")");
            source = NormForm.GIVEN_FLAG;
        } else if (fromConfig != null) {
            type = NormType.parseCode(fromConfig);
            if (type == null) throw c.error(c.name("norm_type") + " '" + fromConfig + "' is not a NORM_TYPE of the Curse-of-Depth code (" + NormType.names() + ")");
            source = "config.json norm_type";
        } else if (lns == Architecture.LnsMode.ON) {
            type = NormType.LNS;
            source = "--lns on";
        } else if (lns == Architecture.LnsMode.AUTO && c.lnsFactors(layers) != null) {
            type = NormType.LNS;
            source = "config.json layernorm_scaling";
        }
        double[] factors = type == NormType.LNS ? c.lnsFactors(layers) : null;
        Integer post = postNum != null ? postNum : c.inFile("post_num") ? Integer.valueOf(c.nonNegativeInt("post_num")) : null;
        if (post != null && post < 0) throw new BadInputException(where + "--post-num must not be negative, got " + post);
        String note = null;
        if (type == null) {
            if (tensors == null) return NormForm.preLn(layers, "no weights to read (Pre-LN)");
            Detected d = detect(where, layers, hidden, tensors);
            type = d.type;
            source = NormForm.DETECTED;
            if (d.postNum != null) {
                if (postNum != null && !postNum.equals(d.postNum)) {
                    throw new BadInputException(where + postNumName() + " " + postNum + " but the norm tensors say the first " + d.postNum
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
        if (postNum != null && !type.usesPostNum()) {
            throw new BadInputException(where + postNumName() + " " + postNum + " but the blocks are NORM_TYPE " + type.code() + " (" + source
                    + "), which has no POST_NUM; give " + (postNumGiven == null ? "--norm-type post_pre or drop --post-num" : "'normType' post_pre or drop 'postNum'"));
        }
        if (type.usesPostNum() && post != null && post > layers) {
            if (postNumGiven != null) {
                throw new BadInputException(postNumGiven + " " + post + " is more than the " + layers + " blocks of " + c.file()
                        + " (num_hidden_layers); give " + layers + " or less");
            }
            if (postNum != null) {
                throw new BadInputException(c.file() + ": --post-num " + post + " is more than the model's " + layers
                        + " blocks (num_hidden_layers); give --post-num " + layers + " or less");
            }
            throw c.error(c.name("post_num") + " " + post + " is more than " + c.name("num_hidden_layers") + " " + layers + " (POST_NUM counts leading blocks)");
        }
        int p = post == null ? 1 : post;
        NormForm form = new NormForm(type, p, type.blocks(layers, p, factors), source, note == null ? null : where + note);
        if (tensors != null) check(where, form, hidden, tensors);
        return form;
    }

    /**
     * The one form of a family whose blocks have a fixed normalisation (Gemma's sandwich, OLMo-2's output norms,
     * GPT-NeoX's parallel residual, OLMo's parameter-free Pre-LN): asking for another form, or for LayerNorm
     * Scaling, is refused rather than silently ignored.
     */
    public NormForm fixed(ConfigReader c, String family, NormType type) {
        int layers = c.positiveInt("num_hidden_layers");
        String where = c.file().toAbsolutePath().getParent() + ": ";
        if (normType != null && NormType.parseCode(normType) != type) {
            throw new BadInputException(where + "--norm-type " + normType + " does not apply: " + family + " blocks are " + type.label()
                    + " by construction (--norm-type is for checkpoints of the Curse-of-Depth code)");
        }
        if (lns == Architecture.LnsMode.ON) {
            throw new BadInputException(where + "--lns on does not apply: " + family + " blocks are " + type.label() + " by construction");
        }
        // no fixed form has leading Post-LN blocks: a POST_NUM would be silently ignored
        if (postNum != null) {
            throw new BadInputException(where + postNumName() + " " + postNum + " does not apply: " + family + " blocks are " + type.label()
                    + " by construction, without Mix-LN's leading Post-LN blocks");
        }
        return new NormForm(type, 1, type.blocks(layers, 1, null), "the " + family + " architecture", null);
    }

    /**
     * Every block the config counts holds tensors: else config.json and the weights disagree (a larger
     * num_hidden_layers, an empty state dict), which is said so rather than as a block form that matches nothing.
     */
    private static void checkBlocksHeld(ConfigReader c, String where, int layers, Map<String, TensorInfo> tensors) {
        if (tensors.isEmpty()) throw new BadInputException(where + "the weights hold no tensor at all (an empty state dict?)");
        TensorCheck.checkEveryBlockHeld(c.file(), c.name("num_hidden_layers"), layers, "model.layers.", tensors.keySet());
    }

    /** {@code "norm_type"}, or null. */
    private static String configNormType(ConfigReader c) {
        return c.inFile("norm_type") ? c.string("norm_type") : null;
    }

    /** Every norm tensor a block of any form may hold (the weights of one form of each kind). */
    private static Set<String> normTensors(String prefix, int hidden) {
        Set<String> all = new LinkedHashSet<>();
        for (BlockForm f : BlockForm.ALL_KINDS) for (Weight w : f.weights(prefix, hidden)) all.add(w.parts().get(0).name());
        return all;
    }

    private static List<String> names(BlockForm f, String prefix, int hidden) {
        return f.weights(prefix, hidden).stream().map(w -> w.parts().get(0).name()).toList();
    }

    /** Every block holds exactly the norm tensors its form reads, said naming the block and the tensor. */
    private static void check(String where, NormForm form, int hidden, Map<String, TensorInfo> tensors) {
        for (int l = 0; l < form.blocks().size(); l++) {
            BlockForm b = form.blocks().get(l);
            String prefix = "model.layers." + l + ".";
            List<String> needed = names(b, prefix, hidden);
            for (String name : needed) {
                if (!tensors.containsKey(name)) {
                    throw new BadInputException(where + "NORM_TYPE " + form.type().code() + " (" + form.source() + ") needs tensor '" + name
                            + "' in block " + l + " (a " + b.kind() + " block), which the weights do not hold");
                }
            }
            for (String name : normTensors(prefix, hidden)) {
                if (tensors.containsKey(name) && !needed.contains(name)) {
                    throw new BadInputException(where + "block " + l + " holds '" + name + "', which NORM_TYPE " + form.type().code() + " ("
                            + form.source() + ") does not use; the weights were trained with another form");
                }
            }
        }
    }

    private record Detected(NormType type, Integer postNum) {
    }

    /** The {@code NORM_TYPE} whose per-block forms hold exactly the norm tensors of the files. */
    private static Detected detect(String where, int layers, int hidden, Map<String, TensorInfo> tensors) {
        List<String> kinds = new ArrayList<>();
        for (int l = 0; l < layers; l++) kinds.add(kindOf(where, l, hidden, tensors));
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

    /** The kind ("pre", "pre+r" with residual scalars, "post", "sandwich") whose norm tensors are exactly block l's. */
    private static String kindOf(String where, int l, int hidden, Map<String, TensorInfo> tensors) {
        String p = "model.layers." + l + ".";
        Set<String> held = new LinkedHashSet<>();
        for (String name : normTensors(p, hidden)) if (tensors.containsKey(name)) held.add(name);
        for (BlockForm f : BlockForm.ALL_KINDS) {
            if (held.equals(new LinkedHashSet<>(names(f, p, hidden)))) {
                return f instanceof BlockForm.PreNorm pn && pn.residualScalars() ? "pre+r" : f.kind();
            }
        }
        throw new BadInputException(where + "block " + l + " holds the norm tensors " + held.stream().map(n -> n.substring(p.length())).toList()
                + ", which match no block form of the Curse-of-Depth code (pre, post, sandwich, scale_res_pre_norm)");
    }
}
