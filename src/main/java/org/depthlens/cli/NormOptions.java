package org.depthlens.cli;

import org.depthlens.model.family.Architecture;
import org.depthlens.model.family.NormChoice;
import org.depthlens.model.family.NormType;
import picocli.CommandLine;
import picocli.CommandLine.Option;

import java.util.ArrayList;
import java.util.List;

/**
 * {@code --norm-type} and {@code --post-num}, on every command that loads a model: the block normalisation
 * of checkpoints from the Curse-of-Depth training code, which records it nowhere; and {@code --skip-vision}. Given once, a value applies
 * to every {@code --model}; given as often as {@code --model}, the n-th goes with the n-th model.
 */
public final class NormOptions {
    @Option(names = "--norm-type", paramLabel = "NAME",
            description = "Block normalisation as the Curse-of-Depth code's NORM_TYPE (any case): pre, scale_pre, LNS, post, deeppost, "
                    + "sandwich, post_pre (Mix-LN), scale_post_pre, pre_post, pre_sandwich, scale_res_pre_norm; auto = config.json's "
                    + "\"norm_type\", else --lns/\"layernorm_scaling\", else detected from the norm tensors. Once for all models or once per --model.")
    List<String> normTypes = new ArrayList<>();

    @Option(names = "--post-num", paramLabel = "N",
            description = "Mix-LN's POST_NUM (post_pre, scale_post_pre): the first N blocks are Post-LN. Default: config.json's "
                    + "\"post_num\", else what the norm tensors show, else 1. Once for all models or once per --model.")
    List<Integer> postNums = new ArrayList<>();

    @Option(names = "--skip-vision",
            description = "A multimodal checkpoint (Gemma-3's Gemma3ForConditionalGeneration): analyse its language model and leave "
                    + "the vision tower and projector tensors out. Without it they are refused by name, since they are part of "
                    + "what the checkpoint computes.")
    boolean skipVision;

    /**
     * Usage errors (exit 2) for unknown names, negative N, or counts that fit neither one nor {@code models} models;
     * bad input of the run config (exit 3, naming it) when the value came from there.
     */
    void validate(CommandLine.Model.CommandSpec spec, int models, Origin origin) {
        for (String t : normTypes) {
            if (!t.equalsIgnoreCase("auto") && NormType.parse(t) == null) {
                throw origin.error(spec, "--norm-type", "'" + t + "' is not a NORM_TYPE of the Curse-of-Depth code (" + NormType.names() + ", or auto)");
            }
        }
        for (int n : postNums) if (n < 0) throw origin.error(spec, "--post-num", "must not be negative, got " + n);
        count(spec, origin, "--norm-type", normTypes.size(), models);
        count(spec, origin, "--post-num", postNums.size(), models);
    }

    private static void count(CommandLine.Model.CommandSpec spec, Origin origin, String option, int given, int models) {
        if (given > 1 && given != models) {
            throw origin.error(spec, option, "is given " + given + " times for " + models + " model" + (models == 1 ? "" : "s")
                    + " (give it once for all, or once per --model)");
        }
    }

    /** {@link #validate(CommandLine.Model.CommandSpec, int, Origin)} of options given on the command line. */
    void validate(CommandLine.Model.CommandSpec spec, int models) {
        validate(spec, models, Origin.COMMAND_LINE);
    }

    /** The models with their choices (after {@link #validate}); {@code origin} says which values a run config gave. */
    List<ModelSpec> apply(CommandLine.Model.CommandSpec spec, List<ModelSpec> models, Architecture.LnsMode lns, Origin origin) {
        validate(spec, models.size(), origin);
        List<ModelSpec> out = new ArrayList<>();
        for (int i = 0; i < models.size(); i++) out.add(models.get(i).withNorm(choice(i, lns, origin)));
        return out;
    }

    /** {@link #choice(int, Architecture.LnsMode, Origin)} of options given on the command line. */
    NormChoice choice(int i, Architecture.LnsMode lns) {
        return choice(i, lns, Origin.COMMAND_LINE);
    }

    /**
     * The choice for the {@code i}-th model. Options that contradict each other are usage errors (exit 2):
     * {@code --post-num} with a form that has no POST_NUM, {@code --lns on} with any form but LNS, {@code --lns off}
     * with LNS. One {@code --post-num} given for several models with their own {@code --norm-type} serves only those
     * whose form has a POST_NUM.
     */
    NormChoice choice(int i, Architecture.LnsMode lns, Origin origin) {
        String t = pick(normTypes, i);
        boolean auto = t == null || t.equalsIgnoreCase("auto");
        NormType type = auto ? null : NormType.parse(t);
        Integer post = pick(postNums, i);
        if (type != null && post != null && !type.usesPostNum()) {
            boolean shared = postNums.size() == 1 && normTypes.size() > 1;
            if (!shared) {
                throw origin.error(null, List.of("--post-num", "--norm-type"), origin.key("--post-num") + " " + post + " with "
                        + origin.key("--norm-type") + " " + type.code() + ", which has no POST_NUM (only post_pre and scale_post_pre have leading Post-LN blocks)");
            }
            post = null;
        }
        if (type != null && lns == Architecture.LnsMode.ON && type != NormType.LNS) {
            throw origin.error(null, List.of("--lns", "--norm-type"), origin.key("--lns") + " on with " + origin.key("--norm-type") + " " + type.code()
                    + ": " + origin.key("--lns") + " on means NORM_TYPE LNS; give one of them");
        }
        if (type == NormType.LNS && lns == Architecture.LnsMode.OFF) {
            throw origin.error(null, List.of("--lns", "--norm-type"), origin.key("--lns") + " off with " + origin.key("--norm-type")
                    + " LNS: they contradict each other; give one of them");
        }
        // the model's checks name POST_NUM where the user wrote it
        return new NormChoice(auto ? null : t, post, lns, origin.fromConfig("--post-num") ? origin.name("--post-num") : null, skipVision);
    }

    private static <T> T pick(List<T> values, int i) {
        return values.isEmpty() ? null : values.get(values.size() == 1 ? 0 : i);
    }
}
