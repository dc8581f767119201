package org.depthlens.model;

import org.depthlens.model.family.Weight;
import org.depthlens.weights.Checkpoint;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.memory.MemoryWorkspace;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

import java.util.Arrays;
import java.util.HashMap;
import java.util.Map;

/**
 * Float32 buffers for one block's weights, reused from block to block: a role ("attn.qkv", "mlp.gu",
 * "expert.down"...) keeps its buffer while the shape stays the same, so streaming through L blocks
 * allocates one block's worth of memory, not L.
 */
public final class WeightPool {
    /** Told of every tensor decoded through a pool (tests check each weight is read once per pass). */
    public interface LoadListener {
        void loaded(String tensor, long elements);
    }

    private final Checkpoint checkpoint;
    private final Map<String, INDArray> buffers;
    private LoadListener listener;

    public WeightPool(Checkpoint checkpoint) {
        this(checkpoint, new HashMap<>());
    }

    private WeightPool(Checkpoint checkpoint, Map<String, INDArray> buffers) {
        this.checkpoint = checkpoint;
        this.buffers = buffers;
    }

    /**
     * A pool reading {@code other} into this pool's buffers (not to be used at the same time as this one): a second
     * model of the same block shapes, run after the first (prune's verification of its export), costs no second
     * block's worth of memory.
     */
    public WeightPool reusedFor(Checkpoint other) {
        return new WeightPool(other, buffers);
    }

    /** Tells {@code l} of every load from now on (null: nobody). */
    public void listen(LoadListener l) {
        this.listener = l;
    }

    /**
     * Decodes the tensors of {@code w} one after another into the buffer of its role, concatenated along
     * their first dimension (e.g. q, k and v projections as one [q+k+v, hidden] matrix).
     */
    public INDArray load(Weight w) {
        long[] shape = w.shape();
        INDArray buf = buffers.get(w.role());
        if (buf == null || !Arrays.equals(buf.shape(), shape)) {
            buf = allocate(shape);
            buffers.put(w.role(), buf);
        }
        if (w.transform().kind() == Weight.Transform.Kind.PER_HEAD_QKV) {
            Weight.Part p = w.parts().get(0);
            checkpoint.require(p.name(), p.shape());
            INDArray raw = buffers.computeIfAbsent(w.role() + "#stored", r -> allocate(shape));
            if (!Arrays.equals(raw.shape(), shape)) buffers.put(w.role() + "#stored", raw = allocate(shape));
            checkpoint.loadInto(p.name(), raw);
            loaded(p.name(), raw.length());
            regroupPerHead(raw, buf, w.transform().heads(), w.transform().headDim());
            return buf;
        }
        if (w.parts().size() == 1) {
            Weight.Part p = w.parts().get(0);
            checkpoint.require(p.name(), p.shape());
            checkpoint.loadInto(p.name(), buf);
            loaded(p.name(), buf.length());
            if (w.transform().kind() == Weight.Transform.Kind.PLUS_ONE) buf.addi(1f); // float32 1 + w, as Gemma's norms
            return buf;
        }
        long offset = 0;
        for (Weight.Part p : w.parts()) {
            checkpoint.require(p.name(), p.shape());
            long n = p.numel();
            checkpoint.loadInto(p.name(), Scratch.view(buf.data(), buf.offset() + offset, n));
            loaded(p.name(), n);
            offset += n;
        }
        return buf;
    }

    /**
     * GPT-NeoX's fused rows [heads, 3, d, cols] (q, k, v of each head in turn) into [3, heads, d, cols]: all q rows,
     * then all k, then all v, the layout of a stacked q/k/v weight (cols = 1 for the bias).
     */
    static void regroupPerHead(INDArray from, INDArray to, int heads, int d) {
        long cols = from.length() / (3L * heads * d);
        java.nio.FloatBuffer src = Ops.floats(from), dst = Ops.floats(to);
        long run = d * cols;
        float[] tmp = new float[(int) run];
        for (int h = 0; h < heads; h++) {
            for (int part = 0; part < 3; part++) {
                src.get((int) ((h * 3L + part) * run), tmp);
                dst.put((int) ((part * (long) heads + h) * run), tmp);
            }
        }
    }

    private void loaded(String name, long elements) {
        if (listener != null) listener.loaded(name, elements);
    }

    /** A new buffer, never inside a workspace (experts are loaded while a block's scratch workspace is open). */
    private static INDArray allocate(long[] shape) {
        try (MemoryWorkspace ignored = Nd4j.getWorkspaceManager().scopeOutOfWorkspaces()) {
            return Nd4j.create(DataType.FLOAT, shape, 'c');
        }
    }

    /** Bytes currently held by the reused buffers. */
    public long residentBytes() {
        return buffers.values().stream().mapToLong(b -> b.length() * 4).sum();
    }
}
