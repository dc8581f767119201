package org.depthlens.cli;

import org.depthlens.ExitCodes;
import org.depthlens.Fixtures;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

/** Ctrl-C during {@code analyze --spark local[2]}: exit 130, no partial output, no leftover temporary folder. */
class SparkInterruptTest {
    @Test
    void interruptedWhileTasksRun(@TempDir Path tmp) throws Exception {
        Path out = tmp.resolve("out");
        Path tc = Fixtures.tinyCurse();
        List<String> cmd = new ArrayList<>(List.of("perl", "-e", "$SIG{INT} = 'DEFAULT'; exec @ARGV or die \"exec: $!\";",
                Cli.java(), "-Xmx1g", "-Dorg.bytedeco.javacpp.maxphysicalbytes=0", "-Dorg.bytedeco.javacpp.maxbytes=0",
                "-Dai.djl.offline=true", "-Djava.awt.headless=true"));
        cmd.addAll(Arrays.asList(System.getProperty("depthlens.spark.opens", "").trim().split("\\s+")));
        cmd.addAll(List.of("-cp", Cli.classPath(), Main.class.getName(), "analyze", "-m", tc.resolve("pre_ln").toString(), "-m",
                tc.resolve("lns").toString(), "--ids", tc.resolve("validation_ids.json").toString(), "--max-windows", "16",
                "-o", out.toString(), "--spark", "local[2]"));
        Path err = tmp.resolve("stderr.txt");
        Process p = Cli.processBuilder(cmd, tmp).redirectOutput(tmp.resolve("stdout.txt").toFile()).redirectError(err.toFile()).start();
        try {
            long end = System.nanoTime() + TimeUnit.SECONDS.toNanos(120);
            while (!Files.readString(err).contains("Spark 4.0.4: master local[2]")) {
                if (!p.isAlive()) fail("ended (exit " + p.exitValue() + ") before Spark started:\n" + Files.readString(err));
                if (System.nanoTime() > end) fail("Spark did not start:\n" + Files.readString(err));
                Thread.sleep(50);
            }
            Thread.sleep(3000); // tasks are running: two models, each a 16-window pass
            assertTrue(p.isAlive(), "still computing");
            assertEquals(1, siblings(out).size(), "the temporary output folder exists");
            assertEquals(0, new ProcessBuilder("kill", "-INT", Long.toString(p.pid())).inheritIO().start().waitFor());
            assertTrue(p.waitFor(60, TimeUnit.SECONDS), "exits after SIGINT");
            String e = Files.readString(err);
            assertEquals(ExitCodes.INTERRUPTED, p.exitValue(), e);
            assertTrue(e.contains("depthlens: interrupted; no output was written"), e);
            Cli.assertNothingLeft(out);
            assertEquals(List.of(), siblings(out));
        } finally {
            p.descendants().forEach(ProcessHandle::destroyForcibly);
            p.destroyForcibly();
        }
    }

    private static List<Path> siblings(Path target) throws Exception {
        try (Stream<Path> s = Files.list(target.getParent())) {
            return s.filter(x -> x.getFileName().toString().startsWith("." + target.getFileName() + ".tmp-")).toList();
        }
    }
}
