package org.depthlens.report;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;

/** Rankings and summary numbers shown in the report text. */
public final class KeyNumbers {
    private KeyNumbers() {}

    /** A block and its value. */
    public record Ranked(int block, double value) {}

    /**
     * The {@code k} blocks with the largest ({@code largest}) or smallest values; NaN is skipped;
     * ties go to the lower block index.
     */
    public static List<Ranked> rank(double[] values, int k, boolean largest) {
        List<Ranked> all = new ArrayList<>();
        for (int i = 0; i < values.length; i++) {
            if (!Double.isNaN(values[i])) {
                all.add(new Ranked(i, values[i]));
            }
        }
        Comparator<Ranked> byValue = Comparator.comparingDouble(Ranked::value);
        if (largest) {
            byValue = byValue.reversed();
        }
        all.sort(byValue.thenComparingInt(Ranked::block));
        return List.copyOf(all.subList(0, Math.min(k, all.size())));
    }

    /** exp(loss). */
    public static double perplexity(double loss) {
        return Math.exp(loss);
    }

    /** Mean of the non-NaN values (NaN if none). */
    public static double mean(double[] v) {
        double s = 0;
        int n = 0;
        for (double x : v) {
            if (!Double.isNaN(x)) {
                s += x;
                n++;
            }
        }
        return n == 0 ? Double.NaN : s / n;
    }
}
