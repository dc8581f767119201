package org.depthlens.spark;

import java.io.IOException;
import java.io.OutputStream;
import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.jar.JarEntry;
import java.util.jar.JarOutputStream;
import java.util.stream.Stream;

/**
 * A real Spark standalone cluster on this machine: one Master and {@code workers} Worker JVMs, all bound to
 * 127.0.0.1, started from the Maven-resolved jars without a Spark distribution.
 *
 * <p>A Worker launches each executor with the class path its launcher library builds from {@code SPARK_HOME}
 * ({@code jars/*}) plus {@code SPARK_DIST_CLASSPATH} (the "Hadoop free" hook), and needs
 * {@code SPARK_SCALA_VERSION} when SPARK_HOME holds no build. So SPARK_HOME here is an empty folder with an
 * empty {@code jars/}, and SPARK_DIST_CLASSPATH is Spark's own class path from the build
 * ({@code target/spark.classpath}) without depthlens' libraries: ND4J, JavaCPP, the tokenizer and the rest reach
 * the executors only as the driver's {@code spark.jars}, as on a real cluster.
 *
 * <p>{@link #close} kills the workers' executors, the workers and the master (also from a shutdown hook).
 */
public final class StandaloneCluster implements AutoCloseable {
    /** Jars that are depthlens' own libraries, not Spark's (by Maven repository path). */
    private static final List<String> OURS = List.of("/org/nd4j/", "/org/bytedeco/", "/ai/djl/", "/info/picocli/",
            "/tech/tablesaw/", "/org/knowm/", "/de/erichseifert/", "/org/apache/pdfbox/", "/com/madgag/");

    private final Path dir;
    private final List<Process> processes = new ArrayList<>();
    private final Thread hook = new Thread(this::kill, "spark-cluster-stop");
    public final String masterUrl;

    private StandaloneCluster(Path dir, String masterUrl) {
        this.dir = dir;
        this.masterUrl = masterUrl;
    }

    private static StandaloneCluster shared;

    /**
     * One cluster for every test of this JVM (two workers of one core, 1536 MB each), started on first use and
     * stopped when the JVM exits (a shutdown hook).
     */
    public static synchronized StandaloneCluster shared() throws IOException, InterruptedException {
        if (shared == null) {
            Path dir = Files.createTempDirectory("depthlens-spark-cluster");
            shared = start(dir, 2, 1536);
        }
        return shared;
    }

    /** Starts the master and the workers (one core each) and waits until all workers registered. */
    public static StandaloneCluster start(Path dir, int workers, int workerMemoryMb) throws IOException, InterruptedException {
        Path home = Files.createDirectories(dir.resolve("spark-home/jars"));
        int port = freePort();
        StandaloneCluster c = new StandaloneCluster(dir, "spark://127.0.0.1:" + port);
        Runtime.getRuntime().addShutdownHook(c.hook);
        boolean ok = false;
        try {
            Path masterLog = dir.resolve("master.log");
            c.launch(masterLog, home.getParent(), "org.apache.spark.deploy.master.Master",
                    "--host", "127.0.0.1", "--port", Integer.toString(port), "--webui-port", Integer.toString(freePort()));
            for (int i = 0; i < workers; i++) {
                Path work = Files.createDirectories(dir.resolve("work-" + i));
                c.launch(dir.resolve("worker-" + i + ".log"), home.getParent(), "org.apache.spark.deploy.worker.Worker",
                        c.masterUrl, "--host", "127.0.0.1", "--cores", "1", "--memory", workerMemoryMb + "m",
                        "--work-dir", work.toString(), "--webui-port", Integer.toString(freePort()));
            }
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(90);
            while (count(masterLog, "Registering worker") < workers) {
                for (Process p : c.processes) {
                    if (!p.isAlive()) throw new IllegalStateException("a cluster JVM exited (" + p.exitValue() + "):\n" + c.logs());
                }
                if (System.nanoTime() > deadline) throw new IllegalStateException("workers did not register in 90 s:\n" + c.logs());
                Thread.sleep(200);
            }
            ok = true;
            return c;
        } finally {
            if (!ok) c.close();
        }
    }

