package org.depthlens.weights;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.memory.MemoryWorkspace;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.lang.ref.Reference;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.DoubleBuffer;
import java.nio.FloatBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.function.Supplier;

/**
 * Writes safetensors files that {@link SafetensorsFile} (and the reference reader) accept.
 *
 * <ul>
 *   <li>The header is compact JSON, {@code __metadata__} first when given, then the tensors
 *       ordered by name, padded with spaces so that {@code 8 + N} is a multiple of 8.</li>
 *   <li>{@link #write} stores the data in name order too. {@link #open} streams the data in the
 *       order the caller declares (the header is still sorted by name), for producers that compute
 *       tensors in their own order, e.g. layer by layer.</li>
 *   <li>Everything goes to a hidden temporary sibling ({@code .NAME.*.partial}, which no reader
 *       lists), is forced to disk and then atomically renamed: after a failure nothing is left
 *       (an existing file of that name is untouched).</li>
 *   <li>Data is produced at write time by each tensor's {@link Content}, one tensor at a time, so
 *       {@link Tensor#lazy} and {@link Tensor#streamed} tensors can write checkpoints far larger than
 *       memory.</li>
 * </ul>
 *
 * <p>Errors: {@link UncheckedIOException} (naming the file) when the file cannot be written,
 * {@link IllegalArgumentException} / {@link IllegalStateException} for misuse (bad names or
 * shapes, content of the wrong size). Note: ordering by name can leave a 4-byte tensor at an
 * offset that is not a multiple of 4 when 1- or 2-byte tensors with odd sizes precede it; readers
 * here handle that, and the reference reader does not require alignment.
 */
public final class SafetensorsWriter {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final int STAGE_BYTES = 1 << 20;

    private SafetensorsWriter() {}

    /** Produces one tensor's data at write time: push exactly numel elements (or byteLength bytes) into the sink. */
    @FunctionalInterface
    public interface Content {
        void writeTo(Sink sink) throws IOException;
    }

    /**
     * A tensor to write: dtype, shape and its content. Build one from data with {@link #f32},
     * {@link #of(DType, long[], float[])}, {@link #of(INDArray)}, {@link #i64}, {@link #raw}, or
     * defer the data with {@link #lazy} / {@link #streamed}.
     */
    public record Tensor(DType dtype, long[] shape, Content content) {
        public Tensor {
            if (dtype == null || shape == null || content == null) throw new IllegalArgumentException("dtype, shape and content are required");
            shape = shape.clone();
            SafetensorsWriter.byteLength(dtype, shape);
        }

        @Override
        public long[] shape() {
            return shape.clone();
        }

        public long numel() {
            return SafetensorsWriter.numel(shape);
        }

        public long byteLength() {
            return SafetensorsWriter.byteLength(dtype, shape);
        }

        /** Float32 values in c order. */
        public static Tensor f32(long[] shape, float[] data) {
            return of(DType.F32, shape, data);
        }

        /** Float values stored as F32, BF16 (rounded to nearest even, NaN as 0x7FC0 like torch) or F64 (exact). */
        public static Tensor of(DType dtype, long[] shape, float[] data) {
            requireFloatTarget(dtype);
            checkCount(shape, data.length);
            float[] copy = data.clone();
            return new Tensor(dtype, shape, sink -> sink.floats(copy));
        }

        /** A float32 array (any shape, view or not) as F32. The data is read at write time, so do not modify it before. */
        public static Tensor of(INDArray a) {
            return of(DType.F32, a);
        }

        /** A floating-point array as F32, BF16 or F64; read at write time. */
        public static Tensor of(DType dtype, INDArray a) {
            requireFloatTarget(dtype);
            if (!a.dataType().isFPType()) throw new IllegalArgumentException("array of " + a.dataType() + " is not floating point");
            return new Tensor(dtype, a.shape(), sink -> sink.array(a));
        }

        /** Int64 values in c order. */
        public static Tensor i64(long[] shape, long[] data) {
            return of(DType.I64, shape, data);
        }

        /** Integer values as any integer dtype (BOOL, U8..U64, I8..I64); out-of-range values are refused. */
        public static Tensor of(DType dtype, long[] shape, long[] data) {
            if (dtype.isFloat()) throw new IllegalArgumentException(dtype + " is not an integer type");
            checkCount(shape, data.length);
            long[] copy = data.clone();
            return new Tensor(dtype, shape, sink -> sink.longs(copy));
        }

