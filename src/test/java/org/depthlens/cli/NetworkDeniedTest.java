package org.depthlens.cli;

import org.depthlens.Fixtures;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.net.InetAddress;
import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

/**
 * No network at run time: {@code analyze} runs end to end (tokenizer through DJL, ND4J, charts,
 * report) with networking denied, twice:
 * <ol>
 *   <li>in a new network namespace ({@code unshare -n}: no interface but a down loopback), with a
 *       fresh DJL cache so the tokenizer's native library must come from the jar, not a download;</li>
 *   <li>in a JVM whose Java code may not open, resolve or accept any socket (a SecurityManager
 *       refusing every SocketPermission): the fallback where namespaces are not permitted.</li>
 * </ol>
 * Each has a negative control: a probe in the same sandbox cannot reach a server this test runs on
 * 127.0.0.1, which the same probe outside the sandbox can. Under {@code CI=true} the unshare variant
 * fails instead of being skipped when {@code unshare -n} is not permitted.
 */
class NetworkDeniedTest {
    @TempDir
    Path tmp;

    private List<String> analyzeArgs(Path out) throws Exception {
        // a few kB of the shared validation text: one 64-token window
        String text = Files.readString(Fixtures.tinyCurse().resolve("validation.txt"), StandardCharsets.UTF_8).substring(0, 4000);
        Path t = BadModels.write(tmp.resolve("text.txt"), text);
        return List.of("analyze", "-m", Fixtures.tinyCurse().resolve("pre_ln").toString(), "--text", t.toString(),
                "--window", "64", "--max-windows", "1", "--prune", "1", "-o", out.toString());
    }

    private static boolean unshareWorks() {
        try {
            Process p = new ProcessBuilder("unshare", "-n", "true").redirectErrorStream(true).start();
            return p.waitFor(20, TimeUnit.SECONDS) && p.exitValue() == 0;
        } catch (Exception e) {
            return false;
        }
    }

    /** Runs NetProbe against a server on 127.0.0.1, with {@code prefix} before java and {@code jvmArgs} after it. */
    private String probe(List<String> prefix, List<String> jvmArgs, String mainWrapper) throws Exception {
        try (ServerSocket server = new ServerSocket(0, 50, InetAddress.getLoopbackAddress())) {
            Thread acceptor = new Thread(() -> {
                try {
                    while (true) server.accept().close();
                } catch (Exception ignored) {
                    // closed
                }
            });
            acceptor.setDaemon(true);
            acceptor.start();
            List<String> cmd = new ArrayList<>(prefix);
            cmd.add(Cli.java());
            cmd.addAll(jvmArgs);
            cmd.addAll(List.of("-cp", Cli.classPath()));
            if (mainWrapper != null) cmd.add(mainWrapper);
            cmd.addAll(List.of(NetProbe.class.getName(), Integer.toString(server.getLocalPort())));
            Cli.Result r = Cli.runProcess(cmd, tmp, 60);
            return r.out();
        }
    }

    @Test
    void analyzeInANetworkNamespace() throws Exception {
        boolean ci = "true".equalsIgnoreCase(System.getenv("CI"));
        if (!unshareWorks()) {
            if (ci) fail("CI=true but 'unshare -n' is not permitted here; the JVM-level variant still runs, but give CI the capability");
            Assumptions.abort("'unshare -n' is not permitted here (see analyzeWithJavaSocketsDenied)");
        }
        // negative control: the probe reaches our loopback server normally, and not from inside the namespace
        assertTrue(probe(List.of(), List.of(), null).contains("connect ok"), "control: the probe connects outside the namespace");
        String inside = probe(List.of("unshare", "-n", "--"), List.of(), null);
        assertTrue(inside.contains("connect denied"), inside);
        assertTrue(inside.contains("resolve denied"), inside);

        Path out = tmp.resolve("out");
        List<String> cmd = new ArrayList<>(List.of("unshare", "-n", "--"));
        // a fresh DJL cache: the tokenizer's native library must come from the jar
        cmd.addAll(Cli.command(List.of("-DDJL_CACHE_DIR=" + tmp.resolve("djl-cache")), analyzeArgs(out)));
        ProcessBuilder pb = Cli.processBuilder(cmd, tmp);
        pb.environment().put("DJL_CACHE_DIR", tmp.resolve("djl-cache").toString());
        Cli.Result r = run(pb);
        assertEquals(0, r.code(), r::describe);
        assertTrue(Files.isRegularFile(out.resolve("pre_ln/metrics.json")), r::describe);
        assertTrue(Files.isRegularFile(out.resolve("report.html")), r::describe);
        Cli.assertNoStackTrace(r);
    }

    @Test
    void analyzeWithJavaSocketsDenied() throws Exception {
        List<String> deny = List.of("-Djava.security.manager=allow");
        String probe = probe(List.of(), deny, NoNetworkMain.class.getName());
        assertTrue(probe.contains("connect denied") && probe.contains("network denied by test"), probe);
        assertTrue(probe.contains("resolve denied") && probe.contains("http denied"), probe);

        Path out = tmp.resolve("out");
        List<String> cmd = Cli.command(deny, List.of());
        // java [opts] -cp CP org.depthlens.cli.Main  ->  java [opts] -cp CP NoNetworkMain org.depthlens.cli.Main ARGS
        int main = cmd.indexOf(Main.class.getName());
        cmd = new ArrayList<>(cmd);
        cmd.add(main, NoNetworkMain.class.getName());
        cmd.addAll(analyzeArgs(out));
        Cli.Result r = run(Cli.processBuilder(cmd, tmp));
        assertEquals(0, r.code(), r::describe);
        assertTrue(!r.err().contains("network denied by test"), r::describe);
        assertTrue(Files.isRegularFile(out.resolve("pre_ln/metrics.json")), r::describe);
        assertTrue(Files.isRegularFile(out.resolve("report.html")), r::describe);
    }

    private Cli.Result run(ProcessBuilder pb) throws Exception {
        Path so = Files.createTempFile(tmp, "out", ".txt");
        Path se = Files.createTempFile(tmp, "err", ".txt");
        Process p = pb.redirectOutput(so.toFile()).redirectError(se.toFile()).start();
        if (!p.waitFor(300, TimeUnit.SECONDS)) {
            p.destroyForcibly();
            fail("timed out: " + Files.readString(se));
        }
        return new Cli.Result(p.exitValue(), Files.readString(so), Files.readString(se), pb.command().toArray(String[]::new));
    }
}
