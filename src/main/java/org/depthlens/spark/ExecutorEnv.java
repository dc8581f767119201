package org.depthlens.spark;

import org.depthlens.model.Blas;

import java.net.InetAddress;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * What every task does first on its executor: sets depthlens' and OpenBLAS' thread counts to the task's CPUs
 * (before ND4J loads), chooses OpenBLAS' kernel as on one machine ({@link Blas}), loads ND4J's natives, and checks
 * that the model folder is readable there. Failures become one line naming the executor's host, which the driver
 * prints as the run's error.
 */
public final class ExecutorEnv {
    /** Prefix of every executor-side message the driver picks out of Spark's failure text. */
    public static final String TAG = "depthlens-executor ";

    private static volatile boolean ready;

    private ExecutorEnv() {}

    /**
     * Once per executor JVM. {@code threads}: depthlens' and OpenMP's threads per task, set unless the user set
     * them; 0 in local mode, where the executor is the driver's own JVM and its thread settings stay as they are.
     * OpenBLAS runs single-threaded everywhere ({@link Blas}); the numbers do not depend on any of these counts.
     */
    static synchronized void prepare(int threads) {
        if (ready) return;
        try {
            if (threads > 0) {
                if (System.getProperty("depthlens.threads") == null) System.setProperty("depthlens.threads", Integer.toString(threads));
                Blas.presetThreads(threads);
            }
            Blas.configure();
            org.nd4j.linalg.factory.Nd4j.create(1).close();
        } catch (Throwable t) { // NoClassDefFoundError (jars missing), UnsatisfiedLinkError, ND4J's "no backend" exception
            throw new IllegalStateException(TAG + host() + ": cannot load ND4J's native libraries (" + oneLine(t)
                    + "); every executor needs depthlens' jars: spark-submit --jars target/lib/*.jar, or spark.jars", t);
        }
        ready = true;
    }

    /** A task that only checks that {@code dir} is readable here (tests: the message a missing model folder gives). */
    public static final class CheckModel implements SparkRun.Body<String, String> {
        @Override
        public String run(String dir) {
            checkModel(dir);
            return dir;
        }
    }

    /** The model folder as this executor sees it. */
    static void checkModel(String dir) {
        Path config = Path.of(dir).resolve("config.json");
        if (!Files.isReadable(config)) {
            throw new IllegalStateException(TAG + host() + ": cannot read the model folder " + dir + " (no readable "
                    + "config.json there); every executor must see it at the same path: a shared file system, or a copy "
                    + "of the folder on each node");
        }
    }

    /** A task that reports where it ran: "host pid P, N threads, core ..." (for tests and the first line of a run). */
    public static final class Describe implements SparkRun.Body<Integer, String> {
        @Override
        public String run(Integer task) {
            return host() + " pid " + ProcessHandle.current().pid() + ", " + org.depthlens.util.Par.threads() + " threads, "
                    + Blas.configure().describe() + ", OpenBLAS threads " + Blas.getenv("OPENBLAS_NUM_THREADS");
        }
    }

    static String host() {
        try {
            return InetAddress.getLocalHost().getHostName();
        } catch (Exception e) {
            return "?";
        }
    }

    static String oneLine(Throwable t) {
        String m = t.getClass().getSimpleName() + (t.getMessage() == null ? "" : ": " + t.getMessage());
        return m.replaceAll("\\s*\\R\\s*", " ").trim();
    }
}
