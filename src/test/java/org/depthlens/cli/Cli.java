package org.depthlens.cli;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

/** Runs the CLI in-process or as a child JVM, and checks what the user sees. */
final class Cli {
    private Cli() {}

    /** Exit code, stdout, and stderr (picocli's error writer and System.err, in order of writing). */
    record Result(int code, String out, String err, String[] args) {
        /** The error lines ("depthlens: error: ..." / "depthlens: usage error: ..."). */
        List<String> errorLines() {
            return err.lines().filter(l -> l.startsWith("depthlens: error:") || l.startsWith("depthlens: usage error:")
                    || l.startsWith("depthlens: internal error:") || l.startsWith("depthlens: interrupted")).toList();
        }

        String describe() {
            return "depthlens " + String.join(" ", args) + "\n  exit " + code + "\n  stdout: " + out.strip() + "\n  stderr: " + err.strip();
        }
    }

    /** {@code Main.run(args)} in this JVM; System.err (progress, warnings) is captured with the error writer. */
    static synchronized Result run(String... args) {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        PrintStream capture = new PrintStream(bytes, true, StandardCharsets.UTF_8);
        StringWriter out = new StringWriter();
        PrintStream savedErr = System.err;
        int code;
        System.setErr(capture);
        try {
            PrintWriter err = new PrintWriter(capture, true);
            code = Main.run(new PrintWriter(out, true), err, args);
            err.flush();
        } finally {
            System.setErr(savedErr);
        }
        return new Result(code, out.toString(), bytes.toString(StandardCharsets.UTF_8), args);
    }

    /**
     * Checks a failed run: the documented exit code, exactly one error line that contains every
     * fragment (the file, and the tensor / key / option), and no stack trace anywhere.
     */
    static String assertError(Result r, int code, String... fragments) {
        assertEquals(code, r.code(), () -> "exit code\n" + r.describe());
        List<String> lines = r.errorLines();
        assertEquals(1, lines.size(), () -> "expected exactly one error line\n" + r.describe());
        String line = lines.get(0);
        collect(r, line);
        for (String f : fragments) assertTrue(line.contains(f), () -> "error line lacks '" + f + "': " + line);
        assertNoStackTrace(r);
        assertTrue(r.out().isEmpty(), () -> "nothing on stdout for a failed run\n" + r.describe());
        return line;
    }

    /**
     * With {@code DEPTHLENS_ERROR_LINES=FILE} in the environment, every checked error line is appended to
     * FILE as "test<TAB>exit<TAB>line": how the messages in docs/errors.md were collected.
     */
    private static void collect(Result r, String line) {
        String file = System.getenv("DEPTHLENS_ERROR_LINES");
        if (file == null) return;
        String test = StackWalker.getInstance().walk(st -> st.map(StackWalker.StackFrame::getMethodName)
                .filter(n -> !n.startsWith("assert") && !n.startsWith("fails") && !n.startsWith("lambda") && !n.equals("collect"))
                .findFirst().orElse("?"));
        try {
            Files.writeString(Path.of(file), test + "\t" + r.code() + "\t" + line + "\n", StandardCharsets.UTF_8,
                    java.nio.file.StandardOpenOption.CREATE, java.nio.file.StandardOpenOption.APPEND);
        } catch (IOException e) {
            throw new AssertionError(e);
        }
    }

    static void assertNoStackTrace(Result r) {
        for (String l : r.err().lines().toList()) {
            if (l.startsWith("\tat ") || l.matches("^\\s+at [\\w.$]+\\(.*") || l.startsWith("Caused by:")
                    || l.matches("^(java|org|ai|picocli)\\.[\\w.$]+(Exception|Error)\\b.*")) {
                fail("stack trace on stderr without --debug:\n" + r.describe());
            }
        }
    }

    /** Neither the target nor any temporary sibling of it ({@code .NAME.tmp-*}, {@code *.partial}) exists. */
    static void assertNothingLeft(Path target) {
        assertFalse(Files.exists(target), () -> target + " exists after a failed run");
        Path parent = target.toAbsolutePath().getParent();
        if (!Files.isDirectory(parent)) return;
        try (Stream<Path> s = Files.list(parent)) {
            List<String> left = s.map(p -> p.getFileName().toString())
                    .filter(n -> n.startsWith("." + target.getFileName()) || n.endsWith(".partial") || n.contains(".tmp-"))
                    .toList();
            assertTrue(left.isEmpty(), () -> "partial output left in " + parent + ": " + left);
        } catch (IOException e) {
            throw new AssertionError(e);
        }
    }

    // ---- child JVMs ----

    /** The class path of this test JVM (surefire's real one, not its manifest-only booter jar, when known). */
    static String classPath() {
        String cp = System.getProperty("surefire.test.class.path");
        if (cp == null || cp.isBlank()) cp = System.getProperty("java.class.path");
        return cp;
    }

    static String java() {
        return Path.of(System.getProperty("java.home"), "bin", "java").toString();
    }

    /** {@code java [jvmArgs] -cp CP org.depthlens.cli.Main [args]}, with the launcher's offline settings. */
    static List<String> command(List<String> jvmArgs, List<String> args) {
        List<String> cmd = new ArrayList<>();
        cmd.add(java());
        cmd.addAll(List.of("-Xmx1g", "-XX:+UseSerialGC", "-XX:TieredStopAtLevel=1",
                "-Dorg.bytedeco.javacpp.maxphysicalbytes=0", "-Dorg.bytedeco.javacpp.maxbytes=0",
                "-Dai.djl.offline=true", "-Djava.awt.headless=true"));
        cmd.addAll(jvmArgs);
        cmd.add("-cp");
        cmd.add(classPath());
        cmd.add(Main.class.getName());
        cmd.addAll(args);
        return cmd;
    }

    static ProcessBuilder processBuilder(List<String> cmd, Path workDir) {
        ProcessBuilder pb = new ProcessBuilder(cmd);
        pb.directory(workDir.toFile());
        Map<String, String> env = pb.environment();
        env.put("OPT_OUT_TRACKING", "true");
        env.put("DJL_OFFLINE", "true");
        env.put("RUST_FLAVOR", "cpu");
        env.put("OMP_NUM_THREADS", "2");
        env.remove("JAVA_TOOL_OPTIONS");
        return pb;
    }

    /** Runs a child to completion (stdout and stderr to files in workDir), failing after {@code timeoutSec}. */
    static Result runProcess(List<String> cmd, Path workDir, long timeoutSec) throws IOException, InterruptedException {
        Path out = Files.createTempFile(workDir, "stdout", ".txt");
        Path err = Files.createTempFile(workDir, "stderr", ".txt");
        ProcessBuilder pb = processBuilder(cmd, workDir).redirectOutput(out.toFile()).redirectError(err.toFile());
        Process p = pb.start();
        if (!p.waitFor(timeoutSec, TimeUnit.SECONDS)) {
            p.destroyForcibly();
            fail("timed out after " + timeoutSec + " s: " + cmd + "\nstderr: " + Files.readString(err));
        }
        return new Result(p.exitValue(), Files.readString(out), Files.readString(err), cmd.toArray(String[]::new));
    }

}
