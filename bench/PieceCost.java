import org.bytedeco.javacpp.FloatPointer;
import org.bytedeco.openblas.global.openblas_nolapack;
import org.depthlens.util.Par;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

/**
 * Where the fixed pieces' cost comes from (bench/README.md): (a) one single-threaded x W^T of 512 rows against the
 * same rows in pieces of 256 or 128 (N = 1024, the Gemm column block), alternated in one JVM; (b) Gemm's
 * (piece, block) tasks on Par's threads in piece-major (as model/Gemm) or block-major order (the threads then share
 * one block of W). Medians of N rounds. Run: java -cp 'target/depthlens.jar:target/lib/*' bench/PieceCost.java [N]
 */
public class PieceCost {
    static FloatPointer at(INDArray a, long off) {
        FloatPointer p = (FloatPointer) a.data().addressPointer();
        return new FloatPointer(p).position(p.position() + off);
    }

    static void sgemm(int m, int n, int k, INDArray x, long xo, INDArray w, long wo, INDArray c, long co, int ldc) {
        openblas_nolapack.cblas_sgemm(openblas_nolapack.CblasRowMajor, openblas_nolapack.CblasNoTrans, openblas_nolapack.CblasTrans,
                m, n, k, 1f, at(x, xo), k, at(w, wo), k, 0f, at(c, co), ldc);
    }

    static double median(double[] t) {
        double[] s = t.clone();
        java.util.Arrays.sort(s);
        return s[s.length / 2];
    }

    static String load() throws Exception {
        return java.nio.file.Files.readString(java.nio.file.Path.of("/proc/loadavg")).split(" ")[0];
    }

    public static void main(String[] a) throws Exception {
        int reps = a.length > 0 ? Integer.parseInt(a[0]) : 15;
        openblas_nolapack.blas_set_num_threads(1);
        for (int k : new int[] {2048, 8192}) {
            INDArray x = Nd4j.rand(DataType.FLOAT, 512, k), w = Nd4j.rand(DataType.FLOAT, 1024, k), c = Nd4j.create(DataType.FLOAT, 512, 1024);
            int[] rows = {512, 256, 128};
            double[][] t = new double[rows.length][reps];
            for (int r = -2; r < reps; r++) {
                for (int s = 0; s < rows.length; s++) {
                    long t0 = System.nanoTime();
                    for (int p = 0; p < 512; p += rows[s]) sgemm(rows[s], 1024, k, x, (long) p * k, w, 0, c, (long) p * 1024, 1024);
                    if (r >= 0) t[s][r] = (System.nanoTime() - t0) / 1e6;
                }
            }
            StringBuilder sb = new StringBuilder(String.format("(a) K=%d, one thread:", k));
            for (int s = 0; s < rows.length; s++) {
                sb.append(String.format(" %d-row pieces %.1f GFLOP/s;", rows[s], 2.0 * 512 * 1024 * k / median(t[s]) / 1e6));
            }
            System.out.println(sb + " load " + load());
        }
        for (long[] s : new long[][] {{512, 2048, 3072}, {512, 2048, 16384}, {512, 8192, 2048}}) {
            int m = (int) s[0], k = (int) s[1], n = (int) s[2], pieces = m / 128, blocks = n / 1024;
            INDArray x = Nd4j.rand(DataType.FLOAT, m, k), w = Nd4j.rand(DataType.FLOAT, n, k), c = Nd4j.create(DataType.FLOAT, m, n);
            double[][] t = new double[2][reps];
            for (int r = -2; r < reps; r++) {
                for (int order = 0; order < 2; order++) {
                    boolean blockMajor = order == 1;
                    long t0 = System.nanoTime();
                    Par.rows(pieces * blocks, 1, (i0, i1) -> {
                        for (int i = i0; i < i1; i++) {
                            int p = blockMajor ? i % pieces : i / blocks, b = blockMajor ? i / pieces : i % blocks;
                            sgemm(128, 1024, k, x, (long) p * 128 * k, w, (long) b * 1024 * k, c, (long) p * 128 * n + b * 1024L, n);
                        }
                    });
                    if (r >= 0) t[order][r] = (System.nanoTime() - t0) / 1e6;
                }
            }
            System.out.printf("(b) %dx%dx%d on %d threads: piece-major %.1f ms, block-major %.1f ms (ratio %.3f); load %s%n", m, k, n,
                    Par.threads(), median(t[0]), median(t[1]), median(t[1]) / median(t[0]), load());
        }
    }
}
