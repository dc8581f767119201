package org.depthlens.spark;

import org.apache.spark.SparkConf;
import org.apache.spark.api.java.JavaSparkContext;
import org.apache.spark.api.java.function.Function;
import org.depthlens.BadInputException;

import java.io.PrintStream;
import java.io.Serializable;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.TreeMap;

/**
 * The driver's Spark context and its stages. A stage runs one task per element, in one partition each, and
 * returns the results in task order (Spark keeps partition order in {@code collect}), so the caller merges
 * them in a fixed order whatever executor ran what, and whatever was retried.
 *
 * <p>A task that throws is retried by Spark ({@code spark.task.maxFailures}); a {@link BadInputException}
 * (a bad checkpoint: deterministic, retrying cannot help) is returned as a {@link Done} carrying its message
 * instead, so the driver can name the model or, with {@code --keep-going}, skip it.
 */
public final class SparkRun implements AutoCloseable {
    /** What one task does on its executor. */
    @FunctionalInterface
    public interface Body<T, R> extends Serializable {
        R run(T task);
    }

    /** A task's result, or the one-line message of the bad input it met. */
    public record Done<R>(R value, String badInput) implements Serializable {
        public boolean failed() {
            return badInput != null;
        }
    }

    /** Property the launcher sets: the jars (depthlens and its libraries) a cluster's executors fetch from the driver. */
    static final String JARS_PROPERTY = "depthlens.spark.jars";

    private final JavaSparkContext sc;
    private final String master;
    private final int taskCpus;
    private int stages;
    private int tasks;

    private final boolean local;

    private SparkRun(JavaSparkContext sc, int taskCpus, boolean local) {
        this.sc = sc;
        this.master = sc.master();
        this.taskCpus = taskCpus;
        this.local = local;
    }

    /** Starts the context (quietly: Spark's INFO lines go nowhere unless SLF4J is configured to show them). */
    public static SparkRun start(SparkOptions o, String appName, PrintStream log) {
        SparkConf conf = conf(o, appName, System.getProperty(JARS_PROPERTY));
        String masterUrl = conf.get("spark.master");
        checkReachable(masterUrl);
        int cpus;
        try {
            cpus = Integer.parseInt(conf.get("spark.task.cpus"));
        } catch (NumberFormatException e) {
            throw new BadInputException("--spark-conf spark.task.cpus=" + conf.get("spark.task.cpus") + ": not an integer");
        }
        boolean local = conf.get("spark.master").startsWith("local");
        // local mode: the executor is this JVM; ND4J's OpenMP kernels, if not loaded yet, get the task's threads
        if (local) org.depthlens.model.Blas.presetThreads(cpus);
        // Hadoop's "Unable to load native-hadoop library" is noise here: depthlens reads no HDFS
        System.setProperty("org.slf4j.simpleLogger.log.org.apache.hadoop.util.NativeCodeLoader", "error");
        // a context that fails to start logs its stack trace as "Error initializing SparkContext"; the one line below
        // says the same (unless the user configured that logger)
        if (System.getProperty(CONTEXT_LOG) == null) System.setProperty(CONTEXT_LOG, "off");
        JavaSparkContext sc;
        try {
            sc = new JavaSparkContext(conf);
        } catch (Exception | ExceptionInInitializerError e) {
            // Exception: Scala throws the checked SparkException unannounced (spark.task.cpus above the local threads)
            throw new BadInputException("--spark " + masterUrl + ": Spark did not start (" + firstLine(e) + ")" + culprit(o, e), e);
        }
        sc.setLogLevel("WARN");
        log.printf(Locale.ROOT, "Spark %s: master %s, %d CPU(s) per task%n", sc.version(), sc.master(), cpus);
        return new SparkRun(sc, cpus, local);
    }

    private static final String CONTEXT_LOG = "org.slf4j.simpleLogger.log.org.apache.spark.SparkContext";

    /** How long the driver tries to reach a standalone master before it says so (Spark itself retries for a minute). */
    static final int CONNECT_TIMEOUT_MS = 5000;

    /**
     * A standalone master ({@code spark://HOST:PORT,...}) must accept a TCP connection: an unreachable one is named
     * at once instead of after Spark's minute of registration retries and its "stopped SparkContext".
     */
    static void checkReachable(String master) {
        if (!master.startsWith("spark://")) return;
        String last = null;
        for (String hp : master.substring("spark://".length()).split(",")) {
            int colon = hp.lastIndexOf(':');
            if (colon <= 0) continue;
            try (java.net.Socket s = new java.net.Socket()) {
                s.connect(new java.net.InetSocketAddress(hp.substring(0, colon), Integer.parseInt(hp.substring(colon + 1))), CONNECT_TIMEOUT_MS);
                return;
            } catch (java.io.IOException | RuntimeException e) {
                last = hp + ": " + (e.getMessage() == null ? e.getClass().getSimpleName() : e.getMessage());
            }
        }
        throw new BadInputException("--spark " + master + ": cannot reach the Spark master (" + last + ", tried for at most "
                + CONNECT_TIMEOUT_MS / 1000 + " s); is it running, and is the host:port the one start-master.sh printed?");
    }

    private static String firstLine(Throwable e) {
        Throwable t = e instanceof ExceptionInInitializerError && e.getCause() != null ? e.getCause() : e;
        String m = t.getMessage() == null ? t.getClass().getSimpleName() : t.getMessage();
        return m.lines().findFirst().orElse("").strip();
    }

    /** "; check --spark-conf K=V" for the setting whose value Spark's message quotes, else "". */
    private static String culprit(SparkOptions o, Throwable e) {
        String m = firstLine(e);
        for (Map.Entry<String, String> kv : o.conf().entrySet()) {
            if (!kv.getValue().isEmpty() && m.contains(kv.getValue())) return "; check --spark-conf " + kv.getKey() + "=" + kv.getValue();
        }
        return "";
    }

