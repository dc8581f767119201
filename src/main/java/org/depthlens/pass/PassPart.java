package org.depthlens.pass;

import java.io.Serializable;
import java.util.List;
import java.util.Map;

/**
 * What one group of sequences measured in one pass over the weights: small, serialisable, and merged with
 * the other groups' parts by {@link Passes#merge} in a fixed order. Everything a later decision depends on
 * (log-likelihoods, the angles that choose the pruned blocks) is kept per sequence, so merging sums them
 * in sequence order however the sequences were grouped.
 *
 * @param members       the run's index of each sequence of the group
 * @param loglik        {@code [i][s]}: summed log-likelihood of the scored rows of sequence {@code members[i]} in
 *                      stream s (the main stream first when it is scored, then the plan's branches in order)
 * @param lastAngles    {@code [i][pair]}: angular_last values of sequence {@code members[i]}
 *                      ({@link org.depthlens.probe.LastTokenAngles}), or null when not measured
 * @param expertUsage   per block, how often the main stream chose each expert (null entries for dense blocks;
 *                      null for a dense model)
 * @param probes        each {@link PassProbe}'s partials by name, one per sequence of the group (in {@code members} order)
 * @param inputTokens   ids of the group's sequences (padding not counted)
 */
public record PassPart(int[] members, double[][] loglik, double[][] lastAngles, List<long[]> expertUsage,
                       Map<String, List<Serializable>> probes, long inputTokens) implements Serializable {
    private static final long serialVersionUID = 1L;
}
