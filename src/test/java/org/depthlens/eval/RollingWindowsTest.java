package org.depthlens.eval;

import org.junit.jupiter.api.Test;

import java.util.List;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Window cutting and the BOS/EOS prefix on hand-counted documents, and lm-eval's own gold windows. */
class RollingWindowsTest {
    static final int P = 999; // the prefix token (BOS, or EOS without BOS)

    static int[] range(int from, int to) {
        int[] a = new int[to - from];
        for (int i = from; i < to; i++) a[i - from] = i;
        return a;
    }

    /** Asserts window w reads {@code input} and predicts {@code predicted}. */
    static void window(List<LoglikRequest> ws, int w, int maxLength, int[] input, int[] predicted) {
        assertArrayEquals(input, ws.get(w).input(maxLength), "input of window " + w);
        assertArrayEquals(predicted, ws.get(w).continuation(), "predictions of window " + w);
    }

    @Test
    void tenTokensInWindowsOfFour() {
        // tokens 0..9, max length 4: predicted chunks [0,4) [4,8) [8,10)
        List<LoglikRequest> ws = RollingWindows.of(range(0, 10), P, 4);
        assertEquals(3, ws.size());
        window(ws, 0, 4, new int[] {P, 0, 1, 2}, new int[] {0, 1, 2, 3});     // prefix, then the chunk minus its last
        window(ws, 1, 4, new int[] {3, 4, 5, 6}, new int[] {4, 5, 6, 7});     // token s-1, then the chunk minus its last
        window(ws, 2, 4, new int[] {5, 6, 7, 8}, new int[] {8, 9});           // last, short chunk: input filled to 4 tokens
        assertArrayEquals(new int[] {5, 6, 7}, ws.get(2).context());          // make_disjoint_window's context
    }

    @Test
    void documentShorterThanTheWindowIsOneWindowAfterThePrefix() {
        List<LoglikRequest> ws = RollingWindows.of(new int[] {11, 12, 13}, P, 8);
        assertEquals(1, ws.size());
        window(ws, 0, 8, new int[] {P, 11, 12}, new int[] {11, 12, 13});
    }

    @Test
    void oneTokenDocumentIsPredictedFromThePrefixAlone() {
        List<LoglikRequest> ws = RollingWindows.of(new int[] {42}, P, 8);
        assertEquals(1, ws.size());
        window(ws, 0, 8, new int[] {P}, new int[] {42});
    }

    @Test
    void exactMultipleOfTheWindowHasNoShortTail() {
        List<LoglikRequest> ws = RollingWindows.of(range(0, 6), P, 3);
        assertEquals(2, ws.size());
        window(ws, 0, 3, new int[] {P, 0, 1}, new int[] {0, 1, 2});
        window(ws, 1, 3, new int[] {2, 3, 4}, new int[] {3, 4, 5});
    }

    @Test
    void windowOfOneTokenPredictsEachTokenFromItsPredecessor() {
        List<LoglikRequest> ws = RollingWindows.of(new int[] {7, 8, 9}, P, 1);
        assertEquals(3, ws.size());
        window(ws, 0, 1, new int[] {P}, new int[] {7});
        window(ws, 1, 1, new int[] {7}, new int[] {8});
        window(ws, 2, 1, new int[] {8}, new int[] {9});
    }

    @Test
    void emptyDocumentHasNoWindow() {
        assertTrue(RollingWindows.of(new int[0], P, 4).isEmpty());
    }

    /**
     * lm-evaluation-harness's tests/test_utils.py::test_get_rolling_token_windows_v1 (34 tokens, max 10,
     * context_len 1, prefix -100), after make_disjoint_window: the model input is the gold input.
     */
    @Test
    void lmEvalGoldWindows() {
        int[][][] gold = {
            {{-100, 0, 1, 2, 3, 4, 5, 6, 7, 8}, {0, 1, 2, 3, 4, 5, 6, 7, 8, 9}},
            {{9, 10, 11, 12, 13, 14, 15, 16, 17, 18}, {10, 11, 12, 13, 14, 15, 16, 17, 18, 19}},
            {{19, 20, 21, 22, 23, 24, 25, 26, 27, 28}, {20, 21, 22, 23, 24, 25, 26, 27, 28, 29}},
            {{23, 24, 25, 26, 27, 28, 29, 30, 31, 32}, {30, 31, 32, 33}},
        };
        List<LoglikRequest> ws = RollingWindows.of(range(0, 34), -100, 10);
        assertEquals(gold.length, ws.size());
        for (int w = 0; w < gold.length; w++) window(ws, w, 10, gold[w][0], gold[w][1]);
    }

    @Test
    void everyTokenIsPredictedExactlyOnceAndInputsFitTheWindow() {
        for (int n = 1; n <= 40; n++) {
            for (int max = 1; max <= 12; max++) {
                List<LoglikRequest> ws = RollingWindows.of(range(100, 100 + n), P, max);
                int next = 100;
                for (LoglikRequest r : ws) {
                    int[] in = r.input(max);
                    int[] c = r.continuation();
                    assertTrue(in.length <= max && c.length <= max);
                    for (int j = 0; j < c.length; j++) {
                        assertEquals(next++, c[j], "n=" + n + " max=" + max);
                        // the input position that predicts c[j] holds the token just before it
                        int pos = in.length - c.length + j;
                        assertEquals(c[j] == 100 ? P : c[j] - 1, in[pos]);
                    }
                }
                assertEquals(100 + n, next);
            }
        }
    }
}
