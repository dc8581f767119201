package org.depthlens.model;

import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.api.ops.impl.transforms.custom.SoftMax;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.ops.transforms.Transforms;

import java.nio.ByteOrder;
import java.nio.FloatBuffer;

/** The few kernels of the forward pass, on float32 c-order 2-D arrays [rows, features]. */
public final class Ops {
    private Ops() {}

    /** Direct view of an array's float data (respecting its offset); writes go to the array. */
    public static FloatBuffer floats(INDArray a) {
        FloatBuffer fb = a.data().asNio().order(ByteOrder.nativeOrder()).asFloatBuffer();
        fb.position((int) a.offset());
        return fb.slice();
    }

    /** y = x W^T (+ b), W in HF layout [out, in]: gemm with transposeB, no copy of W. */
    public static INDArray linear(INDArray x, INDArray w, INDArray bias) {
        INDArray out = Nd4j.createUninitialized(DataType.FLOAT, x.rows(), w.rows());
        Nd4j.gemm(x, w, out, false, true, 1.0, 0.0);
        if (bias != null) out.addiRowVector(bias);
        return out;
    }

    /**
     * HF RMSNorm over the last dim of rows of width {@code width}: x / sqrt(mean(x^2) + eps) * w, then times
     * {@code scale} (the LNS factor; 1 otherwise). Mean of squares accumulated in double.
     */
    public static INDArray rmsNorm(INDArray x, INDArray weight, double eps, double scale, int width) {
        INDArray out = Nd4j.createUninitialized(DataType.FLOAT, x.shape());
        FloatBuffer in = floats(x.isView() || x.ordering() != 'c' ? x.dup('c') : x);
        FloatBuffer o = floats(out);
        FloatBuffer w = floats(weight);
        long n = x.length();
        int rows = (int) (n / width);
        float[] wArr = new float[width];
        w.get(0, wArr);
        float fs = (float) scale;
        boolean scaled = scale != 1.0;
        for (int r = 0; r < rows; r++) {
            int base = r * width;
            double ss = 0;
            for (int i = 0; i < width; i++) {
                float v = in.get(base + i);
                ss += (double) v * v;
            }
            float variance = (float) (ss / width);
            float inv = (float) (1.0 / Math.sqrt(variance + (float) eps));
            for (int i = 0; i < width; i++) {
                float v = wArr[i] * (in.get(base + i) * inv);
                o.put(base + i, scaled ? v * fs : v);
            }
        }
        return out;
    }

    /** silu(g) * u, in place on g. */
    public static INDArray swiglu(INDArray g, INDArray u) {
        INDArray sig = Transforms.sigmoid(g, true);
        return g.muli(sig).muli(u);
    }

    /** Softmax over the last dimension into a new array. */
    public static INDArray softmaxLastDim(INDArray x) {
        INDArray out = Nd4j.createUninitialized(DataType.FLOAT, x.shape());
        Nd4j.exec(new SoftMax(x, out, x.rank() - 1));
        return out;
    }
}
