import org.bytedeco.openblas.global.openblas_nolapack;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.indexing.NDArrayIndex;

/** How many of row 0's outputs change with the number of rows multiplied together and OpenBLAS' thread count. */
public class RowDependence {
    public static void main(String[] a) {
        int k = 2048, n = 4096;
        Nd4j.getRandom().setSeed(7);
        INDArray x = Nd4j.randn(DataType.FLOAT, 1536, k), w = Nd4j.randn(DataType.FLOAT, n, k);
        float[] ref = null;
        for (int threads : new int[] {1, 2}) {
            openblas_nolapack.blas_set_num_threads(threads);
            StringBuilder sb = new StringBuilder("threads " + threads + ":");
            for (int m : new int[] {1, 8, 16, 64, 65, 128, 1536}) {
                INDArray xm = x.get(NDArrayIndex.interval(0, m), NDArrayIndex.all()).dup('c');
                INDArray c = Nd4j.create(DataType.FLOAT, m, n);
                Nd4j.gemm(xm, w, c, false, true, 1.0, 0.0);
                float[] row = c.getRow(0).toFloatVector();
                if (ref == null) ref = row;
                int diff = 0;
                for (int j = 0; j < n; j++) if (Float.floatToRawIntBits(row[j]) != Float.floatToRawIntBits(ref[j])) diff++;
                sb.append(String.format(" M=%d: %d", m, diff));
            }
            System.out.println(sb);
        }
    }
}