        /** Raw little-endian element bytes of any dtype (e.g. hand-made F16 or FP8 bit patterns). */
        public static Tensor raw(DType dtype, long[] shape, byte[] littleEndian) {
            if (SafetensorsWriter.byteLength(dtype, shape) != littleEndian.length) {
                throw new IllegalArgumentException(littleEndian.length + " bytes for " + dtype + Arrays.toString(shape) + ", which needs "
                        + SafetensorsWriter.byteLength(dtype, shape));
            }
            byte[] copy = littleEndian.clone();
            return new Tensor(dtype, shape, sink -> sink.bytes(copy, 0, copy.length));
        }

        /**
         * A tensor whose data is made only when it is written: {@code supplier} is called once, at
         * that moment, and must return a tensor of this dtype and shape. Writing many lazy tensors
         * holds one at a time in memory.
         */
        public static Tensor lazy(DType dtype, long[] shape, Supplier<Tensor> supplier) {
            long[] expected = shape.clone();
            return new Tensor(dtype, shape, sink -> {
                Tensor t = supplier.get();
                if (t == null || t.dtype != dtype || !Arrays.equals(t.shape, expected)) {
                    throw new IllegalStateException("lazy tensor " + Msg.q(sink.name()) + " declared " + dtype + Arrays.toString(expected)
                            + " but its supplier made " + (t == null ? "null" : t.dtype + Arrays.toString(t.shape)));
                }
                t.content.writeTo(sink);
            });
        }

        /** A tensor whose content pushes its data in chunks of any size, e.g. for one tensor larger than memory. */
        public static Tensor streamed(DType dtype, long[] shape, Content content) {
            return new Tensor(dtype, shape, content);
        }
    }

    /** One tensor of a {@link Stream}'s layout. */
    public record Spec(String name, DType dtype, long[] shape) {
        public Spec {
            if (name == null || dtype == null || shape == null) throw new IllegalArgumentException("name, dtype and shape are required");
            shape = shape.clone();
            SafetensorsWriter.byteLength(dtype, shape);
        }

        @Override
        public long[] shape() {
            return shape.clone();
        }

        public long byteLength() {
            return SafetensorsWriter.byteLength(dtype, shape);
        }
    }

    /**
     * Writes {@code tensors} (data in name order) and optional string {@code metadata} to
     * {@code file}, atomically.
     */
    public static void write(Path file, Map<String, Tensor> tensors, Map<String, String> metadata) {
        TreeMap<String, Tensor> sorted = new TreeMap<>(tensors);
        List<Spec> layout = new ArrayList<>(sorted.size());
        for (Map.Entry<String, Tensor> e : sorted.entrySet()) {
            if (e.getValue() == null) throw new IllegalArgumentException("tensor " + Msg.q(e.getKey()) + " is null");
            layout.add(new Spec(e.getKey(), e.getValue().dtype(), e.getValue().shape));
        }
        try (Stream s = open(file, layout, metadata)) {
            for (Map.Entry<String, Tensor> e : sorted.entrySet()) {
                Sink sink = s.next(e.getKey());
                try {
                    e.getValue().content().writeTo(sink);
                } catch (IOException ex) {
                    throw new UncheckedIOException(Msg.f(file) + ": writing tensor " + Msg.q(e.getKey()) + " failed ("
                            + Msg.clean(ex.getMessage()) + ")", ex);
                }
            }
            s.commit();
        }
    }

