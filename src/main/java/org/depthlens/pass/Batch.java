package org.depthlens.pass;

/** {@code batch} sequences of {@code seqLen} token ids, flattened sequence-major. */
public record Batch(int batch, int seqLen, int[] ids) {
    public Batch {
        if (ids.length != batch * seqLen) throw new IllegalArgumentException("ids do not fill " + batch + " x " + seqLen);
    }

    public int rows() {
        return batch * seqLen;
    }

    /** Next-token targets per row: ids[r+1] inside a sequence, -1 at each sequence's last position. */
    public int[] nextTokenTargets() {
        int[] t = new int[ids.length];
        for (int r = 0; r < ids.length; r++) t[r] = r % seqLen == seqLen - 1 ? -1 : ids[r + 1];
        return t;
    }

    public static Batch of(java.util.List<int[]> windows) {
        int t = windows.get(0).length;
        int[] ids = new int[windows.size() * t];
        for (int b = 0; b < windows.size(); b++) {
            if (windows.get(b).length != t) throw new IllegalArgumentException("windows of different lengths");
            System.arraycopy(windows.get(b), 0, ids, b * t, t);
        }
        return new Batch(windows.size(), t, ids);
    }
}
