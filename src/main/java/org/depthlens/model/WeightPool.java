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
    private final Map<String, Integer> loadsByName = new HashMap<>();
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
            buf = allocate(shape);
            buffers.put(role, buf);
        }
        checkpoint.loadInto(name, buf);
        counted(name, buf.length());
        return buf;
    }

    /** Loads a 0-dim (or one-element) tensor into a [1] buffer of {@code role}: e.g. a learned residual scalar. */
    public INDArray loadScalar(String role, String name) {
        var t = checkpoint.require(name);
        if (t.numel() != 1 || t.rank() > 1) {
            throw new org.depthlens.BadInputException(t.file() + ": tensor '" + name + "' has shape "
                    + t.shapeString() + " but the block form reads a scalar (shape [])");
        }
        INDArray buf = buffers.computeIfAbsent(role, k -> allocate(new long[] {1}));
        checkpoint.loadInto(name, buf);
        counted(name, 1);
        return buf;
    }

    /**
     * Loads tensors {@code names} one after another into one buffer of {@code role}, concatenated along
     * their first dimension (each must have the shape in {@code shapes}, all alike after the first
     * dimension): e.g. q, k and v projections as one [q+k+v, hidden] matrix, so that one gemm computes all three.
     */
    public INDArray loadStacked(String role, String[] names, long[][] shapes) {
        long first = 0;
        long[] rest = Arrays.copyOfRange(shapes[0], 1, shapes[0].length);
        for (int i = 0; i < names.length; i++) {
            checkpoint.require(names[i], shapes[i]);
            if (!Arrays.equals(rest, Arrays.copyOfRange(shapes[i], 1, shapes[i].length))) {
                throw new IllegalArgumentException("cannot stack " + Arrays.toString(shapes[i]) + " under " + Arrays.toString(shapes[0]));
            }
            first += shapes[i][0];
        }
        long[] shape = new long[shapes[0].length];
        shape[0] = first;
        System.arraycopy(rest, 0, shape, 1, rest.length);
        INDArray buf = buffers.get(role);
        if (buf == null || !Arrays.equals(buf.shape(), shape)) {
            buf = allocate(shape);
            buffers.put(role, buf);
        }
        long per = 1;
        for (long d : rest) per *= d;
        long offset = 0;
        for (int i = 0; i < names.length; i++) {
            long n = shapes[i][0] * per;
            checkpoint.loadInto(names[i], Scratch.view(buf.data(), buf.offset() + offset, n));
            counted(names[i], n);
            offset += n;
        }
        return buf;
    }

    private void counted(String name, long elements) {
        loads++;
        bytesLoaded += elements * 4;
        loadsByName.merge(name, 1, Integer::sum);
    }

    /** How many times each tensor was loaded through this pool. */
    public Map<String, Integer> loadsByName() {
        return java.util.Collections.unmodifiableMap(loadsByName);
    }

    /** A new buffer, never inside a workspace (experts are loaded while a block's scratch workspace is open). */
    private static INDArray allocate(long[] shape) {
        try (MemoryWorkspace ignored = Nd4j.getWorkspaceManager().scopeOutOfWorkspaces()) {
            return Nd4j.create(DataType.FLOAT, shape, 'c');
        }
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
