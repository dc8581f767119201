package org.depthlens.cli;

import org.depthlens.ExitCodes;
import org.depthlens.Fixtures;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;
import java.util.stream.Stream;

import static org.depthlens.cli.Cli.assertError;
import static org.depthlens.cli.Cli.assertNothingLeft;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

/**
 * Faults a run meets from outside, each in a child JVM: a disk that fills up while the output is
 * written, and Ctrl-C (SIGINT) during the computation and after the output is complete but before
 * it is renamed into place. Every time: the documented exit code, one line saying what happened,
 * and nothing partial left (no metrics.json, CSV, chart, report or safetensors, no temporary).
 */
class FaultsTest {
    @TempDir
    Path tmp;

    private static final String FULL_DISK = "-Djava.nio.file.spi.DefaultFileSystemProvider=" + FullDiskFileSystemProvider.class.getName();

    private List<String> fullDisk(Path under, long bytes) {
        return List.of(FULL_DISK, "-Ddepthlens.test.fullDisk.under=" + under, "-Ddepthlens.test.fullDisk.bytes=" + bytes);
    }

    @Test
    void diskFullWhileWritingAnalyzeOutput() throws Exception {
        Path model = BadModels.llama(tmp, "llama");
        Path ids = BadModels.ids(tmp.resolve("ids.json"), 64);
        Path root = Files.createDirectories(tmp.resolve("disk"));
        Path out = root.resolve("out");
        // 48 kB: metrics.json and the CSVs fit, the charts do not
        Cli.Result r = Cli.runProcess(Cli.command(fullDisk(root, 48_000), List.of("analyze", "-m", model.toString(),
                "--ids", ids.toString(), "--window", "32", "--max-windows", "1", "--prune", "1", "-o", out.toString())), tmp, 300);
        assertError(r, ExitCodes.BAD_INPUT, out.toString(), "No space left on device", "nothing was written");
        List<String> log = r.err().lines().filter(l -> l.startsWith("fulldisk:")).toList();
        int full = indexOf(log, "fulldisk: ENOSPC");
        assertTrue(full > 0, () -> "the disk never filled up: " + log);
        // partial output existed when the disk filled: metrics.json and a CSV were complete by then
        assertTrue(log.subList(0, full).stream().anyMatch(l -> l.endsWith("/llama/metrics.json")), log::toString);
        assertTrue(log.subList(0, full).stream().anyMatch(l -> l.endsWith(".csv")), log::toString);
        assertNothingLeft(out);
        assertEquals(List.of(), list(root), "the output folder's parent is empty again");
    }

    @Test
    void diskFullWhileWritingTrace() throws Exception {
        Path model = BadModels.llama(tmp, "llama");
        Path ids = BadModels.write(tmp.resolve("ids.json"), "[[1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16]]");
        Path root = Files.createDirectories(tmp.resolve("disk"));
        Path out = root.resolve("trace.safetensors");
        // the trace is about 37 kB (resid.0..4 and logits for 16 tokens): fill the disk half-way
        Cli.Result r = Cli.runProcess(Cli.command(fullDisk(root, 16_000), List.of("trace", "-m", model.toString(),
                "--ids", ids.toString(), "-o", out.toString())), tmp, 300);
        assertError(r, ExitCodes.BAD_INPUT, out.toString(), "No space left on device", "nothing was written");
        assertTrue(r.err().contains("fulldisk: ENOSPC"), r::describe);
        assertNothingLeft(out);
        assertEquals(List.of(), list(root));
    }

    // ---- SIGINT ----

    /** {@code perl} restores SIGINT's default action first: a shell may start the test JVM with SIGINT ignored. */
    private static List<String> withDefaultSigint(List<String> cmd) {
        List<String> out = new ArrayList<>(List.of("perl", "-e", "$SIG{INT} = 'DEFAULT'; exec @ARGV or die \"exec: $!\";"));
        out.addAll(cmd);
        return out;
    }

    private static void sigint(Process p) throws Exception {
        Process k = new ProcessBuilder("kill", "-INT", Long.toString(p.pid())).inheritIO().start();
        assertEquals(0, k.waitFor(), "kill -INT");
    }

    private static void await(BooleanSupplier condition, Process p, Path err, long seconds, String what) throws Exception {
        long end = System.nanoTime() + TimeUnit.SECONDS.toNanos(seconds);
        while (!condition.getAsBoolean()) {
            if (!p.isAlive()) fail("the run ended (exit " + p.exitValue() + ") before " + what + ":\n" + Files.readString(err));
            if (System.nanoTime() > end) {
                p.destroyForcibly();
                fail("timed out waiting for " + what + ":\n" + Files.readString(err));
            }
            Thread.sleep(20);
        }
    }