    /**
     * The Spark settings: depthlens' defaults (documented in docs/guide.md "Spark"), then the user's
     * {@code --spark-conf}, which win. Settings spark-submit passed arrive as system properties and also win.
     */
    static SparkConf conf(SparkOptions o, String appName, String jars) {
        SparkConf c = new SparkConf(true); // loads spark.* system properties (spark-submit's)
        Map<String, String> d = defaults(c, o, jars);
        d.forEach((k, v) -> {
            if (!c.contains(k)) c.set(k, v);
        });
        o.conf().forEach(c::set);
        if (!c.contains("spark.master")) {
            throw new BadInputException("--spark: no master given and none from spark-submit; give --spark local[N] or "
                    + "--spark spark://HOST:PORT");
        }
        c.setAppName(c.get("spark.app.name", appName));
        int cpus;
        try {
            cpus = Integer.parseInt(c.get("spark.task.cpus", "1").strip());
        } catch (NumberFormatException e) {
            throw new BadInputException("--spark-conf spark.task.cpus=" + c.get("spark.task.cpus") + ": not an integer");
        }
        // the executors' threads follow the task's CPUs unless the user set them (spark.executorEnv.*)
        put(c, "spark.executorEnv.OMP_NUM_THREADS", Integer.toString(cpus));
        put(c, "spark.executorEnv.OPENBLAS_NUM_THREADS", "1"); // always: the task's threads run fixed single-threaded pieces (model/Gemm)
        String javaOpts = "-Ddepthlens.threads=" + cpus + " -Dorg.bytedeco.javacpp.maxbytes=0 "
                + "-Dorg.bytedeco.javacpp.maxphysicalbytes=0 -Dai.djl.offline=true -Djava.awt.headless=true";
        c.set("spark.executor.extraJavaOptions", (javaOpts + " " + c.get("spark.executor.extraJavaOptions", "")).trim());
        return c;
    }

    private static Map<String, String> defaults(SparkConf c, SparkOptions o, String jars) {
        Map<String, String> d = new TreeMap<>();
        if (!o.master().isEmpty()) d.put("spark.master", o.master());
        d.put("spark.task.cpus", "1");
        d.put("spark.ui.enabled", "false");
        d.put("spark.ui.showConsoleProgress", "false");
        // ND4J's arrays and the converted block live off the JVM heap: give containers (YARN, Kubernetes) room
        d.put("spark.executor.memoryOverhead", "2g");
        // a task's result is a few MB of partial sums at most
        d.put("spark.driver.maxResultSize", "2g");
        String master = o.master().isEmpty() ? c.get("spark.master", "") : o.master();
        if (jars != null && !jars.isBlank() && !master.startsWith("local")) d.put("spark.jars", jars);
        return d;
    }

    private static void put(SparkConf c, String key, String value) {
        if (!c.contains(key)) c.set(key, value);
    }

    /**
     * Runs {@code body} on every task, one partition each, and returns the results in task order.
     *
     * @throws BadInputException when an executor cannot load the natives or read a model path (one line from it)
     */
    public <T extends Serializable, R extends Serializable> List<Done<R>> stage(String name, List<T> taskList, Body<T, R> body) {
        if (taskList.isEmpty()) return List.of();
        stages++;
        tasks += taskList.size();
        sc.setJobDescription(name);
        try {
            return sc.parallelize(new ArrayList<>(taskList), taskList.size()).map(new Run<T, R>(body, local ? 0 : taskCpus)).collect();
        } catch (Exception e) { // Spark's SparkException is checked in Java's eyes, and undeclared
            String line = executorLine(e);
            if (line != null) throw new BadInputException(line, e);
            if (sc.sc().isStopped()) {
                throw new BadInputException("--spark " + master + ": the Spark context stopped (" + firstLine(e)
                        + "); the master gave the application no executor (no worker, or too few cores or memory for it?)", e);
            }
            if (e instanceof RuntimeException re) throw re;
            throw new IllegalStateException("Spark: " + e.getMessage().lines().findFirst().orElse(""), e);
        }
    }

    /** The executor's own one-line message in Spark's failure text, or null. */
    static String executorLine(Throwable e) {
        for (Throwable t = e; t != null; t = t.getCause()) {
            String m = t.getMessage();
            if (m == null) continue;
            int i = m.indexOf(ExecutorEnv.TAG);
            if (i >= 0) {
                String rest = m.substring(i);
                int nl = rest.indexOf('\n');
                return nl < 0 ? rest : rest.substring(0, nl);
            }
        }
        return null;
    }

    /** For provenance: e.g. "Apache Spark 4.0.4, master local[2], 4 tasks in 2 stages". */
    public String describe() {
        return String.format(Locale.ROOT, "Apache Spark %s, master %s, %d tasks in %d stage%s", sc.version(), master, tasks,
                stages, stages == 1 ? "" : "s");
    }

    public int tasks() {
        return tasks;
    }

    @Override
    public void close() {
        sc.stop();
    }

    /** The Spark function: prepares the executor once, runs the body, turns bad input into a result. */
    private static final class Run<T, R> implements Function<T, Done<R>> {
        private final Body<T, R> body;
        private final int threads;

        Run(Body<T, R> body, int threads) {
            this.body = body;
            this.threads = threads;
        }

        @Override
        public Done<R> call(T task) {
            ExecutorEnv.prepare(threads);
            try {
                return new Done<>(body.run(task), null);
            } catch (BadInputException e) {
                return new Done<>(null, e.getMessage());
            }
        }
    }
}
