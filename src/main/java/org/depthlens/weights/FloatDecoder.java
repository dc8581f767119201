package org.depthlens.weights;

/** Exact conversions of the small float formats to float32 (Java 17 has no Float.float16ToFloat). */
public final class FloatDecoder {
    private static final float[] E4M3 = new float[256];
    private static final float[] E5M2 = new float[256];

    static {
        for (int b = 0; b < 256; b++) {
            E4M3[b] = e4m3Slow(b);
            E5M2[b] = f16(b << 8); // E5M2 is the top byte of an IEEE binary16
        }
    }

    private FloatDecoder() {}

    public static float bf16(int bits) {
        return Float.intBitsToFloat((bits & 0xFFFF) << 16);
    }

    /** IEEE binary16 to float32, including subnormals, infinities and NaN. */
    public static float f16(int bits) {
        int h = bits & 0xFFFF;
        int sign = (h & 0x8000) << 16;
        int exp = (h >>> 10) & 0x1F;
        int mant = h & 0x3FF;
        if (exp == 0x1F) {
            return Float.intBitsToFloat(sign | 0x7F800000 | (mant << 13));
        }
        if (exp == 0) {
            if (mant == 0) return Float.intBitsToFloat(sign);
            // subnormal: mant * 2^-24, exact in float32
            float v = mant * 0x1p-24f;
            return sign == 0 ? v : -v;
        }
        return Float.intBitsToFloat(sign | ((exp + 112) << 23) | (mant << 13));
    }

    /** torch float8_e4m3fn: bias 7, no infinities, S.1111.111 is NaN, max 448. */
    public static float e4m3(int bits) {
        return E4M3[bits & 0xFF];
    }

    /** float8_e5m2: bias 15, IEEE-like with inf and NaN. */
    public static float e5m2(int bits) {
        return E5M2[bits & 0xFF];
    }

    private static float e4m3Slow(int b) {
        boolean neg = (b & 0x80) != 0;
        int e = (b >>> 3) & 0xF;
        int m = b & 0x7;
        float v;
        if (e == 15 && m == 7) {
            v = Float.NaN;
        } else if (e == 0) {
            v = (m / 8f) * 0x1p-6f;
        } else {
            v = (1 + m / 8f) * (float) Math.pow(2, e - 7);
        }
        return neg ? -v : v;
    }
}