    private record Run(Process process, Path stdout, Path stderr) {
        Cli.Result finish(long seconds) throws Exception {
            if (!process.waitFor(seconds, TimeUnit.SECONDS)) {
                process.destroyForcibly();
                fail("no exit " + seconds + " s after SIGINT:\n" + Files.readString(stderr));
            }
            return new Cli.Result(process.exitValue(), Files.readString(stdout), Files.readString(stderr), new String[0]);
        }
    }

    private Run start(List<String> jvmArgs, List<String> args) throws IOException {
        Path so = tmp.resolve("stdout.txt");
        Path se = tmp.resolve("stderr.txt");
        Process p = Cli.processBuilder(withDefaultSigint(Cli.command(jvmArgs, args)), tmp)
                .redirectOutput(so.toFile()).redirectError(se.toFile()).start();
        return new Run(p, so, se);
    }

    private static void assertInterrupted(Cli.Result r, Path out) {
        assertEquals(ExitCodes.INTERRUPTED, r.code(), r::describe);
        assertTrue(r.errorLines().contains("depthlens: interrupted; no output was written"), r::describe);
        assertEquals(1, r.errorLines().size(), r::describe);
        Cli.assertNoStackTrace(r);
        assertNothingLeft(out);
    }

    @Test
    void interruptedDuringComputation() throws Exception {
        // tiny-curse-24 on 16 windows of 256 tokens: long enough to be interrupted mid-pass
        Path out = tmp.resolve("out");
        Run run = start(List.of(), List.of("analyze", "-m", Fixtures.tinyCurse().resolve("pre_ln").toString(),
                "--ids", Fixtures.tinyCurse().resolve("validation_ids.json").toString(), "--max-windows", "16", "-o", out.toString()));
        await(() -> read(run.stderr()).contains("windows ("), run.process(), run.stderr(), 120, "the analysis to start");
        await(() -> tempSiblings(out).size() == 1, run.process(), run.stderr(), 10, "the temporary output folder");
        Thread.sleep(1000);
        assertTrue(run.process().isAlive(), "still computing");
        sigint(run.process());
        assertInterrupted(run.finish(60), out);
    }

    @Test
    void interruptedWithTheOutputWrittenButNotInPlace() throws Exception {
        Path model = BadModels.llama(tmp, "llama");
        Path ids = BadModels.ids(tmp.resolve("ids.json"), 64);
        Path out = tmp.resolve("out");
        // the test hook holds the finished output in its temporary folder for 60 s before the rename
        Run run = start(List.of("-Ddepthlens.test.commitDelayMs=60000"), List.of("analyze", "-m", model.toString(),
                "--ids", ids.toString(), "--window", "32", "--max-windows", "1", "--prune", "1", "-o", out.toString()));
        await(() -> tempSiblings(out).stream().anyMatch(t -> Files.isRegularFile(t.resolve("report.html"))
                        && Files.isRegularFile(t.resolve("llama/metrics.json")) && Files.isRegularFile(t.resolve("llama/per_block.csv"))),
                run.process(), run.stderr(), 180, "the complete output in the temporary folder");
        sigint(run.process());
        Cli.Result r = run.finish(60);
        assertInterrupted(r, out);
        assertTrue(r.err().contains("llama: llama, 4 blocks"), r::describe);
    }

    @Test
    void interruptedTrace() throws Exception {
        Path model = BadModels.llama(tmp, "llama");
        Path ids = BadModels.write(tmp.resolve("ids.json"), "[[1,2,3,4,5,6,7,8]]");
        Path out = tmp.resolve("trace.safetensors");
        Run run = start(List.of("-Ddepthlens.test.commitDelayMs=60000"), List.of("trace", "-m", model.toString(),
                "--ids", ids.toString(), "-o", out.toString()));
        await(() -> tempSiblings(out).stream().anyMatch(t -> Files.isRegularFile(t.resolve("trace.safetensors"))),
                run.process(), run.stderr(), 180, "the complete trace in the temporary folder");
        sigint(run.process());
        assertInterrupted(run.finish(60), out);
    }

    // ---- helpers ----

    private static int indexOf(List<String> lines, String prefix) {
        for (int i = 0; i < lines.size(); i++) if (lines.get(i).startsWith(prefix)) return i;
        return -1;
    }

    private static String read(Path p) {
        try {
            return Files.readString(p);
        } catch (IOException e) {
            return "";
        }
    }

    private static List<Path> tempSiblings(Path target) {
        try (Stream<Path> s = Files.list(target.getParent())) {
            return s.filter(p -> p.getFileName().toString().startsWith("." + target.getFileName() + ".tmp-")).toList();
        } catch (IOException e) {
            return List.of();
        }
    }

    private static List<String> list(Path dir) throws IOException {
        try (Stream<Path> s = Files.list(dir)) {
            return s.map(p -> p.getFileName().toString()).toList();
        }
    }
}
