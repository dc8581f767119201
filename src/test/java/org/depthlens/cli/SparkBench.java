package org.depthlens.cli;

import org.depthlens.Fixtures;
import org.depthlens.spark.StandaloneCluster;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;

/**
 * bench/README.md's Spark table: a trajectory of tiny-curse checkpoints analysed by one process, by
 * {@code --spark local[2]} and by spark-submit on a standalone cluster of two one-core workers, rounds
 * interleaved (the machine is shared). Not part of the suite:
 * {@code mvn -o test -Dtest=SparkBench -Ddepthlens.bench.rounds=2} ({@code -Ddepthlens.bench.modes=standalone,single}
 * for a subset).
 */
class SparkBench {
    @Test
    void trajectory(@TempDir Path dir) throws Exception {
        int rounds = Integer.getInteger("depthlens.bench.rounds", 2);
        int windows = Integer.getInteger("depthlens.bench.windows", 16);
        Path tc = Fixtures.tinyCurse();
        List<String> models = new ArrayList<>();
        for (String m : List.of("pre_ln-step141", "lns-step141", "pre_ln", "lns")) models.addAll(List.of("-m", tc.resolve(m).toString()));
        List<String> common = new ArrayList<>(List.of("analyze"));
        common.addAll(models);
        common.addAll(List.of("--ids", tc.resolve("validation_ids.json").toString(), "--window", "256", "--max-windows",
                Integer.toString(windows), "--force"));
        String opens = System.getProperty("depthlens.spark.opens", "");
        List<String> rows = new ArrayList<>();
        long t0 = System.nanoTime();
        try (StandaloneCluster c = StandaloneCluster.start(dir.resolve("cluster"), 2, 2048)) {
            rows.add(String.format(Locale.ROOT, "cluster start (master + 2 workers): %.1f s", (System.nanoTime() - t0) / 1e9));
            for (int round = 1; round <= rounds; round++) {
                for (String mode : System.getProperty("depthlens.bench.modes", "single,local[2],standalone").split(",")) {
                    Path out = dir.resolve("out-" + mode.replaceAll("\\W", ""));
                    List<String> args = new ArrayList<>(common);
                    args.addAll(List.of("-o", out.toString()));
                    double s;
                    String load = Files.readString(Path.of("/proc/loadavg")).split(" ")[0];
                    if (mode.equals("standalone")) {
                        args.add("--spark");
                        StandaloneCluster.Run r = c.submit(dir.resolve("submit.log"), List.of(), args, 1800);
                        assertEquals(0, r.code(), r.err());
                        s = r.seconds();
                    } else {
                        if (!mode.equals("single")) args.addAll(List.of("--spark", mode));
                        s = child(args, opens, dir);
                    }
                    rows.add(String.format(Locale.ROOT, "round %d  %-10s  %6.1f s  (load average before: %s)", round, mode, s, load));
                    System.err.println(rows.get(rows.size() - 1));
                }
            }
        }
        System.err.println("SparkBench, " + windows + " windows x 256 tokens, 4 checkpoints:\n" + String.join("\n", rows));
    }

    /** The CLI in a child JVM with the launcher's settings; returns wall seconds. */
    private static double child(List<String> args, String opens, Path dir) throws Exception {
        List<String> cmd = new ArrayList<>(List.of(Cli.java(), "-XX:MaxRAMPercentage=40", "-Dorg.bytedeco.javacpp.maxphysicalbytes=0",
                "-Dorg.bytedeco.javacpp.maxbytes=0", "-Dai.djl.offline=true", "-Djava.awt.headless=true"));
        if (args.contains("--spark")) cmd.addAll(Arrays.asList(opens.trim().split("\\s+")));
        cmd.addAll(List.of("-cp", Cli.classPath(), Main.class.getName()));
        cmd.addAll(args);
        ProcessBuilder pb = new ProcessBuilder(cmd).redirectErrorStream(true).redirectOutput(dir.resolve("child.log").toFile());
        pb.environment().put("OPT_OUT_TRACKING", "true");
        pb.environment().put("DJL_OFFLINE", "true");
        pb.environment().remove("OMP_NUM_THREADS"); // as a user's shell: the launcher sets none
        long t0 = System.nanoTime();
        Process p = pb.start();
        if (!p.waitFor(1800, TimeUnit.SECONDS)) {
            p.destroyForcibly();
            throw new IllegalStateException("timeout");
        }
        assertEquals(0, p.exitValue(), () -> read(dir.resolve("child.log")));
        return (System.nanoTime() - t0) / 1e9;
    }

    private static String read(Path p) {
        try {
            return Files.readString(p);
        } catch (Exception e) {
            return e.toString();
        }
    }
}