    private void launch(Path log, Path sparkHome, String mainClass, String... args) throws IOException {
        List<String> cmd = new ArrayList<>();
        cmd.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
        cmd.add("-Xmx256m");
        cmd.addAll(Arrays.asList(System.getProperty("depthlens.spark.opens", "").trim().split("\\s+")));
        cmd.add("-cp");
        cmd.add(sparkClassPath());
        cmd.add(mainClass);
        cmd.addAll(List.of(args));
        ProcessBuilder pb = new ProcessBuilder(cmd).redirectErrorStream(true).redirectOutput(log.toFile());
        Map<String, String> env = pb.environment();
        env.put("SPARK_HOME", sparkHome.toString());
        env.put("SPARK_SCALA_VERSION", "2.13");
        env.put("SPARK_DIST_CLASSPATH", sparkClassPath());
        env.put("SPARK_LOCAL_IP", "127.0.0.1");
        env.put("SPARK_LOCAL_DIRS", Files.createDirectories(dir.resolve("local")).toString());
        env.put("SPARK_NO_DAEMONIZE", "1");
        processes.add(pb.start());
    }

    /** Exit code and output of a child JVM. */
    public record Run(int code, String out, String err, double seconds) {
    }

    /**
     * {@code spark-submit --master URL --class org.depthlens.cli.Main --jars OURS APP.jar ARGS} in client mode, as a
     * child JVM of Spark's own class path (what a distribution's bin/spark-submit runs); depthlens and its libraries
     * come only from the submitted jars.
     */
    public Run submit(Path log, List<String> sparkArgs, List<String> depthlensArgs, long timeoutSec)
            throws IOException, InterruptedException {
        String[] jars = applicationJars(dir).split(",", 2);
        List<String> cmd = new ArrayList<>();
        cmd.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
        cmd.add("-Xmx1g");
        cmd.addAll(Arrays.asList(System.getProperty("depthlens.spark.opens", "").trim().split("\\s+")));
        cmd.addAll(List.of("-Dorg.bytedeco.javacpp.maxbytes=0", "-Dorg.bytedeco.javacpp.maxphysicalbytes=0",
                "-Dai.djl.offline=true", "-Djava.awt.headless=true", "-cp", sparkClassPath(), "org.apache.spark.deploy.SparkSubmit",
                "--master", masterUrl, "--deploy-mode", "client", "--conf", "spark.driver.host=127.0.0.1",
                "--conf", "spark.driver.bindAddress=127.0.0.1"));
        cmd.addAll(sparkArgs);
        cmd.addAll(List.of("--class", "org.depthlens.cli.Main", "--jars", jars[1], jars[0]));
        cmd.addAll(depthlensArgs);
        Path out = Files.createTempFile(dir, "submit", ".out");
        ProcessBuilder pb = new ProcessBuilder(cmd).redirectOutput(out.toFile()).redirectError(log.toFile());
        pb.environment().put("SPARK_HOME", dir.resolve("spark-home").toString());
        pb.environment().put("SPARK_SCALA_VERSION", "2.13");
        pb.environment().put("SPARK_LOCAL_IP", "127.0.0.1");
        pb.environment().put("OPT_OUT_TRACKING", "true");
        pb.environment().put("DJL_OFFLINE", "true");
        long t0 = System.nanoTime();
        Process p = pb.start();
        processes.add(p);
        try {
            if (!p.waitFor(timeoutSec, TimeUnit.SECONDS)) {
                throw new IllegalStateException("spark-submit did not finish in " + timeoutSec + " s:\n" + logs());
            }
        } finally {
            p.descendants().forEach(ProcessHandle::destroyForcibly);
            p.destroyForcibly();
            processes.remove(p);
        }
        return new Run(p.exitValue(), Files.readString(out), Files.readString(log), (System.nanoTime() - t0) / 1e9);
    }

