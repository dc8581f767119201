package org.depthlens.weights;

import java.io.IOException;
import java.lang.ref.Reference;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.FloatBuffer;
import java.nio.MappedByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Path;
import java.util.Map;

/**
 * One weights file of a checkpoint, a safetensors file or a PyTorch {@code .bin}: its tensors and
 * their float32 decoding. Both formats read through short-lived mappings of at most
 * {@link #MAX_MAP_BYTES}, unmapped right after the conversion, so a block's weights cost resident
 * memory only while they are converted.
 */
public abstract sealed class WeightsFile implements AutoCloseable permits SafetensorsFile, TorchFile {
    /** Java 17 cannot map 2 GiB at once; 1 GiB windows keep every Java buffer int-indexed. */
    static final long MAX_MAP_BYTES = 1L << 30;
    /** Elements converted per step into native memory: a 1 GiB float32 window at most. */
    static final long MAX_STEP_ELEMS = NativeMemory.MAX_WINDOW_BYTES / 4;

    /**
     * Decode BF16 for {@link Checkpoint#loadInto} with ND4J's zero-copy view + assign (about 4x the
     * Java loop). The Java loop stays the reference, and tests compare the two bit for bit.
     * Turn off with {@code -Ddepthlens.weights.bf16FastPath=false}.
     */
    static volatile boolean bf16FastPath = !"false".equalsIgnoreCase(System.getProperty("depthlens.weights.bf16FastPath"));

    final Path path;
    final FileChannel channel;
    final long fileSize;

    WeightsFile(Path path, FileChannel channel, long fileSize) {
        this.path = path;
        this.channel = channel;
        this.fileSize = fileSize;
    }

    public Path path() {
        return path;
    }

    public long fileSize() {
        return fileSize;
    }

    /** "safetensors" or "pytorch". */
    public abstract String format();

    /** Tensors in file order. */
    public abstract Map<String, TensorInfo> tensors();

    /**
     * The bytes that describe the file's tensors, for provenance hashes: a safetensors file's
     * 8-byte length and JSON header; a PyTorch file's data.pkl and zip central directory (every
     * entry's name, size and the CRC-32 torch computed over its bytes).
     */
    public abstract byte[] fingerprint();

    /**
     * Checks the file's weights against the checksums it stores, all of them now (reading does it lazily), and
     * returns the bytes checked; -1 when the format stores none (safetensors). {@code progress} counts bytes.
     *
     * @throws SafetensorsException naming the file and the first entry that does not match
     */
    public long verifyChecksums(org.depthlens.util.Progress progress) {
        return -1;
    }

    /**
     * Decodes elements {@code [from, from + count)} (c order) of a floating-point tensor into
     * {@code dst} (starting at its current position, which advances). FP8 is returned unscaled.
     * This is the plain Java decoder, the reference the faster paths are tested against.
     *
     * @throws SafetensorsException if the tensor is not a float type or the file cannot be read
     * @throws IllegalArgumentException if the range is outside the tensor or {@code dst} has too little room
     */
    public abstract void readF32(TensorInfo t, long from, long count, FloatBuffer dst);

    /**
     * Decodes elements {@code [from, from + count)} into native float32 memory at {@code address}
     * (which must hold {@code count} floats and stay allocated until this returns), in steps of at
     * most {@code maxStep} elements. FP8 is returned unscaled.
     */
    abstract void readF32ToAddress(TensorInfo t, long from, long count, long address, long maxStep);

    /**
     * The stored bytes of elements {@code [from, from + count)} (c order, little-endian, any dtype) into
     * {@code dst} from its position, which advances: a bit-exact copy, for exports that must not
     * re-round (a BF16 weight stays the same BF16 bits). A strided PyTorch view is gathered in c order.
     */
    public void readBytes(TensorInfo t, long from, long count, ByteBuffer dst) {
        if (!t.file().equals(path)) throw new IllegalArgumentException("tensor " + Msg.q(t.name()) + " is not in " + Msg.f(path));
        if (from < 0 || count < 0 || from > t.numel() - count) {
            throw new IllegalArgumentException("range [" + from + ", +" + count + ") outside tensor " + Msg.q(t.name()) + " of " + t.numel() + " elements");
        }
        long bytes = count * t.dtype().size();
        if (dst.remaining() < bytes) throw new IllegalArgumentException("destination has room for " + dst.remaining() + " bytes, reading " + bytes);
        readBytesChecked(t, from, count, dst);
    }

    abstract void readBytesChecked(TensorInfo t, long from, long count, ByteBuffer dst);

