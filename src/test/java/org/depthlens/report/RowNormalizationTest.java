package org.depthlens.report;

import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

class RowNormalizationTest {

    @Test
    void percentileMatchesNumpyLinear() {
        double[] a = {1, 2, 3, 4, 10};
        // numpy.percentile([1,2,3,4,10], [1, 99]) = [1.04, 9.76]
        assertEquals(1.04, RowNormalization.percentile(a, 1), 1e-12);
        assertEquals(9.76, RowNormalization.percentile(a, 99), 1e-12);
        assertEquals(3.0, RowNormalization.percentile(a, 50), 0);
        assertEquals(10.0, RowNormalization.percentile(new double[] {10}, 99), 0);
    }

    @Test
    void rowIsClippedThenScaledToUnitRange() {
        double[] row = {3, 1, 2, 4, 10};
        double[] out = RowNormalization.normalizeRow(row);
        double lo = 1.04;
        double hi = 9.76;
        double[] expected = {(3 - lo) / (hi - lo), 0, (2 - lo) / (hi - lo), (4 - lo) / (hi - lo), 1};
        assertArrayEquals(expected, out, 1e-12);
    }

    @Test
    void constantOrSingleRowsAreUndefined() {
        assertTrue(Double.isNaN(RowNormalization.normalizeRow(new double[] {0.3})[0]));
        double[] c = RowNormalization.normalizeRow(new double[] {0.2, 0.2, 0.2});
        assertTrue(Double.isNaN(c[0]) && Double.isNaN(c[2]));
    }

    @Test
    void normalisesAlongEachSpanNotEachStartDepth() {
        // triangle [l][n-1] for L = 3
        double[][] t = {{0.1, 0.5, 0.9}, {0.3, 0.7}, {0.2}};
        double[][] n = RowNormalization.normalize(t);
        // n = 1: values 0.1, 0.3, 0.2 over l = 0, 1, 2
        double lo = RowNormalization.percentile(new double[] {0.1, 0.2, 0.3}, 1);
        double hi = RowNormalization.percentile(new double[] {0.1, 0.2, 0.3}, 99);
        assertEquals(0.0, n[0][0], 0);
        assertEquals(1.0, n[1][0], 0);
        assertEquals((0.2 - lo) / (hi - lo), n[2][0], 1e-12);
        // n = 2: values 0.5 (l=0), 0.7 (l=1)
        assertEquals(0.0, n[0][1], 0);
        assertEquals(1.0, n[1][1], 0);
        // n = 3: a single cell
        assertTrue(Double.isNaN(n[0][2]));
        // the input is untouched
        assertEquals(0.9, t[0][2], 0);
    }
}
