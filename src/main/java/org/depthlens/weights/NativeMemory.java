package org.depthlens.weights;

import org.bytedeco.javacpp.BytePointer;
import org.bytedeco.javacpp.FloatPointer;
import org.bytedeco.javacpp.Pointer;
import org.bytedeco.javacpp.ShortPointer;
import org.bytedeco.javacpp.indexer.Bfloat16Indexer;
import org.bytedeco.javacpp.indexer.FloatIndexer;
import org.nd4j.linalg.api.buffer.DataBuffer;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.memory.MemoryWorkspace;
import org.nd4j.linalg.api.memory.pointers.PagedPointer;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;

/**
 * Raw access to the native memory behind float32 INDArrays, in windows of at most
 * {@link #MAX_WINDOW_BYTES} (a Java buffer is int-indexed, so one FloatBuffer cannot cover an
 * array of 2^29 floats or more). Callers must keep the owning INDArray strongly reachable
 * ({@code Reference.reachabilityFence}) for as long as a window is used: ND4J frees an array's
 * memory when the array is garbage collected, even while a raw window still points into it.
 */
final class NativeMemory {
    /** 1 GiB: well inside a ByteBuffer's int capacity. */
    static final long MAX_WINDOW_BYTES = 1L << 30;

    private NativeMemory() {}

    /** Address of element 0 of a float32 array (its view offset included). */
    static long address(INDArray a) {
        Pointer p = a.data().addressPointer();
        // addressPointer() of a view buffer already points at the view's first element; the
        // array's own offset() is relative to the same buffer start as data().offset().
        long extra = a.offset() - a.data().offset();
        return p.address() + p.position() * (long) p.sizeof() + extra * a.data().getElementSize();
    }

    /** A native-order ByteBuffer over {@code bytes} bytes at {@code address}. */
    static ByteBuffer window(long address, long bytes) {
        if (bytes < 0 || bytes > MAX_WINDOW_BYTES) throw new IllegalArgumentException("window of " + bytes + " bytes");
        BytePointer p = new PagedPointer(address).asBytePointer();
        p.capacity(bytes);
        p.limit(bytes);
        p.position(0);
        return p.asByteBuffer().order(ByteOrder.nativeOrder());
    }

    /**
     * Converts {@code n} bfloat16 values at {@code src} (a direct buffer, e.g. a live mapping) into
     * float32 at {@code dstAddress}, with ND4J's vectorised, multi-threaded cast. Both memories
     * must stay valid until this returns (the op is synchronous on the CPU backend).
     */
    static void bf16ToF32(ByteBuffer src, long n, long dstAddress) {
        try (MemoryWorkspace ignored = Nd4j.getWorkspaceManager().scopeOutOfWorkspaces()) {
            ShortPointer sp = new ShortPointer(src.duplicate().order(ByteOrder.LITTLE_ENDIAN).asShortBuffer());
            sp.capacity(n);
            sp.limit(n);
            DataBuffer sb = Nd4j.createBuffer(sp, DataType.BFLOAT16, n, Bfloat16Indexer.create(sp));
            INDArray from = Nd4j.create(sb, new long[] {n});
            FloatPointer fp = new PagedPointer(dstAddress).asFloatPointer();
            fp.capacity(n);
            fp.limit(n);
            DataBuffer db = Nd4j.createBuffer(fp, DataType.FLOAT, n, FloatIndexer.create(fp));
            INDArray to = Nd4j.create(db, new long[] {n});
            to.assign(from);
        } finally {
            java.lang.ref.Reference.reachabilityFence(src);
        }
    }
}
