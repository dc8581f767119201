package org.depthlens.weights;

/**
 * Builds the loader's one-line error messages. Tensor names, dtype names and shard names come
 * from untrusted headers: they are quoted with control characters escaped and long values cut, so
 * a message always stays one readable line.
 */
public final class Msg {
    static final int MAX_QUOTED = 200;

    private Msg() {}

    /** {@code 'name'} with control characters escaped (\n, \u0000, ...) and at most 200 characters shown. */
    public static String q(String s) {
        return "'" + clean(s) + "'";
    }

    /** {@code s} with control characters escaped and cut to 200 characters; "null" for null. */
    static String clean(String s) {
        return clean(s, MAX_QUOTED);
    }

    private static String clean(String s, int max) {
        if (s == null) return "null";
        StringBuilder b = new StringBuilder(Math.min(s.length(), max) + 8);
        int shown = 0;
        for (int i = 0; i < s.length(); i++) {
            if (shown >= max) {
                b.append("...(").append(s.length()).append(" chars)");
                break;
            }
            char c = s.charAt(i);
            if (c < 0x20 || c == 0x7F || c == '\u2028' || c == '\u2029' || c == '\u0085') {
                switch (c) {
                    case '\n' -> b.append("\\n");
                    case '\r' -> b.append("\\r");
                    case '\t' -> b.append("\\t");
                    default -> b.append(String.format("\\u%04x", (int) c));
                }
            } else {
                b.append(c);
            }
            shown++;
        }
        return b.toString();
    }

    /** A file path for a message (paths may contain control characters too). */
    public static String f(java.nio.file.Path p) {
        return clean(String.valueOf(p), 2000);
    }
}