    /**
     * Writes {@code tensors} as HF-style shards {@code model-0000i-of-0000N.safetensors} of at most
     * {@code maxShardBytes} of data each (a larger tensor gets a shard of its own), packed in name
     * order, plus {@code model.safetensors.index.json} (written last). Each file is atomic; if any
     * fails, the shards already written by this call are deleted.
     *
     * @return the shard files, in order
     */
    public static List<Path> writeSharded(Path dir, Map<String, Tensor> tensors, long maxShardBytes, Map<String, String> metadata) {
        if (maxShardBytes <= 0) throw new IllegalArgumentException("maxShardBytes must be positive");
        TreeMap<String, Tensor> sorted = new TreeMap<>(tensors);
        if (sorted.isEmpty()) throw new IllegalArgumentException("no tensors to write");
        List<Map<String, Tensor>> shards = new ArrayList<>();
        Map<String, Tensor> cur = new LinkedHashMap<>();
        long curBytes = 0;
        long total = 0;
        for (Map.Entry<String, Tensor> e : sorted.entrySet()) {
            long b = e.getValue().byteLength();
            if (!cur.isEmpty() && curBytes + b > maxShardBytes) {
                shards.add(cur);
                cur = new LinkedHashMap<>();
                curBytes = 0;
            }
            cur.put(e.getKey(), e.getValue());
            curBytes += b;
            total += b;
        }
        shards.add(cur);
        int n = shards.size();
        List<Path> written = new ArrayList<>();
        Map<String, String> weightMap = new TreeMap<>();
        boolean ok = false;
        try {
            for (int i = 0; i < n; i++) {
                String name = String.format("model-%05d-of-%05d.safetensors", i + 1, n);
                Path p = dir.resolve(name);
                write(p, shards.get(i), metadata);
                written.add(p);
                for (String t : shards.get(i).keySet()) weightMap.put(t, name);
            }
            Map<String, Object> index = new LinkedHashMap<>();
            index.put("metadata", Map.of("total_size", total));
            index.put("weight_map", weightMap);
            byte[] json;
            try {
                json = JSON.writerWithDefaultPrettyPrinter().writeValueAsBytes(index);
            } catch (JsonProcessingException e) {
                throw new IllegalStateException(e);
            }
            writeAtomically(dir.resolve(Checkpoint.INDEX), json);
            ok = true;
            return written;
        } finally {
            if (!ok) {
                for (Path p : written) {
                    try {
                        Files.deleteIfExists(p);
                    } catch (IOException ignored) {
                        // best effort
                    }
                }
            }
        }
    }

    /** Writes small bytes (an index, a config) to {@code file} through a temporary sibling and an atomic rename. */
    public static void writeAtomically(Path file, byte[] bytes) {
        Path tmp = tempSibling(file);
        boolean ok = false;
        try {
            try (FileChannel ch = FileChannel.open(tmp, StandardOpenOption.WRITE)) {
                ByteBuffer b = ByteBuffer.wrap(bytes);
                while (b.hasRemaining()) ch.write(b);
                ch.force(true);
            }
            moveAtomically(tmp, file);
            ok = true;
        } catch (IOException e) {
            throw new UncheckedIOException(Msg.f(file) + ": cannot write (" + Msg.clean(e.getMessage()) + ")", e);
        } finally {
            if (!ok) deleteQuietly(tmp);
        }
    }

    /**
     * Starts streaming a file whose tensors are {@code layout}, with the data in that order. Call
     * {@link Stream#next} for each tensor in order, fill its sink, then {@link Stream#commit};
     * closing without commit deletes the temporary file.
     */
    public static Stream open(Path file, List<Spec> layout, Map<String, String> metadata) {
        return new Stream(file, layout, metadata);
    }

    /** A file being written; see {@link #open}. Not thread-safe. */
    public static final class Stream implements AutoCloseable {
        private final Path file;
        private final List<Spec> layout;
        private final Path tmp;
        private FileChannel channel;
        private final ByteBuffer stage = ByteBuffer.allocateDirect(STAGE_BYTES).order(ByteOrder.LITTLE_ENDIAN);
        private int nextIndex;
        private Sink current;
        private boolean committed;
        private boolean failed;

        private Stream(Path file, List<Spec> layout, Map<String, String> metadata) {
            this.file = file;
            this.layout = List.copyOf(layout);
            byte[] header = header(this.layout, metadata);
            this.tmp = tempSibling(file);
            boolean ok = false;
            try {
                channel = FileChannel.open(tmp, StandardOpenOption.WRITE, StandardOpenOption.TRUNCATE_EXISTING);
                ByteBuffer lb = ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN).putLong(0, header.length);
                writeFully(lb);
                writeFully(ByteBuffer.wrap(header));
                ok = true;
            } catch (IOException e) {
                throw new UncheckedIOException(Msg.f(file) + ": cannot write (" + Msg.clean(e.getMessage()) + ")", e);
            } finally {
                if (!ok) abort();
            }
        }

        /** The layout, in data order. */
        public List<Spec> layout() {
            return layout;
        }

        /** The sink for the next tensor of the layout, which must be {@code name}. */
        public Sink next(String name) {
            checkOpen();
            finishCurrent();
            if (nextIndex >= layout.size()) {
                failed = true;
                throw new IllegalStateException(Msg.f(file) + ": no tensor left to write, got " + Msg.q(name));
            }
            Spec s = layout.get(nextIndex);
            if (!s.name().equals(name)) {
                failed = true;
                throw new IllegalStateException(Msg.f(file) + ": next tensor is " + Msg.q(s.name()) + ", got " + Msg.q(name));
            }
            nextIndex++;
            current = new Sink(this, s);
            return current;
        }

