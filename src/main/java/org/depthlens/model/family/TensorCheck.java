package org.depthlens.model.family;

import org.depthlens.BadInputException;
import org.depthlens.weights.Checkpoint;
import org.depthlens.weights.Msg;
import org.depthlens.weights.TensorInfo;

import java.util.HashSet;
import java.util.Set;

/**
 * Every tensor of a checkpoint is read by the model its config describes, or is one of the family's
 * known harmless extras, or the checkpoint is refused: a weight the description does not know (a new
 * projection, a bias the config does not announce) would otherwise be silently left out of every number.
 * Runs on the headers alone, before anything is computed.
 */
public final class TensorCheck {
    private TensorCheck() {}

    /**
     * Refuses, in this order: tensors of blocks beyond num_hidden_layers; a missing, misshapen or undecodable
     * (non-float, FP8 without block scales) tensor of the description; a tensor nobody reads. Each as one line naming the tensor and the file.
     */
    public static void check(Architecture a, Checkpoint ck) {
        check(a, ck, false);
    }

    /**
     * {@link #check(Architecture, Checkpoint)}; {@code skipAsked}: the user asked to leave out the extras that need
     * asking ({@link Architecture.Extra#onRequest}, a vision tower), which are otherwise refused by name.
     */
    public static void check(Architecture a, Checkpoint ck, boolean skipAsked) {
        checkNoBlocksBeyondConfig(a, ck);
        checkEveryBlockHeld(a.configFile(), layersKey(a), a.layers(), a.names().blocks(), ck.tensors().keySet());
        Set<String> used = new HashSet<>();
        for (Weight w : a.allWeights()) {
            for (Weight.Part p : w.parts()) {
                ck.require(p.name(), p.shape());
                ck.checkDecodable(p.name());
                used.add(p.name());
            }
        }
        for (TensorInfo t : ck.tensors().values()) {
            String name = t.name();
            if (used.contains(name)) continue;
            Architecture.Extra extra = a.extra(name);
            if (extra != null && extra.onRequest() != null && !skipAsked) {
                throw new BadInputException(Msg.f(t.file()) + ": tensor " + Msg.q(name) + " is " + extra.why() + ", which depthlens does not run; "
                        + "pass " + extra.onRequest() + " to analyse the " + a.family() + " language model without it");
            }
            if (extra != null) continue;
            // an FP8 weight's block scales are read with it
            if (name.endsWith("_scale_inv") && used.contains(name.substring(0, name.length() - "_scale_inv".length()))) continue;
            throw new BadInputException(Msg.f(t.file()) + ": tensor " + Msg.q(name) + " is not part of the " + a.family()
                    + " model that config.json describes; depthlens would silently leave it out, so it refuses the checkpoint");
        }
    }

    /** "num_hidden_layers", or its path in the object the family keeps its blocks' keys in ("text_config.num_hidden_layers"). */
    private static String layersKey(Architecture a) {
        Family f = Families.of(a.family());
        return (f == null || f.blocksConfig() == null ? "" : f.blocksConfig() + ".") + "num_hidden_layers";
    }

    /**
     * Every block config.json counts holds a tensor under {@code prefix} ("model.layers.", "gpt_neox.layers."): else
     * config.json and the weights disagree (a larger num_hidden_layers), which is said so, with the blocks the weights
     * do hold, rather than as the first missing tensor.
     */
    static void checkEveryBlockHeld(java.nio.file.Path config, String key, int layers, String prefix, java.util.Collection<String> names) {
        java.util.BitSet held = new java.util.BitSet();
        for (String n : names) {
            if (!n.startsWith(prefix)) continue;
            int dot = n.indexOf('.', prefix.length());
            if (dot < 0) continue;
            try {
                int l = Integer.parseInt(n.substring(prefix.length(), dot));
                if (l >= 0 && l < layers) held.set(l);
            } catch (NumberFormatException ignored) {
                // not a block tensor
            }
        }
        int missing = held.nextClearBit(0);
        if (missing >= layers) return;
        String have = held.isEmpty() ? "none" : held.cardinality() == held.length() ? "blocks 0-" + (held.length() - 1)
                : held.cardinality() + " blocks";
        throw new BadInputException(config + ": " + key + " is " + layers + " but the weights hold no tensor of block " + missing
                + " ('" + prefix + missing + ".*'; they hold " + have + "); config.json and the weights disagree");
    }

    /**
     * Blocks the config does not have mean the config and weights disagree (a truncated config would
     * silently analyse a shorter model); said as such rather than as an unknown tensor.
     */
    private static void checkNoBlocksBeyondConfig(Architecture a, Checkpoint ck) {
        int max = -1;
        String example = null;
        String blocks = a.names().blocks();
        for (String name : ck.tensors().keySet()) {
            if (!name.startsWith(blocks) || a.extra(name) != null) continue;
            int dot = name.indexOf('.', blocks.length());
            if (dot < 0) continue;
            try {
                int block = Integer.parseInt(name.substring(blocks.length(), dot));
                if (block >= a.layers() && block > max) {
                    max = block;
                    example = name;
                }
            } catch (NumberFormatException ignored) {
                // not a block index
            }
        }
        if (example != null) {
            throw new BadInputException(a.configFile() + ": " + layersKey(a) + " is " + a.layers() + " but the weights hold block "
                    + max + " (tensor '" + example + "'); config.json and the weights disagree");
        }
    }
}
