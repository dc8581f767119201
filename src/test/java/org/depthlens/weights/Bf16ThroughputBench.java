package org.depthlens.weights;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.condition.EnabledIfEnvironmentVariable;
import org.junit.jupiter.api.io.TempDir;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.Arrays;
import java.util.SplittableRandom;

import static org.junit.jupiter.api.Assertions.assertEquals;

/**
 * BF16 -> FP32 loadInto throughput on a ~200 MB tensor into a reused buffer, ND4J fast path vs
 * the Java loop; prints, does not assert speed. Run with DEPTHLENS_BENCH=1.
 */
class Bf16ThroughputBench {
    @TempDir
    Path dir;

    @Test
    @EnabledIfEnvironmentVariable(named = "DEPTHLENS_BENCH", matches = "1")
    void bf16LoadIntoThroughput() throws Exception {
        long rows = 12_500, cols = 8192; // 102.4M elements: 204.8 MB BF16 -> 409.6 MB FP32
        long n = rows * cols;
        String h = "{" + Raw.entry("w", "BF16", new long[] {rows, cols}, 0, 2 * n) + "}";
        Path f = dir.resolve("model.safetensors");
        try (FileChannel ch = FileChannel.open(f, StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE)) {
            ch.write(ByteBuffer.wrap(Raw.file(h, new byte[0])));
            ByteBuffer b = ByteBuffer.allocateDirect(1 << 20).order(ByteOrder.LITTLE_ENDIAN);
            SplittableRandom r = new SplittableRandom(1);
            for (long done = 0; done < n; ) {
                b.clear();
                while (b.hasRemaining() && done < n) {
                    b.putShort((short) r.nextInt(65536));
                    done++;
                }
                b.flip();
                while (b.hasRemaining()) ch.write(b);
            }
        }
        try (Checkpoint ck = Checkpoint.open(dir)) {
            INDArray fast = Nd4j.create(DataType.FLOAT, rows, cols);
            INDArray slow = Nd4j.create(DataType.FLOAT, rows, cols);
            boolean saved = SafetensorsFile.bf16FastPath;
            double[][] ms = new double[2][7];
            try {
                for (int rep = 0; rep < 7; rep++) {
                    for (int mode = 0; mode < 2; mode++) {
                        SafetensorsFile.bf16FastPath = mode == 0;
                        INDArray dst = mode == 0 ? fast : slow;
                        long t0 = System.nanoTime();
                        ck.loadInto("w", dst);
                        ms[mode][rep] = (System.nanoTime() - t0) / 1e6;
                    }
                }
            } finally {
                SafetensorsFile.bf16FastPath = saved;
            }
            java.nio.IntBuffer a = NativeMemory.window(NativeMemory.address(fast), 4 * n).asIntBuffer();
            java.nio.IntBuffer b = NativeMemory.window(NativeMemory.address(slow), 4 * n).asIntBuffer();
            assertEquals(a, b, "fast path and Java loop differ"); // IntBuffer equality: bit for bit
            java.lang.ref.Reference.reachabilityFence(fast);
            java.lang.ref.Reference.reachabilityFence(slow);
            for (int mode = 0; mode < 2; mode++) {
                double[] s = ms[mode].clone();
                Arrays.sort(s);
                double med = s[s.length / 2];
                System.out.printf("[bench] BF16->FP32 loadInto %s: median %.0f ms = %.2f GB/s of BF16 read (%.2f GB/s FP32 written); min %.0f ms; all %s%n",
                        mode == 0 ? "ND4J fast path" : "Java loop     ", med, 2.0 * n / med / 1e6, 4.0 * n / med / 1e6, s[0],
                        Arrays.toString(Arrays.stream(ms[mode]).map(Math::rint).toArray()));
            }
        }
    }
}
