package org.depthlens.model;

import org.depthlens.weights.Checkpoint;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.memory.MemoryWorkspace;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

import java.util.Arrays;
import java.util.HashMap;
import java.util.Map;

/**
 * Float32 buffers for one block's weights, reused from block to block: a role ("attn.q", "mlp.up",
 * "expert.gate"...) keeps its buffer while the shape stays the same, so streaming through L blocks
 * allocates one block's worth of memory, not L. Counts loads so tests can check each weight is
 * read once per pass.
 */
public final class WeightPool {
    private final Checkpoint checkpoint;
    private final Map<String, INDArray> buffers = new HashMap<>();
    private long loads;
    private long bytesLoaded;

    public WeightPool(Checkpoint checkpoint) {
        this.checkpoint = checkpoint;
    }

    public Checkpoint checkpoint() {
        return checkpoint;
    }

    /** Loads tensor {@code name} into the buffer of {@code role}, checking it has {@code shape}. */
    public INDArray load(String role, String name, long... shape) {
        checkpoint.require(name, shape);
        INDArray buf = buffers.get(role);
        if (buf == null || !Arrays.equals(buf.shape(), shape)) {
            // experts load lazily inside a block's scratch workspace: buffers that outlive it must be outside
            try (MemoryWorkspace outside = Nd4j.getWorkspaceManager().scopeOutOfWorkspaces()) {
                buf = Nd4j.create(DataType.FLOAT, shape, 'c');
            }
            buffers.put(role, buf);
        }
        checkpoint.loadInto(name, buf);
        loads++;
        bytesLoaded += buf.length() * 4;
        return buf;
    }

    /** Loads {@code name} if the checkpoint has it, else returns null. */
    public INDArray loadOptional(String role, String name, long... shape) {
        return checkpoint.has(name) ? load(role, name, shape) : null;
    }

    public long loads() {
        return loads;
    }

    public long bytesLoaded() {
        return bytesLoaded;
    }

    /** Bytes currently held by the reused buffers. */
    public long residentBytes() {
        return buffers.values().stream().mapToLong(b -> b.length() * 4).sum();
    }

    /** Drops the buffers (the next load allocates again). */
    public void clear() {
        buffers.clear();
    }
}
