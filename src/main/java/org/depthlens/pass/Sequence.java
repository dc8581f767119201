package org.depthlens.pass;

import java.io.Serializable;
import java.util.Arrays;

/**
 * One sequence of a run: the token ids the model reads, and the rows whose next-token log-likelihood is
 * scored: row {@code scoredFrom + i} predicts {@code targets[i]}. An analysis window scores every row but
 * its last; an evaluation request scores the rows of its continuation.
 */
public record Sequence(int[] ids, int scoredFrom, int[] targets) implements Serializable {
    public Sequence {
        if (ids.length == 0) throw new IllegalArgumentException("empty sequence");
        if (scoredFrom < 0 || scoredFrom + targets.length > ids.length) {
            throw new IllegalArgumentException("scored rows [" + scoredFrom + ", " + (scoredFrom + targets.length) + ") outside "
                    + ids.length + " ids");
        }
    }

    /** A window of text: each position predicts the next id, the last predicts nothing. */
    public static Sequence window(int[] ids) {
        return new Sequence(ids, 0, Arrays.copyOfRange(ids, 1, ids.length));
    }

    public int length() {
        return ids.length;
    }
}
