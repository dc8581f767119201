package org.depthlens.weights;

import java.nio.file.Path;
import java.util.Arrays;

/**
 * One tensor's header entry: dtype, shape and its byte range inside the file's data buffer
 * ({@code begin}/{@code end} relative to the buffer, end exclusive), plus the file's absolute
 * offset of that buffer so a reader can seek directly. For a PyTorch .bin tensor the buffer is its
 * storage and the range is the span its view touches (views may share a storage, and a strided
 * view's span holds more than its elements).
 */
public record TensorInfo(String name, DType dtype, long[] shape, long begin, long end, Path file, long dataStart) {

    public long numel() {
        long n = 1;
        for (long s : shape) n *= s;
        return n;
    }

    public int rank() {
        return shape.length;
    }

    public long byteLength() {
        return end - begin;
    }

    /** Absolute file offset of the first byte. */
    public long fileOffset() {
        return dataStart + begin;
    }

    public String shapeString() {
        return Arrays.toString(shape);
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof TensorInfo t && t.name.equals(name) && t.dtype == dtype && Arrays.equals(t.shape, shape)
                && t.begin == begin && t.end == end && t.file.equals(file);
    }

    @Override
    public int hashCode() {
        return name.hashCode() * 31 + Arrays.hashCode(shape);
    }

    @Override
    public String toString() {
        return name + " " + dtype + shapeString() + " in " + file.getFileName();
    }
}
