package org.depthlens.cli;

import org.depthlens.Fixtures;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;

/**
 * The same analysis in two child JVMs that group the work as differently as they can: 1 thread and all windows in
 * one batch, against 2 threads and one window per batch (a memory budget below two windows). Every number of
 * metrics.json is bitwise the same, and so every CSV, chart and the report (docs/design.md, "Same numbers whatever
 * the grouping"). Run with the kernel depthlens picks for this CPU and, where the CPU has AVX2, with OpenBLAS'
 * Haswell kernels forced (the environment CI sets), whose results depend most on a product's shape and threads.
 */
class DeterminismTest {
    @Test
    void oneThreadOneBatchEqualsTwoThreadsOneWindowPerBatch(@TempDir Path tmp) throws Exception {
        List<String> kernels = new ArrayList<>();
        kernels.add(null);
        if (cpuFlags().containsAll(List.of("avx2", "fma")) && !"Haswell".equals(System.getenv("OPENBLAS_CORETYPE"))) {
            kernels.add("Haswell");
        }
        for (String kernel : kernels) {
            Path a = run(tmp, "one-" + kernel, 1, null, kernel);
            // the planner holds 11136 floats per token here (the stream, 24 removal branches, 8 of working room, every
            // depth for the probe sums and the lens, the Jacobian's 4): 3 MB is 67 tokens, one 64-token window a batch
            Path b = run(tmp, "two-" + kernel, 2, 3_000_000L, kernel);
            SameOutputs.assertSame(a, b, false);
        }
    }

    private static Path run(Path tmp, String name, int threads, Long budget, String kernel) throws Exception {
        Path tc = Fixtures.tinyCurse();
        Path out = tmp.resolve(name);
        List<String> jvm = new ArrayList<>(List.of("-Ddepthlens.threads=" + threads));
        if (budget != null) jvm.add("-Ddepthlens.memoryBudget=" + budget);
        List<String> args = List.of("analyze", "-m", tc.resolve("lns-step141").toString(), "--ids",
                tc.resolve("validation_ids.json").toString(), "--window", "64", "--max-windows", "6", "--prune", "2",
                "-o", out.toString());
        ProcessBuilder pb = Cli.processBuilder(Cli.command(jvm, args), tmp);
        Map<String, String> env = pb.environment();
        env.put("OMP_NUM_THREADS", Integer.toString(threads));
        if (kernel == null) env.remove("OPENBLAS_CORETYPE");
        else env.put("OPENBLAS_CORETYPE", kernel);
        Path log = tmp.resolve(name + ".log");
        Process p = pb.redirectErrorStream(true).redirectOutput(log.toFile()).start();
        if (!p.waitFor(600, java.util.concurrent.TimeUnit.SECONDS)) {
            p.destroyForcibly();
            throw new AssertionError(name + " timed out:\n" + Files.readString(log));
        }
        String text = Files.readString(log);
        assertEquals(0, p.exitValue(), () -> name + ":\n" + text);
        return out;
    }

    private static java.util.Set<String> cpuFlags() {
        try {
            for (String line : Files.readAllLines(Path.of("/proc/cpuinfo"))) {
                if (line.startsWith("flags")) return java.util.Set.of(line.substring(line.indexOf(':') + 1).trim().split("\\s+"));
            }
        } catch (java.io.IOException e) {
            // not Linux: no forced kernel
        }
        return java.util.Set.of();
    }
}
