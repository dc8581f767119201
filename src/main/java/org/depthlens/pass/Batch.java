package org.depthlens.pass;

import java.util.Arrays;
import java.util.List;

/**
 * {@code batch} sequences of {@code seqLen} token ids, flattened sequence-major, as one pass reads them.
 * Shorter sequences are padded on the right ({@link #lengths} says how many ids of each row are real): in a
 * causal decoder a position only attends to positions at or before it, and norms, MLPs and MoE routing are
 * per token, so padding after a sequence's last id cannot change any of its own rows; padded rows are never
 * scored or observed as a last token.
 *
 * @param members the run's index of each sequence of the batch
 * @param lengths real ids of each sequence
 */
public record Batch(int batch, int seqLen, int[] ids, int[] members, int[] lengths) {
    /** Token id written into padding positions (any id in the vocabulary will do: padding is never read back). */
    public static final int PAD = 0;

    public Batch {
        if (ids.length != batch * seqLen) throw new IllegalArgumentException("ids do not fill " + batch + " x " + seqLen);
        if (members.length != batch || lengths.length != batch) throw new IllegalArgumentException("members or lengths do not match the batch");
    }

    /** Equal-length sequences 0..batch-1, unpadded. */
    public Batch(int batch, int seqLen, int[] ids) {
        this(batch, seqLen, ids, range(batch), filled(batch, seqLen));
    }

    public int rows() {
        return batch * seqLen;
    }

    /** Whether some sequence is shorter than the batch (rows past its end are padding). */
    public boolean padded() {
        return Arrays.stream(lengths).anyMatch(l -> l != seqLen);
    }

    /** The row of each sequence's last real id. */
    public int[] lastRows() {
        int[] r = new int[batch];
        for (int b = 0; b < batch; b++) r[b] = b * seqLen + lengths[b] - 1;
        return r;
    }

    /** Next-token targets per row: ids[r+1] inside a sequence, -1 at each sequence's last position. */
    public int[] nextTokenTargets() {
        int[] t = new int[ids.length];
        for (int r = 0; r < ids.length; r++) t[r] = r % seqLen == seqLen - 1 ? -1 : ids[r + 1];
        return t;
    }

    /** Equal-length windows, in order. */
    public static Batch of(List<int[]> windows) {
        int t = windows.get(0).length;
        int[] ids = new int[windows.size() * t];
        for (int b = 0; b < windows.size(); b++) {
            if (windows.get(b).length != t) throw new IllegalArgumentException("windows of different lengths");
            System.arraycopy(windows.get(b), 0, ids, b * t, t);
        }
        return new Batch(windows.size(), t, ids);
    }

    /** The sequences {@code members} of a run, right-padded to the longest. */
    public static Batch of(List<Sequence> seqs, int[] members) {
        int t = 0;
        for (int m : members) t = Math.max(t, seqs.get(m).length());
        int[] ids = new int[members.length * t];
        Arrays.fill(ids, PAD);
        int[] lengths = new int[members.length];
        for (int b = 0; b < members.length; b++) {
            int[] in = seqs.get(members[b]).ids();
            System.arraycopy(in, 0, ids, b * t, in.length);
            lengths[b] = in.length;
        }
        return new Batch(members.length, t, ids, members.clone(), lengths);
    }

    private static int[] range(int n) {
        int[] r = new int[n];
        for (int i = 0; i < n; i++) r[i] = i;
        return r;
    }

    private static int[] filled(int n, int v) {
        int[] r = new int[n];
        Arrays.fill(r, v);
        return r;
    }
}