    /** Spark and its dependencies, without depthlens' own libraries. */
    static String sparkClassPath() throws IOException {
        return String.join(java.io.File.pathSeparator, Arrays.stream(buildClassPath()).filter(j -> OURS.stream().noneMatch(j::contains)).toList());
    }

    /** depthlens' classes as a jar plus its own libraries: what the launcher hands executors as spark.jars. */
    public static String applicationJars(Path dir) throws IOException {
        Path jar = dir.resolve("depthlens-classes.jar");
        Path classes = Path.of(System.getProperty("depthlens.root", ".")).resolve("target/classes");
        try (JarOutputStream out = new JarOutputStream(Files.newOutputStream(jar)); Stream<Path> files = Files.walk(classes)) {
            for (Path f : (Iterable<Path>) files.filter(Files::isRegularFile).sorted()::iterator) {
                out.putNextEntry(new JarEntry(classes.relativize(f).toString().replace('\\', '/')));
                Files.copy(f, out);
                out.closeEntry();
            }
        }
        List<String> jars = new ArrayList<>();
        jars.add(jar.toString());
        for (String j : buildClassPath()) {
            if (OURS.stream().anyMatch(j::contains)) jars.add(j);
        }
        return String.join(",", jars);
    }

    private static String[] buildClassPath() throws IOException {
        Path f = Path.of(System.getProperty("depthlens.root", ".")).resolve("target/spark.classpath");
        return Files.readString(f).trim().split(java.io.File.pathSeparator);
    }

    /** The PIDs of the executors the workers launched so far. */
    public List<ProcessHandle> executors() {
        List<ProcessHandle> out = new ArrayList<>();
        for (Process p : processes) {
            p.descendants().filter(h -> cmdline(h).contains("CoarseGrainedExecutorBackend")).forEach(out::add);
        }
        return out;
    }

    /** /proc/PID/cmdline (ProcessHandle.Info leaves long command lines out). */
    public static String cmdline(ProcessHandle h) {
        try {
            return new String(Files.readAllBytes(Path.of("/proc", Long.toString(h.pid()), "cmdline")), StandardCharsets.ISO_8859_1);
        } catch (IOException | RuntimeException e) {
            return h.info().commandLine().orElse("");
        }
    }

    /** The folder holding the cluster's logs, work folders and SPARK_HOME. */
    public Path dir() {
        return dir;
    }

    public String logs() {
        StringBuilder b = new StringBuilder();
        try (Stream<Path> s = Files.list(dir)) {
            for (Path f : s.filter(p -> p.toString().endsWith(".log")).sorted().toList()) {
                List<String> lines = Files.readAllLines(f, StandardCharsets.UTF_8);
                b.append("== ").append(f.getFileName()).append('\n');
                lines.subList(Math.max(0, lines.size() - 30), lines.size()).forEach(l -> b.append(l).append('\n'));
            }
        } catch (IOException e) {
            b.append(e);
        }
        return b.toString();
    }

    private static long count(Path log, String what) throws IOException {
        if (!Files.exists(log)) return 0;
        try (Stream<String> lines = Files.lines(log, StandardCharsets.ISO_8859_1)) {
            return lines.filter(l -> l.contains(what)).count();
        }
    }

    private static int freePort() throws IOException {
        try (ServerSocket s = new ServerSocket(0, 1, java.net.InetAddress.getLoopbackAddress())) {
            return s.getLocalPort();
        }
    }

    private void kill() {
        for (Process p : processes) {
            p.descendants().forEach(ProcessHandle::destroyForcibly);
            p.destroyForcibly();
        }
        for (Process p : processes) {
            try {
                p.waitFor(10, TimeUnit.SECONDS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
    }

    @Override
    public void close() {
        kill();
        try {
            Runtime.getRuntime().removeShutdownHook(hook);
        } catch (IllegalStateException e) {
            // shutting down already
        }
    }

}
