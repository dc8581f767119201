package org.depthlens;

import org.junit.jupiter.api.Test;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

import static org.junit.jupiter.api.Assertions.assertEquals;

class Nd4jSmokeTest {
    @Test
    void gemmWorks() {
        INDArray a = Nd4j.create(new float[] {1, 2, 3, 4}, new long[] {2, 2}, 'c');
        INDArray b = Nd4j.create(new float[] {5, 6, 7, 8}, new long[] {2, 2}, 'c');
        INDArray out = Nd4j.create(DataType.FLOAT, 2, 2);
        Nd4j.gemm(a, b, out, false, true, 1.0, 0.0);
        // a * b^T = [[1*5+2*6, 1*7+2*8],[3*5+4*6, 3*7+4*8]]
        assertEquals(17f, out.getFloat(0, 0));
        assertEquals(23f, out.getFloat(0, 1));
        assertEquals(39f, out.getFloat(1, 0));
        assertEquals(53f, out.getFloat(1, 1));
    }
}
