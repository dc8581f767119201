package org.depthlens.model;

import org.nd4j.linalg.api.buffer.DataBuffer;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.memory.MemoryWorkspace;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

import java.util.ArrayDeque;
import java.util.Arrays;
import java.util.HashMap;
import java.util.Map;

/**
 * Reused native float32 memory for the forward pass, one set per thread: the temporaries of a block
 * (normed input, projections, attention scores, MLP activations) and the stream states themselves.
 * Block after block the same memory is used again, so nothing is page-faulted in or left for the GC,
 * and the ND4J kernels write into existing arrays (gemm into preallocated memory runs at the FMA peak,
 * see nd4j-notes.md).
 *
 * <p>{@link #get} hands out a c-order array of exactly the asked shape over the role's buffer, which
 * only ever grows: the array is valid until the next {@code get} of the same role. Stream states come
 * from {@link #state} and go back with {@link #recycle} once no one holds them.
 */
public final class Scratch {
    private static final ThreadLocal<Scratch> CURRENT = ThreadLocal.withInitial(Scratch::new);
    /** Free states kept for reuse; more are released. */
    private static final int MAX_FREE_STATES = 8;

    private final Map<String, DataBuffer> buffers = new HashMap<>();
    private final Map<Long, ArrayDeque<INDArray>> freeStates = new HashMap<>();
    private int freeCount;

    private Scratch() {}

    /** The calling thread's scratch. */
    public static Scratch get() {
        return CURRENT.get();
    }

    /** A c-order float32 array of {@code shape} over the memory of {@code role} (contents undefined). */
    public INDArray get(String role, long... shape) {
        long n = 1;
        for (long d : shape) n *= d;
        DataBuffer b = buffers.get(role);
        if (b == null || b.length() < n) {
            if (b != null) b.close();
            try (MemoryWorkspace ignored = Nd4j.getWorkspaceManager().scopeOutOfWorkspaces()) {
                b = Nd4j.createBuffer(DataType.FLOAT, Math.max(n, 1), false);
            }
            buffers.put(role, b);
        }
        return view(b, 0, shape);
    }

    /** A c-order array of {@code shape} over {@code buffer} starting at element {@code offset} (no copy). */
    public static INDArray view(DataBuffer buffer, long offset, long... shape) {
        long[] stride = new long[shape.length];
        long s = 1;
        for (int i = shape.length - 1; i >= 0; i--) {
            stride[i] = s;
            s *= shape[i];
        }
        try (MemoryWorkspace ignored = Nd4j.getWorkspaceManager().scopeOutOfWorkspaces()) {
            return Nd4j.create(buffer, shape.clone(), stride, offset, 'c');
        }
    }

    /** Rows {@code [from, from + rows)} of a c-order 2-D array, as an array over the same memory. */
    public static INDArray rows(INDArray a, long from, long rows) {
        long cols = a.columns();
        return view(a.data(), a.offset() + from * cols, rows, cols);
    }

    /** A [rows, cols] state array (contents undefined), recycled when possible; never a view of scratch memory. */
    public INDArray state(long rows, long cols) {
        ArrayDeque<INDArray> q = freeStates.get(rows * cols);
        while (q != null && !q.isEmpty()) {
            INDArray a = q.poll();
            freeCount--;
            if (!a.wasClosed()) return a.rank() == 2 && a.rows() == rows ? a : a.reshape('c', rows, cols);
        }
        try (MemoryWorkspace ignored = Nd4j.getWorkspaceManager().scopeOutOfWorkspaces()) {
            return Nd4j.createUninitialized(DataType.FLOAT, rows, cols);
        }
    }

    /** Gives back a state from {@link #state} (or any standalone float array) that nothing references any more. */
    public void recycle(INDArray a) {
        if (a == null || a.wasClosed() || a.isView() || a.dataType() != DataType.FLOAT || a.data().length() != a.length()) return;
        if (freeCount >= MAX_FREE_STATES) {
            if (a.closeable()) a.close();
            return;
        }
        freeStates.computeIfAbsent(a.length(), k -> new ArrayDeque<>()).add(a);
        freeCount++;
    }

    /** Bytes of scratch memory held (not counting free states). */
    public long bytes() {
        return buffers.values().stream().mapToLong(b -> b.length() * 4L).sum();
    }

    /** Frees everything (the next use allocates again). */
    public void clear() {
        buffers.values().forEach(DataBuffer::close);
        buffers.clear();
        freeStates.values().forEach(q -> q.forEach(a -> {
            if (a.closeable()) a.close();
        }));
        freeStates.clear();
        freeCount = 0;
    }

    @Override
    public String toString() {
        return "Scratch" + Arrays.toString(buffers.keySet().toArray());
    }
}
