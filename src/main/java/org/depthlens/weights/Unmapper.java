package org.depthlens.weights;

import java.lang.reflect.Field;
import java.lang.reflect.Method;
import java.nio.ByteBuffer;

/**
 * Releases a mapping at once instead of waiting for GC, so that the pages of a block's
 * weights stop counting in RSS as soon as they are converted (Java 17 has no public unmap).
 */
final class Unmapper {
    private static final Object UNSAFE;
    private static final Method INVOKE_CLEANER;

    static {
        Object u = null;
        Method m = null;
        try {
            Class<?> c = Class.forName("sun.misc.Unsafe");
            Field f = c.getDeclaredField("theUnsafe");
            f.setAccessible(true);
            u = f.get(null);
            m = c.getMethod("invokeCleaner", ByteBuffer.class);
        } catch (ReflectiveOperationException | RuntimeException e) {
            u = null;
            m = null;
        }
        UNSAFE = u;
        INVOKE_CLEANER = m;
    }

    private Unmapper() {}

    /** Unmaps {@code b}; callers must hold no other view of it. Falls back to GC if unavailable. */
    static void unmap(ByteBuffer b) {
        if (INVOKE_CLEANER == null || b == null || !b.isDirect()) return;
        try {
            INVOKE_CLEANER.invoke(UNSAFE, b);
        } catch (ReflectiveOperationException | RuntimeException ignored) {
            // leave it to the GC
        }
    }
}
