package org.depthlens.util;

import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * Row-parallel Java loops over the machine's cores. Work is cut into fixed chunks of
 * {@code grain} rows that the calling thread and {@code threads()-1} pooled workers claim in turn,
 * so a core slowed down by other processes simply takes fewer chunks. Chunk boundaries depend only
 * on {@code n} and {@code grain}, never on the thread count or timing: a reduction that keeps one
 * partial result per chunk and adds them in chunk order is bitwise reproducible.
 *
 * <p>The number of threads is {@code -Ddepthlens.threads}, else {@code OMP_NUM_THREADS}, else the
 * available processors. Workers block (they never spin) while ND4J's native kernels run.
 */
public final class Par {
    private static final int THREADS = threadCount();
    private static final ExecutorService POOL = THREADS > 1 ? Executors.newFixedThreadPool(THREADS - 1, r -> {
        Thread t = new Thread(r, "depthlens-par");
        t.setDaemon(true);
        return t;
    }) : null;
    private static final ThreadLocal<Boolean> WORKER = ThreadLocal.withInitial(() -> false);

    private Par() {}

    /** Body of a parallel loop over rows {@code [from, to)} (one chunk). */
    @FunctionalInterface
    public interface Range {
        void run(int from, int to);
    }

    /** Body of a parallel loop that also knows its chunk's index. */
    @FunctionalInterface
    public interface Chunk {
        void run(int chunk, int from, int to);
    }

    public static int threads() {
        return THREADS;
    }

    private static int threadCount() {
        Integer p = Integer.getInteger("depthlens.threads");
        if (p != null && p > 0) return p;
        String omp = System.getenv("OMP_NUM_THREADS");
        if (omp != null) {
            try {
                int n = Integer.parseInt(omp.trim());
                if (n > 0) return n;
            } catch (NumberFormatException ignored) {
                // fall through
            }
        }
        return Math.max(1, Runtime.getRuntime().availableProcessors());
    }

    /** Number of chunks {@link #chunks} cuts {@code n} rows into. */
    public static int chunkCount(int n, int grain) {
        return n <= 0 ? 0 : (n + grain - 1) / grain;
    }

    /** Runs {@code body} over {@code [0, n)} in chunks of {@code grain} rows, in parallel. */
    public static void rows(int n, int grain, Range body) {
        chunks(n, grain, (c, a, b) -> body.run(a, b));
    }

    /** Like {@link #rows} with the chunk index (chunk c covers {@code [c*grain, min(n, (c+1)*grain))}). */
    public static void chunks(int n, int grain, Chunk body) {
        if (grain < 1) throw new IllegalArgumentException("grain " + grain);
        int count = chunkCount(n, grain);
        if (count == 0) return;
        int helpers = Math.min(THREADS, count) - 1;
        if (helpers <= 0 || WORKER.get()) {
            for (int c = 0; c < count; c++) body.run(c, c * grain, Math.min(n, (c + 1) * grain));
            return;
        }
        AtomicInteger next = new AtomicInteger();
        Runnable work = () -> {
            for (int c; (c = next.getAndIncrement()) < count; ) body.run(c, c * grain, Math.min(n, (c + 1) * grain));
        };
        Future<?>[] futures = new Future<?>[helpers];
        for (int i = 0; i < helpers; i++) {
            futures[i] = POOL.submit(() -> {
                WORKER.set(true);
                work.run();
            });
        }
        Throwable error = null;
        WORKER.set(true); // a loop nested in this one's body runs on its caller alone, as in the workers
        try {
            work.run();
        } catch (Throwable t) {
            error = t;
            next.set(count); // stop handing out chunks
        } finally {
            WORKER.set(false);
        }
        for (Future<?> f : futures) {
            try {
                f.get();
            } catch (ExecutionException e) {
                if (error == null) error = e.getCause();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                if (error == null) error = e;
            }
        }
        if (error instanceof RuntimeException re) throw re;
        if (error instanceof Error er) throw er;
        if (error != null) throw new IllegalStateException(error);
    }

    /** A grain that gives each thread several chunks of at least {@code minRows} rows. */
    public static int grain(int n, int minRows) {
        return Math.max(minRows, (n + 4 * THREADS - 1) / (4 * THREADS));
    }
}
