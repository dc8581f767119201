package org.depthlens;

import com.fasterxml.jackson.databind.JsonNode;

/** Reference numbers of the NumPy scripts under tools/, read from their JSON lists. */
public final class JsonArrays {
    private JsonArrays() {}

    public static double[] doubles(JsonNode n) {
        double[] v = new double[n.size()];
        for (int i = 0; i < v.length; i++) v[i] = n.get(i).asDouble();
        return v;
    }

    public static double[][] matrix(JsonNode n) {
        double[][] m = new double[n.size()][];
        for (int i = 0; i < m.length; i++) m[i] = doubles(n.get(i));
        return m;
    }

    public static int[][] ints(JsonNode n) {
        int[][] m = new int[n.size()][];
        for (int i = 0; i < m.length; i++) {
            m[i] = new int[n.get(i).size()];
            for (int j = 0; j < m[i].length; j++) m[i][j] = n.get(i).get(j).asInt();
        }
        return m;
    }
}
