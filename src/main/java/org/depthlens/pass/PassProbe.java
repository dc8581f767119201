package org.depthlens.pass;

import java.io.Serializable;

/**
 * Something a run measures on the main stream beyond what the planner measures itself (log-likelihoods,
 * angular_last, expert counts): e.g. the probe sums of {@code analyze}. Each batch gets its own observer,
 * whose result is a small serialisable partial; the planner merges partials in a fixed order.
 *
 * @param <P> the partial result
 */
public interface PassProbe<P extends Serializable> {
    /** The key of this probe's partials in a {@link PassPart}. */
    String name();

    /** Float32 values per token an observer holds while its batch runs (e.g. every depth's state), for batch sizing. */
    long floatsPerToken();

    /** Whether batches may hold sequences of different lengths (padding rows would be observed as tokens). */
    default boolean allowsPadding() {
        return false;
    }

    /** An observer of one batch. */
    Observer<P> observe(Batch batch);

    /** {@code earlier} and {@code later} merged (may modify and return {@code earlier}). */
    P merge(P earlier, P later);

    /**
     * {@code partial} with the sequences it keys by index renamed: index i becomes {@code ids[i]}. A driver that
     * runs a group on its own (numbering its sequences 0..n-1) calls this so that parts merge by the run's
     * indices. The default is for partials that key nothing by sequence.
     */
    default P relabel(P partial, int[] ids) {
        return partial;
    }

    /** An observer of one batch and what it measured. */
    interface Observer<P> extends StreamObserver {
        P result();
    }
}
