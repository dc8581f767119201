package org.depthlens.model;

import org.depthlens.model.family.Architecture;

import org.depthlens.Fixtures;
import org.depthlens.TinyCurse;
import org.junit.jupiter.api.Test;
import org.nd4j.linalg.api.ndarray.INDArray;

import java.util.List;

import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * A batch too large for one attention group or one block chunk is cut into groups of sequences; the
 * result must not depend on the cut (up to the last bits of the projections, whose BLAS kernels may
 * differ by row count).
 */
class BlockChunkingTest {

    @Test
    void groupsAndChunksOfSequencesGiveTheSameStates() {
        List<int[]> windows = TinyCurse.windows(5, 64);
        int batch = windows.size(), seq = 64;
        int[] ids = new int[batch * seq];
        for (int b = 0; b < batch; b++) System.arraycopy(windows.get(b), 0, ids, b * seq, seq);
        try (Model m = Model.open(Fixtures.tinyCurse().resolve("lns"), Architecture.LnsMode.AUTO)) {
            float[] whole = run(m, ids, batch, seq);
            long scores = Attention.scoreBytes, chunk = BlockForward.chunkBytes;
            try {
                Attention.scoreBytes = 1; // one sequence per attention group
                float[] grouped = run(m, ids, batch, seq);
                BlockForward.chunkBytes = 1; // one sequence per block chunk
                float[] chunked = run(m, ids, batch, seq);
                double e1 = Fixtures.relMaxError(grouped, whole), e2 = Fixtures.relMaxError(chunked, whole);
                System.out.printf("attention groups of 1: %.2e, chunks of 1 sequence: %.2e (relative to one group)%n", e1, e2);
                assertTrue(e1 <= 1e-6 && e2 <= 1e-6, "grouped " + e1 + ", chunked " + e2);
            } finally {
                Attention.scoreBytes = scores;
                BlockForward.chunkBytes = chunk;
            }
        }
    }

    private static float[] run(Model m, int[] ids, int batch, int seq) {
        Architecture a = m.arch();
        INDArray x = m.embed(ids);
        WeightPool pool = m.newPool();
        RopeTables rope = m.ropeTables(seq);
        for (int j = 0; j < a.layers(); j++) x = BlockForward.forward(a, m.loadBlock(j, pool), x, batch, seq, rope, null);
        return x.dup('c').data().asFloat();
    }
}
