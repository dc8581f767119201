package org.depthlens.model;

import org.depthlens.model.family.Architecture;

import org.depthlens.Fixtures;
import org.depthlens.TinyCurse;
import org.junit.jupiter.api.Test;
import org.nd4j.linalg.api.ndarray.INDArray;

import java.util.Arrays;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;

/**
 * A window's forward pass depends on that window alone (docs/design.md, "Same numbers whatever the grouping"):
 * run alone, in a batch of five at any position, with the batch cut into block chunks of one sequence, or padded
 * behind a longer sequence, its states after the last block are bitwise the same.
 */
class BlockChunkingTest {

    @Test
    void aWindowsStatesDoNotDependOnItsBatch() {
        List<int[]> windows = TinyCurse.windows(5, 64);
        int batch = windows.size(), seq = 64;
        int[] ids = new int[batch * seq];
        for (int b = 0; b < batch; b++) System.arraycopy(windows.get(b), 0, ids, b * seq, seq);
        try (Model m = Model.open(Fixtures.tinyCurse().resolve("lns"), Architecture.LnsMode.AUTO)) {
            float[] whole = run(m, ids, batch, seq, null);
            long chunk = BlockForward.chunkBytes;
            float[] chunked;
            try {
                BlockForward.chunkBytes = 1; // one sequence per block chunk
                chunked = run(m, ids, batch, seq, null);
            } finally {
                BlockForward.chunkBytes = chunk;
            }
            assertArrayEquals(whole, chunked, "chunks of one sequence");
            int h = m.arch().hidden();
            for (int b = 0; b < batch; b++) {
                float[] alone = run(m, windows.get(b), 1, seq, null);
                assertArrayEquals(alone, Arrays.copyOfRange(whole, b * seq * h, (b + 1) * seq * h), "window " + b + " alone");
            }
            // window 1's first 40 tokens padded to 64 behind window 0: its rows equal a run of those 40 tokens alone
            int[] padded = new int[2 * seq];
            System.arraycopy(windows.get(0), 0, padded, 0, seq);
            System.arraycopy(windows.get(1), 0, padded, seq, 40);
            float[] mixed = run(m, padded, 2, seq, new int[] {seq, 40});
            float[] short40 = run(m, Arrays.copyOf(windows.get(1), 40), 1, 40, null);
            assertArrayEquals(short40, Arrays.copyOfRange(mixed, seq * h, (seq + 40) * h), "a padded sequence");
        }
    }

    private static float[] run(Model m, int[] ids, int batch, int seq, int[] lengths) {
        Architecture a = m.arch();
        INDArray x = m.embed(ids);
        WeightPool pool = m.newPool();
        RopeTables rope = m.ropeTables(seq);
        for (int j = 0; j < a.layers(); j++) {
            x = BlockForward.forwardAll(a, m.loadBlock(j, pool), List.of(x), null, batch, seq, lengths, rope,
                    java.util.Collections.singletonList(null)).get(0);
        }
        return x.dup('c').data().asFloat();
    }
}
