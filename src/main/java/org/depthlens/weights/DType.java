package org.depthlens.weights;

import java.util.Locale;

/** safetensors element types (names as in the file header) with their byte sizes. */
public enum DType {
    BOOL(1, false), U8(1, false), I8(1, false), F8_E5M2(1, true), F8_E4M3(1, true),
    I16(2, false), U16(2, false), F16(2, true), BF16(2, true),
    I32(4, false), U32(4, false), F32(4, true),
    I64(8, false), U64(8, false), F64(8, true);

    private final int size;
    private final boolean floating;

    DType(int size, boolean floating) {
        this.size = size;
        this.floating = floating;
    }

    public int size() {
        return size;
    }

    /** True for the types that decode to float32 (F8_*, F16, BF16, F32, F64). */
    public boolean isFloat() {
        return floating;
    }

    /** Parses a header dtype name; unknown names are rejected (never guessed). */
    public static DType parse(String name, String where) {
        if (name != null) {
            for (DType d : values()) {
                if (d.name().equals(name.toUpperCase(Locale.ROOT)) && d.name().equals(name)) return d;
            }
        }
        throw new SafetensorsException(where + ": unknown dtype " + Msg.q(name));
    }
}