        /** Checks every tensor was written in full, forces the data to disk and renames the file into place. */
        public void commit() {
            checkOpen();
            finishCurrent();
            if (nextIndex != layout.size()) {
                failed = true;
                throw new IllegalStateException(Msg.f(file) + ": " + (layout.size() - nextIndex) + " tensors not written, next is "
                        + Msg.q(layout.get(nextIndex).name()));
            }
            try {
                flush();
                channel.force(true);
                channel.close();
                moveAtomically(tmp, file);
                committed = true;
            } catch (IOException e) {
                failed = true;
                throw new UncheckedIOException(Msg.f(file) + ": cannot write (" + Msg.clean(e.getMessage()) + ")", e);
            } finally {
                if (!committed) abort();
            }
        }

        /** Deletes the temporary file unless {@link #commit} succeeded. */
        @Override
        public void close() {
            if (!committed) abort();
        }

        private void checkOpen() {
            if (committed) throw new IllegalStateException(Msg.f(file) + ": already committed");
            if (failed || channel == null) throw new IllegalStateException(Msg.f(file) + ": writing already failed");
        }

        private void finishCurrent() {
            if (current != null && current.remaining != 0) {
                failed = true;
                throw new IllegalStateException(Msg.f(file) + ": tensor " + Msg.q(current.spec.name()) + " got "
                        + (current.spec.byteLength() - current.remaining) + " of its " + current.spec.byteLength() + " bytes");
            }
            current = null;
        }

        private void abort() {
            failed = true;
            if (channel != null) {
                try {
                    channel.close();
                } catch (IOException ignored) {
                    // deleting anyway
                }
                channel = null;
            }
            deleteQuietly(tmp);
        }

        /** Room in the stage for at least {@code bytes} (<= STAGE_BYTES). */
        private ByteBuffer stage(int bytes) throws IOException {
            if (stage.remaining() < bytes) flush();
            return stage;
        }

        private void flush() throws IOException {
            stage.flip();
            writeFully(stage);
            stage.clear();
        }

