package org.depthlens.pass;

import java.io.Serializable;
import java.util.List;

/**
 * Something a run measures on the main stream beyond what the planner measures itself (log-likelihoods,
 * angular_last, expert counts): e.g. the probe sums of {@code analyze}. Each batch gets its own observer,
 * whose result is one small serialisable partial per sequence; the planner keeps them per sequence and adds
 * them up in sequence order, starting from {@link #empty}, whatever way the sequences were grouped into
 * batches, tasks or machines (docs/design.md, "Same numbers whatever the grouping").
 *
 * @param <P> the partial result of one sequence
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

    /** The partial of no sequence at all, which a fold starts from. */
    P empty();

    /** {@code later} added into {@code acc} (may modify and return {@code acc}; never modifies {@code later}). */
    P merge(P acc, P later);

    /**
     * A probe given by its parts: a name, the floats per token its observers hold, the partial of no sequence, how
     * partials add, and the observer of a batch.
     */
    static <P extends Serializable> PassProbe<P> of(String name, long floatsPerToken, java.util.function.Supplier<P> empty,
                                                    java.util.function.BinaryOperator<P> merge,
                                                    java.util.function.Function<Batch, Observer<P>> observe) {
        return new Of<>(name, floatsPerToken, empty, merge, observe);
    }

    /** {@link #of}'s probe. */
    record Of<P extends Serializable>(String name, long floatsPerToken, java.util.function.Supplier<P> emptyPartial,
                                      java.util.function.BinaryOperator<P> add,
                                      java.util.function.Function<Batch, Observer<P>> observer) implements PassProbe<P> {
        @Override
        public Observer<P> observe(Batch batch) {
            return observer.apply(batch);
        }

        @Override
        public P empty() {
            return emptyPartial.get();
        }

        @Override
        public P merge(P acc, P later) {
            return add.apply(acc, later);
        }
    }

    /** An observer of one batch and what it measured. */
    interface Observer<P> extends StreamObserver {
        /** One partial per sequence of the batch, in batch order; each depends on that sequence alone. */
        List<P> result();
    }
}