    /** Reads exactly {@code dst.remaining()} bytes at absolute {@code offset}. */
    void readAt(String tensor, long offset, ByteBuffer dst) {
        try {
            long pos = offset;
            while (dst.hasRemaining()) {
                int r = channel.read(dst, pos);
                if (r < 0) throw new SafetensorsException(Msg.f(path) + ": tensor " + Msg.q(tensor) + ": unexpected end of file");
                pos += r;
            }
        } catch (IOException e) {
            throw new SafetensorsException(Msg.f(path) + ": cannot read tensor " + Msg.q(tensor) + " (" + Msg.clean(e.getMessage()) + ")");
        }
    }

    /**
     * Reads a whole integer tensor (BOOL, U8..U64, I8..I64) as longs, e.g. token ids. U64 values
     * above Long.MAX_VALUE come back negative (two's complement), as Java has no unsigned long.
     */
    public abstract long[] readLongs(TensorInfo t);

    void checkRange(TensorInfo t, long from, long count) {
        if (!t.dtype().isFloat()) {
            throw new SafetensorsException(Msg.f(path) + ": tensor " + Msg.q(t.name()) + " has dtype " + t.dtype()
                    + ", expected a float type");
        }
        if (!t.file().equals(path)) throw new IllegalArgumentException("tensor " + Msg.q(t.name()) + " is not in " + Msg.f(path));
        if (from < 0 || count < 0 || from > t.numel() - count) {
            throw new IllegalArgumentException("range [" + from + ", +" + count + ") outside tensor " + Msg.q(t.name())
                    + " of " + t.numel() + " elements");
        }
    }

    void checkRoom(TensorInfo t, long count, FloatBuffer dst) {
        if (dst.remaining() < count) {
            throw new IllegalArgumentException("destination has room for " + dst.remaining() + " floats, reading " + count
                    + " of tensor " + Msg.q(t.name()));
        }
    }

    /** Maps {@code bytes} bytes at absolute file offset {@code offset} (at most {@link #MAX_MAP_BYTES}). */
    MappedByteBuffer map(String tensor, long offset, long bytes) {
        try {
            return channel.map(FileChannel.MapMode.READ_ONLY, offset, bytes);
        } catch (IOException | RuntimeException e) {
            throw new SafetensorsException(Msg.f(path) + ": cannot map tensor " + Msg.q(tensor) + " ("
                    + Msg.clean(e.getMessage()) + ")");
        }
    }

    /** {@code count} packed little-endian elements of {@code dtype} at absolute {@code offset}, decoded into {@code dst}. */
    void readPacked(String tensor, DType dtype, long offset, long count, FloatBuffer dst) {
        long es = dtype.size();
        long maxElems = MAX_MAP_BYTES / es;
        for (long done = 0; done < count; ) {
            long n = Math.min(maxElems, count - done);
            MappedByteBuffer mb = map(tensor, offset + done * es, n * es);
            try {
                decode(dtype, mb.order(ByteOrder.LITTLE_ENDIAN), (int) n, dst);
            } finally {
                Unmapper.unmap(mb);
            }
            done += n;
        }
    }

    /**
     * {@code count} packed little-endian elements of {@code dtype} at absolute {@code offset}, decoded
     * into native float32 memory at {@code address}; BF16 through ND4J's vectorised cast unless
     * {@link #bf16FastPath} is off.
     */
    void readPackedToAddress(String tensor, DType dtype, long offset, long count, long address, long maxStep) {
        int es = dtype.size();
        long step = Math.min(Math.min(maxStep, MAX_STEP_ELEMS), MAX_MAP_BYTES / es);
        for (long done = 0; done < count; ) {
            long n = Math.min(step, count - done);
            long dst = address + done * 4L;
            long srcOffset = offset + done * es;
            MappedByteBuffer mb = map(tensor, srcOffset, n * es);
            try {
                ByteBuffer src = mb.order(ByteOrder.LITTLE_ENDIAN);
                // ND4J reads shorts; only hand it 2-byte aligned data (writers that order tensors
                // by name can leave a BF16 tensor at an odd offset).
                if (dtype == DType.BF16 && bf16FastPath && (srcOffset & 1) == 0) {
                    NativeMemory.bf16ToF32(src, n, dst);
                } else {
                    FloatBuffer out = NativeMemory.window(dst, n * 4L).asFloatBuffer();
                    decode(dtype, src, (int) n, out);
                }
            } finally {
                Reference.reachabilityFence(mb);
                Unmapper.unmap(mb);
            }
            done += n;
        }
    }