        private void writeFully(ByteBuffer b) throws IOException {
            while (b.hasRemaining()) channel.write(b);
        }
    }

    /**
     * Receives one tensor's data and encodes it to the tensor's dtype: floats for F32/BF16/F64,
     * longs for integer types, raw little-endian bytes for any type. Exactly the tensor's size must
     * arrive, in chunks of any size.
     */
    public static final class Sink {
        private final Stream stream;
        private final Spec spec;
        private long remaining;

        private Sink(Stream stream, Spec spec) {
            this.stream = stream;
            this.spec = spec;
            this.remaining = spec.byteLength();
        }

        public String name() {
            return spec.name();
        }

        public DType dtype() {
            return spec.dtype();
        }

        private void take(long bytes) {
            if (stream.current != this) throw new IllegalStateException("sink of tensor " + Msg.q(spec.name()) + " is closed");
            if (bytes > remaining) {
                stream.failed = true;
                throw new IllegalStateException(Msg.f(stream.file) + ": tensor " + Msg.q(spec.name()) + " got more than its "
                        + spec.byteLength() + " bytes");
            }
            remaining -= bytes;
        }

        public void floats(float[] a) throws IOException {
            floats(a, 0, a.length);
        }

        public void floats(float[] a, int off, int len) throws IOException {
            floats(FloatBuffer.wrap(a, off, len));
        }

        /** The buffer's remaining floats (its position advances). */
        public void floats(FloatBuffer b) throws IOException {
            DType d = spec.dtype();
            requireFloatTarget(d);
            int es = d.size();
            take((long) b.remaining() * es);
            try {
                while (b.hasRemaining()) {
                    ByteBuffer st = stream.stage(es);
                    int m = Math.min(b.remaining(), st.remaining() / es);
                    switch (d) {
                        case F32 -> {
                            for (int i = 0; i < m; i++) st.putFloat(b.get());
                        }
                        case BF16 -> {
                            for (int i = 0; i < m; i++) st.putShort(toBf16(b.get()));
                        }
                        case F64 -> {
                            for (int i = 0; i < m; i++) st.putDouble(b.get());
                        }
                        default -> throw new IllegalStateException(d.toString());
                    }
                }
            } catch (IOException | RuntimeException e) {
                stream.failed = true;
                throw e;
            }
        }

        /** All elements of a floating-point array in c order, whatever its strides; F64 from a DOUBLE array is exact. */
        public void array(INDArray a) throws IOException {
            DType d = spec.dtype();
            requireFloatTarget(d);
            if (!a.dataType().isFPType()) throw new IllegalArgumentException("array of " + a.dataType() + " is not floating point");
            if (a.length() * d.size() > remaining) take(a.length() * d.size()); // fails with the tensor's name
            try (MemoryWorkspace ignored = Nd4j.getWorkspaceManager().scopeOutOfWorkspaces()) {
                boolean dbl = d == DType.F64 && a.dataType() == DataType.DOUBLE;
                DataType want = dbl ? DataType.DOUBLE : DataType.FLOAT;
                INDArray src = a;
                if (src.dataType() != want) src = src.castTo(want);
                if (!Checkpoint.isContiguousC(src)) src = src.dup('c');
                long n = src.length();
                if (n == 0) return;
                int srcSize = dbl ? 8 : 4;
                long address = NativeMemory.address(src);
                long stepElems = NativeMemory.MAX_WINDOW_BYTES / srcSize;
                boolean raw = d == DType.F32 && ByteOrder.nativeOrder() == ByteOrder.LITTLE_ENDIAN;
                for (long done = 0; done < n; done += stepElems) {
                    long m = Math.min(stepElems, n - done);
                    ByteBuffer w = NativeMemory.window(address + done * srcSize, m * srcSize);
                    if (raw) {
                        take(m * 4);
                        stream.flush();
                        stream.writeFully(w);
                    } else if (dbl) {
                        DoubleBuffer db = w.asDoubleBuffer();
                        take(m * 8);
                        while (db.hasRemaining()) {
                            ByteBuffer st = stream.stage(8);
                            int k = Math.min(db.remaining(), st.remaining() / 8);
                            for (int i = 0; i < k; i++) st.putDouble(db.get());
                        }
                    } else {
                        floats(w.asFloatBuffer());
                    }
                }
                Reference.reachabilityFence(src);
            } catch (IOException | RuntimeException e) {
                stream.failed = true;
                throw e;
            } finally {
                Reference.reachabilityFence(a);
            }
        }

        public void longs(long[] a) throws IOException {
            longs(a, 0, a.length);
        }

        /** Integer values for an integer dtype; each must fit the dtype (BOOL: 0 or 1). */
        public void longs(long[] a, int off, int len) throws IOException {
            DType d = spec.dtype();
            if (d.isFloat()) throw new IllegalArgumentException("tensor " + Msg.q(spec.name()) + " is " + d + ", not an integer type");
            for (int i = off; i < off + len; i++) checkFits(d, a[i]);
            int es = d.size();
            take((long) len * es);
            try {
                for (int i = off; i < off + len; i++) {
                    ByteBuffer st = stream.stage(es);
                    long v = a[i];
                    switch (es) {
                        case 8 -> st.putLong(v);
                        case 4 -> st.putInt((int) v);
                        case 2 -> st.putShort((short) v);
                        default -> st.put((byte) v);
                    }
                }
            } catch (IOException | RuntimeException e) {
                stream.failed = true;
                throw e;
            }
        }

        private void checkFits(DType d, long v) {
            long lo;
            long hi;
            switch (d) {
                case BOOL -> { lo = 0; hi = 1; }
                case U8 -> { lo = 0; hi = 0xFF; }
                case I8 -> { lo = Byte.MIN_VALUE; hi = Byte.MAX_VALUE; }
                case U16 -> { lo = 0; hi = 0xFFFF; }
                case I16 -> { lo = Short.MIN_VALUE; hi = Short.MAX_VALUE; }
                case U32 -> { lo = 0; hi = 0xFFFFFFFFL; }
                case I32 -> { lo = Integer.MIN_VALUE; hi = Integer.MAX_VALUE; }
                default -> { return; } // I64; U64 takes the bits as they are
            }
            if (v < lo || v > hi) {
                stream.failed = true;
                throw new IllegalArgumentException("tensor " + Msg.q(spec.name()) + ": value " + v + " does not fit " + d);
            }
        }

        /** Raw little-endian bytes of the tensor's dtype. */
        public void bytes(byte[] a, int off, int len) throws IOException {
            take(len);
            try {
                int done = 0;
                while (done < len) {
                    ByteBuffer st = stream.stage(1);
                    int m = Math.min(len - done, st.remaining());
                    st.put(a, off + done, m);
                    done += m;
                }
            } catch (IOException | RuntimeException e) {
                stream.failed = true;
                throw e;
            }
        }
    }

    /** Round-to-nearest-even float32 to bfloat16, NaN to 0x7FC0 (torch's conversion). */
    public static short toBf16(float f) {
        if (Float.isNaN(f)) return (short) 0x7FC0;
        int bits = Float.floatToRawIntBits(f);
        int rounding = 0x7FFF + ((bits >>> 16) & 1);
        return (short) ((bits + rounding) >>> 16);
    }

    /** The header JSON (with __metadata__ first, tensors by name), padded with spaces so 8 + N is a multiple of 8. */
    static byte[] header(List<Spec> layout, Map<String, String> metadata) {
        Set<String> names = new HashSet<>();
        TreeMap<String, Object> entries = new TreeMap<>();
        long offset = 0;
        for (Spec s : layout) {
            if (s.name().equals("__metadata__")) throw new IllegalArgumentException("a tensor cannot be named __metadata__");
            if (!names.add(s.name())) throw new IllegalArgumentException("duplicate tensor " + Msg.q(s.name()));
            long end = Math.addExact(offset, s.byteLength());
            Map<String, Object> e = new LinkedHashMap<>();
            e.put("dtype", s.dtype().name());
            e.put("shape", s.shape);
            e.put("data_offsets", new long[] {offset, end});
            entries.put(s.name(), e);
            offset = end;
        }
        Map<String, Object> root = new LinkedHashMap<>();
        if (metadata != null && !metadata.isEmpty()) {
            for (Map.Entry<String, String> m : metadata.entrySet()) {
                if (m.getKey() == null || m.getValue() == null) throw new IllegalArgumentException("metadata keys and values must not be null");
            }
            root.put("__metadata__", new TreeMap<>(metadata));
        }
        root.putAll(entries);
        byte[] json;
        try {
            json = JSON.writeValueAsString(root).getBytes(StandardCharsets.UTF_8);
        } catch (JsonProcessingException e) {
            throw new IllegalStateException(e);
        }
        int padded = (int) (((8L + json.length + 7) / 8) * 8 - 8);
        if (padded > SafetensorsFile.MAX_HEADER_BYTES) throw new IllegalArgumentException("header of " + padded + " bytes exceeds 100 MB");
        byte[] out = Arrays.copyOf(json, padded);
        Arrays.fill(out, json.length, padded, (byte) ' ');
        return out;
    }

    static long numel(long[] shape) {
        long n = 1;
        for (long d : shape) n = Math.multiplyExact(n, d);
        return n;
    }

    static long byteLength(DType dtype, long[] shape) {
        for (long d : shape) {
            if (d < 0) throw new IllegalArgumentException("negative dimension in shape " + Arrays.toString(shape));
        }
        try {
            return Math.multiplyExact(numel(shape), dtype.size());
        } catch (ArithmeticException e) {
            throw new IllegalArgumentException("shape " + Arrays.toString(shape) + " overflows");
        }
    }

    private static void checkCount(long[] shape, long n) {
        long want = numel(shape);
        if (want != n) throw new IllegalArgumentException(n + " values for shape " + Arrays.toString(shape) + ", which has " + want);
    }

    private static void requireFloatTarget(DType d) {
        if (d != DType.F32 && d != DType.BF16 && d != DType.F64) {
            throw new IllegalArgumentException("floats can be written as F32, BF16 or F64, not " + d + " (use raw bytes)");
        }
    }

    private static Path tempSibling(Path file) {
        Path dir = file.toAbsolutePath().getParent();
        try {
            Path tmp = Files.createTempFile(dir, "." + file.getFileName() + ".", ".partial");
            org.depthlens.util.AtomicDir.publicReadable(tmp, "rw-r--r--");
            return tmp;
        } catch (IOException e) {
            throw new UncheckedIOException(Msg.f(file) + ": cannot create a file in " + Msg.f(dir) + " (" + Msg.clean(e.getMessage()) + ")", e);
        }
    }

    private static void moveAtomically(Path tmp, Path file) throws IOException {
        try {
            Files.move(tmp, file, StandardCopyOption.ATOMIC_MOVE);
        } catch (AtomicMoveNotSupportedException e) {
            Files.move(tmp, file, StandardCopyOption.REPLACE_EXISTING);
        }
    }

    private static void deleteQuietly(Path p) {
        try {
            Files.deleteIfExists(p);
        } catch (IOException ignored) {
            // best effort
        }
    }
}
