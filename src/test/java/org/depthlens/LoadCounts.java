package org.depthlens;

import org.depthlens.model.WeightPool;

import java.util.Map;
import java.util.TreeMap;

/** Counts the tensors a {@link WeightPool} decodes while it listens (tests check each weight is read once per pass). */
public final class LoadCounts implements WeightPool.LoadListener {
    private final Map<String, Integer> byName = new TreeMap<>();
    private long total;

    /** A counter listening to {@code pool} from now on. */
    public static LoadCounts on(WeightPool pool) {
        LoadCounts c = new LoadCounts();
        pool.listen(c);
        return c;
    }

    @Override
    public synchronized void loaded(String tensor, long elements) {
        byName.merge(tensor, 1, Integer::sum);
        total++;
    }

    /** How often each tensor was decoded so far. */
    public synchronized Map<String, Integer> byName() {
        return Map.copyOf(byName);
    }

    /** Tensors decoded so far. */
    public synchronized long total() {
        return total;
    }

    /** Starts again from zero. */
    public synchronized void reset() {
        byName.clear();
        total = 0;
    }
}
