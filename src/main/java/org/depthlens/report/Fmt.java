package org.depthlens.report;

import java.math.BigDecimal;
import java.math.MathContext;
import java.math.RoundingMode;

/**
 * Human-readable numbers for the report text and chart annotations (full precision lives in
 * metrics.json and the CSV files). Locale-independent.
 */
public final class Fmt {
    private Fmt() {}

    /** {@code digits} significant digits, plain notation for 1e-4 &lt;= |v| &lt; 1e6, else e.g. {@code 1.2346e-05}. */
    public static String sig(double v, int digits) {
        if (Double.isNaN(v)) {
            return "NaN";
        }
        if (Double.isInfinite(v)) {
            return v > 0 ? "+inf" : "-inf";
        }
        if (v == 0) {
            return "0";
        }
        BigDecimal b = new BigDecimal(v).round(new MathContext(digits, RoundingMode.HALF_EVEN));
        double a = Math.abs(b.doubleValue());
        if (a >= 1e-4 && a < 1e6) {
            return b.toPlainString();
        }
        int exp = b.precision() - b.scale() - 1;
        BigDecimal mant = b.movePointLeft(exp);
        String e = (exp < 0 ? "-" : "+") + (Math.abs(exp) < 10 ? "0" : "") + Math.abs(exp);
        return mant.toPlainString() + "e" + e;
    }

    /** 5 significant digits. */
    public static String num(double v) {
        return sig(v, 5);
    }

    /** Signed, 4 significant digits: {@code +0.01234}, {@code -2.5}. */
    public static String signed(double v) {
        String s = sig(v, 4);
        return v > 0 && Double.isFinite(v) ? "+" + s : s;
    }

    /** An axis tick label: up to 10 significant digits without trailing zeros, e.g. {@code 0.05}, {@code 1e-05}. */
    public static String tick(double v) {
        if (!Double.isFinite(v)) {
            return Double.toString(v);
        }
        if (v == 0) {
            return "0";
        }
        BigDecimal b = new BigDecimal(v).round(new MathContext(10, RoundingMode.HALF_EVEN)).stripTrailingZeros();
        double a = Math.abs(v);
        if (a >= 1e-4 && a < 1e6) {
            return b.toPlainString();
        }
        int exp = b.precision() - b.scale() - 1;
        String e = (exp < 0 ? "-" : "+") + (Math.abs(exp) < 10 ? "0" : "") + Math.abs(exp);
        return b.movePointLeft(exp).stripTrailingZeros().toPlainString() + "e" + e;
    }
}
