package org.depthlens.model;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.Set;
import java.util.stream.Collectors;

/**
 * Chooses OpenBLAS' kernel, and how long its idle threads spin, before ND4J loads it.
 *
 * <p>The OpenBLAS that ND4J 1.0.0-M2.1 ships (0.3.19, DYNAMIC_ARCH) picks its kernels from the CPU model
 * number and falls back to "Prescott" (SSE3) for models it does not know, e.g. Intel Emerald Rapids:
 * there sgemm runs at 62 GFLOP/s instead of 280 (measured, bench/README.md). It honours
 * {@code OPENBLAS_CORETYPE}, read once when the library is loaded, so unless the user set it we set it
 * from the CPU's feature flags: AVX-512 (F, CD, BW, DQ, VL) -> SkylakeX, AVX2 + FMA -> Haswell, else
 * OpenBLAS decides. The variable is set with libc's setenv, which the JVM's own environment map does
 * not see but OpenBLAS' getenv does.
 *
 * <p>After each gemm OpenBLAS' worker threads spin for 2^28 cycles (about 0.1 s) waiting for the next one,
 * on the very cores the Java passes between gemms (softmax, SwiGLU, norms) then run on: a 1B-shaped
 * block ran 262-273 ms with that, 253 ms with {@code OPENBLAS_THREAD_TIMEOUT=4} (2^4 cycles, then sleep),
 * and tiny-curse-24's analysis 15.7-17.2 s vs 13.8-14.5 s. Unless the user set it, we set 4.
 *
 * <p>OpenBLAS runs single-threaded ({@code OPENBLAS_NUM_THREADS=1} before it loads, and {@link Gemm} sets it
 * again at run time): how it splits a product between threads changes the last bits of the result, so the
 * forward pass cuts its products into fixed pieces and runs those on its own threads ({@link Gemm}).
 *
 * <p>{@link #configure()} must run before the first ND4J array exists;
 * {@code Main} and the test launcher call it first thing, {@link Model#open} as a fallback.
 */
public final class Blas {
    private Blas() {}

    /** What was decided: the core type (null: OpenBLAS' own detection) and why. */
    public record Choice(String coreType, String source) {
        /** For provenance and bench output, e.g. "core SkylakeX (from CPU flags)". */
        public String describe() {
            return "core " + (coreType == null ? "auto-detected" : coreType) + " (" + source + ")";
        }
    }

    private static Choice choice;

    /** OPENBLAS_THREAD_TIMEOUT we set when the user did not: log2 of the cycles an idle BLAS thread spins. */
    static final String THREAD_TIMEOUT = "4";

    /** Sets OPENBLAS_CORETYPE for this process if the user did not and OpenBLAS is not loaded yet; idempotent. */
    public static synchronized Choice configure() {
        if (choice != null) return choice;
        boolean loaded = openBlasLoaded(); // then OpenBLAS has read its variables already
        if (System.getenv("OPENBLAS_THREAD_TIMEOUT") == null && !loaded) setenv("OPENBLAS_THREAD_TIMEOUT", THREAD_TIMEOUT);
        if (!loaded) setenv("OPENBLAS_NUM_THREADS", "1"); // no idle BLAS threads: Gemm never lets OpenBLAS split a product
        String env = System.getenv("OPENBLAS_CORETYPE");
        String prop = System.getProperty("depthlens.blas.coretype", "auto");
        if (env != null && !env.isBlank()) {
            choice = new Choice(env, "OPENBLAS_CORETYPE from the environment");
        } else if (loaded) {
            choice = new Choice(null, "OpenBLAS was loaded before depthlens could choose");
        } else if (prop.equals("off")) {
            choice = new Choice(null, "-Ddepthlens.blas.coretype=off");
        } else {
            String core = prop.equals("auto") ? fromFlags(cpuFlags()) : prop;
            if (core == null) {
                choice = new Choice(null, "no AVX2/AVX-512 flags");
            } else {
                choice = setenv("OPENBLAS_CORETYPE", core) ? new Choice(core, prop.equals("auto") ? "from CPU flags" : "-Ddepthlens.blas.coretype")
                        : new Choice(null, "setenv unavailable");
            }
        }
        return choice;
    }

    /**
     * OpenMP's thread count for this process ({@code OMP_NUM_THREADS}: ND4J's own elementwise kernels), unless the
     * user set it or the natives are loaded already: a Spark executor runs several tasks at once, each owning
     * {@code spark.task.cpus} cores. OpenBLAS itself always runs single-threaded ({@link #configure}).
     */
    public static synchronized void presetThreads(int n) {
        if (openBlasLoaded()) return;
        if (getenv("OMP_NUM_THREADS") == null) setenv("OMP_NUM_THREADS", Integer.toString(n));
    }

    /** OPENBLAS_THREAD_TIMEOUT as OpenBLAS sees it (null if unset). */
    public static String threadTimeout() {
        configure();
        return getenv("OPENBLAS_THREAD_TIMEOUT");
    }

    /**
     * A variable as libc's getenv (and so OpenBLAS) sees it, including what {@link #configure} set; the JVM's own
     * {@code System.getenv} only knows the environment the process started with. Null if unset.
     */
    public static String getenv(String name) {
        try {
            java.nio.ByteBuffer b = org.bytedeco.systems.global.linux.getenv(name);
            return b == null ? null : new org.bytedeco.javacpp.BytePointer(new org.bytedeco.javacpp.Pointer(b)).limit(0).getString();
        } catch (LinkageError e) {
            return System.getenv(name); // no native systems library: nothing can have been set either
        }
    }

    /** The core type for a set of /proc/cpuinfo flags, or null to leave the choice to OpenBLAS. */
    static String fromFlags(Set<String> flags) {
        if (flags.containsAll(List.of("avx512f", "avx512cd", "avx512bw", "avx512dq", "avx512vl"))) return "SkylakeX";
        if (flags.containsAll(List.of("avx2", "fma"))) return "Haswell";
        return null;
    }

    /** The flags of the first processor in /proc/cpuinfo (empty if unreadable, e.g. not Linux). */
    static Set<String> cpuFlags() {
        try {
            for (String line : Files.readAllLines(Path.of("/proc/cpuinfo"))) {
                if (line.startsWith("flags")) {
                    return Arrays.stream(line.substring(line.indexOf(':') + 1).trim().split("\\s+")).collect(Collectors.toSet());
                }
            }
        } catch (IOException | RuntimeException e) {
            // no cpuinfo: let OpenBLAS detect
        }
        return Set.of();
    }

    private static boolean setenv(String name, String value) {
        try {
            return org.bytedeco.systems.global.linux.setenv(name, value, 1) == 0;
        } catch (LinkageError e) {
            return false; // no native systems library for this platform
        }
    }

    private static boolean openBlasLoaded() {
        return org.bytedeco.javacpp.Loader.getLoadedLibraries().keySet().stream().anyMatch(k -> k.contains("openblas"));
    }
}
