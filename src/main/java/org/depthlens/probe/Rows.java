package org.depthlens.probe;

import org.depthlens.model.Ops;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

import java.nio.FloatBuffer;

/** Selected rows of a stream state. */
public final class Rows {
    private Rows() {}

    /** A new [rows.length, H] array holding the given rows of x (a copy, so x can be freed). */
    public static INDArray gather(INDArray x, int[] rows) {
        int h = (int) x.columns();
        INDArray src = x.isView() || x.ordering() != 'c' ? x.dup('c') : x;
        INDArray out = Nd4j.create(DataType.FLOAT, rows.length, h);
        FloatBuffer in = Ops.floats(src);
        FloatBuffer o = Ops.floats(out);
        float[] row = new float[h];
        for (int i = 0; i < rows.length; i++) {
            in.get(rows[i] * h, row);
            o.put(i * h, row);
        }
        if (src != x) src.close();
        return out;
    }
}
