package org.depthlens.weights;

import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

import java.nio.FloatBuffer;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

final class TestSupport {
    private TestSupport() {}

    /** Every way the package decodes a tensor, each as a float[] in c order, labelled. */
    static List<Object[]> allPaths(Checkpoint ck, String name) {
        List<Object[]> out = new ArrayList<>();
        TensorInfo t = ck.require(name);
        int n = (int) t.numel();
        WeightsFile f = ck.files().stream().filter(x -> x.path().equals(t.file())).findFirst().orElseThrow();

        boolean scaled = t.dtype().name().startsWith("F8") && ck.has(name + "_scale_inv");
        if (!scaled) { // SafetensorsFile returns FP8 unscaled, by contract
            FloatBuffer fb = FloatBuffer.allocate(n);
            f.readF32(t, 0, n, fb);
            out.add(new Object[] {"SafetensorsFile.readF32 (java)", fb.array()});
        }

        FloatBuffer rb = FloatBuffer.allocate(n);
        ck.read(name, 0, n, rb);
        out.add(new Object[] {"Checkpoint.read", rb.array()});

        boolean saved = SafetensorsFile.bf16FastPath;
        try {
            SafetensorsFile.bf16FastPath = true;
            out.add(new Object[] {"Checkpoint.load (fast)", flat(ck.load(name))});
            INDArray d = Nd4j.create(DataType.FLOAT, Math.max(n, 1));
            if (n > 0) {
                ck.loadInto(name, d.reshape(t.shape().length == 0 ? new long[] {1} : t.shape()));
                out.add(new Object[] {"loadInto (fast)", flat(d)});
            }
            SafetensorsFile.bf16FastPath = false;
            out.add(new Object[] {"Checkpoint.load (java)", flat(ck.load(name))});
            if (n > 0) {
                INDArray e = Nd4j.create(DataType.FLOAT, n);
                ck.loadInto(name, e, 3);
                out.add(new Object[] {"loadInto step 3 (java)", flat(e)});
                SafetensorsFile.bf16FastPath = true;
                INDArray g = Nd4j.create(DataType.FLOAT, n);
                ck.loadInto(name, g, 5);
                out.add(new Object[] {"loadInto step 5 (fast)", flat(g)});
            }
        } finally {
            SafetensorsFile.bf16FastPath = saved;
        }
        return out;
    }

    static float[] flat(INDArray a) {
        return a.length() == 0 ? new float[0] : a.dup('c').reshape(a.length()).toFloatVector();
    }

    /** Bit-exact comparison; any NaN matches any NaN only if {@code anyNaN}. */
    static void assertBits(float[] expected, float[] actual, String what, boolean anyNaN) {
        assertEquals(expected.length, actual.length, what + ": length");
        for (int i = 0; i < expected.length; i++) {
            if (anyNaN && Float.isNaN(expected[i])) {
                assertTrue(Float.isNaN(actual[i]), what + ": element " + i + " expected NaN, got " + actual[i]);
                continue;
            }
            if (Float.floatToRawIntBits(expected[i]) != Float.floatToRawIntBits(actual[i])) {
                fail(what + ": element " + i + " expected " + expected[i] + " (0x" + Integer.toHexString(Float.floatToRawIntBits(expected[i]))
                        + ") got " + actual[i] + " (0x" + Integer.toHexString(Float.floatToRawIntBits(actual[i])) + ")");
            }
        }
    }

    static void assertAllPaths(Checkpoint ck, String name, float[] expected, boolean anyNaN) {
        for (Object[] p : allPaths(ck, name)) assertBits(expected, (float[]) p[1], name + " via " + p[0], anyNaN);
    }

    /** A SafetensorsException whose message is one line naming {@code file} (and the tensor, if given). */
    static SafetensorsException assertOneLine(SafetensorsException e, Path file, String tensor) {
        assertNotNull(e.getMessage());
        String m = e.getMessage();
        assertFalse(m.contains("\n") || m.contains("\r"), "message is not one line: " + m);
        if (file != null) assertTrue(m.contains(file.getFileName().toString()), "message does not name " + file.getFileName() + ": " + m);
        if (tensor != null) assertTrue(m.contains("'" + tensor + "'"), "message does not name tensor '" + tensor + "': " + m);
        return e;
    }
}