    /** {@code n} packed little-endian elements of {@code dtype} from {@code src} (position 0) into {@code dst}. */
    static void decode(DType dtype, ByteBuffer src, int n, FloatBuffer dst) {
        switch (dtype) {
            case F32 -> {
                FloatBuffer fb = src.asFloatBuffer();
                fb.limit(n);
                dst.put(fb);
            }
            case BF16 -> {
                final int chunk = 8192;
                float[] tmp = new float[Math.min(chunk, n)];
                for (int i = 0; i < n; i += chunk) {
                    int m = Math.min(chunk, n - i);
                    for (int k = 0; k < m; k++) tmp[k] = Float.intBitsToFloat((src.getShort((i + k) << 1) & 0xFFFF) << 16);
                    dst.put(tmp, 0, m);
                }
            }
            case F16 -> {
                for (int i = 0; i < n; i++) dst.put(FloatDecoder.f16(src.getShort(i << 1)));
            }
            case F64 -> {
                for (int i = 0; i < n; i++) dst.put((float) src.getDouble(i << 3));
            }
            case F8_E4M3 -> {
                for (int i = 0; i < n; i++) dst.put(FloatDecoder.e4m3(src.get(i)));
            }
            case F8_E5M2 -> {
                for (int i = 0; i < n; i++) dst.put(FloatDecoder.e5m2(src.get(i)));
            }
            default -> throw new IllegalStateException(dtype.toString());
        }
    }

    /** One float element of {@code dtype} at byte {@code at} of {@code b} (little-endian). */
    static float floatAt(DType dtype, ByteBuffer b, int at) {
        return switch (dtype) {
            case F32 -> b.getFloat(at);
            case BF16 -> FloatDecoder.bf16(b.getShort(at));
            case F16 -> FloatDecoder.f16(b.getShort(at));
            case F64 -> (float) b.getDouble(at);
            case F8_E4M3 -> FloatDecoder.e4m3(b.get(at));
            case F8_E5M2 -> FloatDecoder.e5m2(b.get(at));
            default -> throw new IllegalStateException(dtype.toString());
        };
    }

    /** One integer element of {@code dtype} at byte {@code at} of {@code b} (little-endian). */
    static long longAt(DType dtype, ByteBuffer b, int at) {
        return switch (dtype) {
            case I64, U64 -> b.getLong(at);
            case I32 -> b.getInt(at);
            case U32 -> b.getInt(at) & 0xFFFFFFFFL;
            case I16 -> b.getShort(at);
            case U16 -> b.getShort(at) & 0xFFFF;
            case I8 -> b.get(at);
            case U8, BOOL -> b.get(at) & 0xFF;
            default -> throw new IllegalStateException(dtype.toString());
        };
    }

    static void readFully(FileChannel ch, ByteBuffer b, long pos, Path file) throws IOException {
        while (b.hasRemaining()) {
            int r = ch.read(b, pos + b.position());
            if (r < 0) throw new SafetensorsException(Msg.f(file) + ": unexpected end of file");
        }
    }

    /** Parses an open channel into a weights file. */
    @FunctionalInterface
    interface Parser<T extends WeightsFile> {
        T parse(Path file, FileChannel ch) throws IOException;
    }

    /**
     * Opens {@code file} and parses it, closing the channel when parsing fails; every problem is a
     * {@link SafetensorsException} naming the file (or the parser's own exception).
     */
    static <T extends WeightsFile> T open(Path file, Parser<T> parser) {
        FileChannel ch;
        if (java.nio.file.Files.exists(file) && !java.nio.file.Files.isRegularFile(file)) {
            // opening a FIFO would wait for a writer forever, a device never ends
            throw new SafetensorsException(Msg.f(file) + ": " + (java.nio.file.Files.isDirectory(file) ? "is a folder" : "not a regular file (a FIFO, device or socket)")
                    + ", not a weights file");
        }
        try {
            ch = FileChannel.open(file, java.nio.file.StandardOpenOption.READ);
        } catch (java.nio.file.NoSuchFileException e) {
            throw new SafetensorsException(Msg.f(file) + ": file not found");
        } catch (IOException | RuntimeException e) {
            throw new SafetensorsException(Msg.f(file) + ": cannot open (" + Msg.clean(e.getMessage()) + ")");
        }
        try {
            return parser.parse(file, ch);
        } catch (IOException e) {
            closeQuietly(ch);
            throw new SafetensorsException(Msg.f(file) + ": read error (" + Msg.clean(e.getMessage()) + ")");
        } catch (RuntimeException | Error e) {
            closeQuietly(ch);
            throw e;
        }
    }

    static void closeQuietly(FileChannel ch) {
        try {
            ch.close();
        } catch (IOException ignored) {
            // nothing to recover
        }
    }

    @Override
    public void close() {
        closeQuietly(channel);
    }
}
