package org.depthlens.weights;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.condition.EnabledIfEnvironmentVariable;
import org.junit.jupiter.api.io.TempDir;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

import java.io.RandomAccessFile;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.FloatBuffer;
import java.nio.file.Files;
import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Tensors past every 32-bit limit, on sparse files (no disk or page cache used): a BF16 tensor of
 * 2^31 + 4096 elements (4 GiB of data), read at the 1 GiB mapping boundary, at byte offset 2^31,
 * at element 2^31 and at the very end.
 */
class LargeTensorTest {
    @TempDir
    Path dir;

    static final long N = (1L << 31) + 4096; // [524289, 4096]

    /** A sparse file holding one BF16 tensor [rows, cols] with the given values written at the given element indices. */
    static Path sparseBf16(Path file, long rows, long cols, long[] at, int[] bits) throws Exception {
        String h = "{" + Raw.entry("big", "BF16", new long[] {rows, cols}, 0, rows * cols * 2) + "}";
        byte[] head = Raw.file(h, new byte[0]);
        try (RandomAccessFile raf = new RandomAccessFile(file.toFile(), "rw")) {
            raf.write(head);
            raf.setLength(head.length + rows * cols * 2);
            for (int i = 0; i < at.length; i++) {
                raf.seek(head.length + at[i] * 2);
                raf.write(ByteBuffer.allocate(2).order(ByteOrder.LITTLE_ENDIAN).putShort((short) bits[i]).array());
            }
        }
        return file;
    }

    @Test
    void readsRangesPastTwoGiBAndTwoToThe31Elements() throws Exception {
        long[] at = {0, (1L << 29) - 2, (1L << 29) - 1, 1L << 29, (1L << 30) - 1, 1L << 30, (1L << 30) + 1, (1L << 31) - 1, 1L << 31,
                (1L << 31) + 1, N - 2, N - 1};
        int[] bits = new int[at.length];
        for (int i = 0; i < at.length; i++) bits[i] = 0x3F80 + i + 1; // 1.0078125, 1.015625, ...
        Path f = sparseBf16(dir.resolve("model.safetensors"), N / 4096, 4096, at, bits);
        assertTrue(Files.size(f) > (4L << 30));
        long t0 = System.nanoTime();
        try (Checkpoint ck = Checkpoint.open(dir)) {
            TensorInfo t = ck.require("big");
            assertEquals(N, t.numel());
            assertEquals(2 * N, t.byteLength());
            WeightsFile sf = ck.files().get(0);
            for (int i = 0; i < at.length; i++) {
                long from = Math.max(0, at[i] - 3);
                int count = (int) Math.min(7, N - from);
                FloatBuffer fb = FloatBuffer.allocate(count);
                sf.readF32(t, from, count, fb);
                FloatBuffer cb = FloatBuffer.allocate(count);
                ck.read("big", from, count, cb);
                for (int k = 0; k < count; k++) {
                    long idx = from + k;
                    float want = 0f;
                    for (int j = 0; j < at.length; j++) if (at[j] == idx) want = Raw.refBf16(bits[j]);
                    assertEquals(want, fb.get(k), "element " + idx);
                    assertEquals(want, cb.get(k), "element " + idx + " via Checkpoint.read");
                }
            }
            // a range spanning the 1 GiB mapping boundary in one call
            FloatBuffer span = FloatBuffer.allocate(1 << 20);
            sf.readF32(t, (1L << 29) - (1 << 19), 1 << 20, span);
            assertEquals(Raw.refBf16(bits[1]), span.get((1 << 19) - 2));
            assertEquals(Raw.refBf16(bits[3]), span.get(1 << 19));
            // ranges past the end, or overflowing, are refused
            assertThrows(IllegalArgumentException.class, () -> sf.readF32(t, N - 1, 2, FloatBuffer.allocate(2)));
            assertThrows(IllegalArgumentException.class, () -> sf.readF32(t, Long.MAX_VALUE, 1, FloatBuffer.allocate(1)));
            assertThrows(IllegalArgumentException.class, () -> sf.readF32(t, 0, 10, FloatBuffer.allocate(9)));
        }
        System.out.printf("[large] %d-element BF16 tensor in a %d-byte sparse file: opened and read at 12 spots in %.0f ms%n",
                N, Files.size(f), (System.nanoTime() - t0) / 1e6);
    }

    /**
     * loadInto into an FP32 array of more than 2^29 elements (over 2 GiB, past a single
     * FloatBuffer's int index). Needs about 2.2 GB of RAM: run with DEPTHLENS_BIG_TESTS=1.
     */
    @Test
    @EnabledIfEnvironmentVariable(named = "DEPTHLENS_BIG_TESTS", matches = "1")
    void loadIntoOverTwoGiBDestination() throws Exception {
        long rows = 131_200, cols = 4096; // 537,395,200 elements > 2^29
        long n = rows * cols;
        long[] at = {0, (1L << 28) - 1, 1L << 28, (1L << 29) - 1, 1L << 29, n - 1};
        int[] bits = {0x3F80, 0x4000, 0x4040, 0x4080, 0x40A0, 0xC0C0};
        sparseBf16(dir.resolve("model.safetensors"), rows, cols, at, bits);
        try (Checkpoint ck = Checkpoint.open(dir)) {
            for (boolean fast : new boolean[] {false, true, false, true}) {
                boolean saved = SafetensorsFile.bf16FastPath;
                SafetensorsFile.bf16FastPath = fast;
                long t0 = System.nanoTime();
                INDArray dst = Nd4j.createUninitialized(DataType.FLOAT, new long[] {rows, cols}, 'c');
                try {
                    ck.loadInto("big", dst);
                } finally {
                    SafetensorsFile.bf16FastPath = saved;
                }
                long t1 = System.nanoTime();
                for (int i = 0; i < at.length; i++) {
                    assertEquals(Raw.refBf16(bits[i]), dst.getFloat(at[i] / cols, at[i] % cols), "element " + at[i] + " fast=" + fast);
                    long next = at[i] + 1;
                    if (next < n && java.util.Arrays.stream(at).noneMatch(a -> a == next)) {
                        assertEquals(0f, dst.getFloat(next / cols, next % cols), "element after " + at[i]);
                    }
                }
                System.out.printf("[large] loadInto of %d BF16 elements (%.2f GB FP32) fast=%s: %.0f ms%n", n, n * 4 / 1e9, fast, (t1 - t0) / 1e6);
                dst.close();
            }
        }
    }
}
