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

    /** An observer of one batch and what it measured. */
    interface Observer<P> extends StreamObserver {
        P result();
    }
}
