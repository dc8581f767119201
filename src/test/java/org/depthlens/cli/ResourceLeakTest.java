package org.depthlens.cli;

import org.bytedeco.javacpp.Pointer;
import org.depthlens.Fixtures;
import org.depthlens.util.AtomicDir;
import org.junit.jupiter.api.Test;
import org.nd4j.linalg.api.buffer.DataBuffer;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Resource safety of {@code analyze} run again and again in one JVM: mapped weight files and file
 * descriptors are released, no temporary output is left, and off-heap memory does not grow.
 *
 * <p>Bounds, after warm-up runs (ND4J, OpenBLAS, DJL and the chart fonts initialise once), measured
 * after a GC, per further run of analyze + tokenize: at most {@link #ND4J_BOUND} more bytes in live
 * ND4J native buffers (every buffer ND4J registers with its deallocator service, summed: the ND4J
 * and JavaCPP byte counters do not see nd4j-native's data buffers, the test checks this one does),
 * and at most {@link #RSS_BOUND} more resident memory ({@code Pointer.physicalBytes()}: it also sees
 * malloc arenas, JIT code and the tokenizer's Rust heap, hence the looser bound).
 */
class ResourceLeakTest {
    /** ND4J native buffer bytes a repeated run may leave alive. */
    static final long ND4J_BOUND = 1L << 20;
    /** Resident bytes a repeated run may add. */
    static final long RSS_BOUND = 32L << 20;

    @TempDir
    Path tmp;

    private record Usage(long nd4jBytes, long rss, int fds, List<String> ourFds, List<String> ourMaps) {
    }

    /** Bytes of the ND4J data buffers still registered with the deallocator service (alive or not yet freed). */
    @SuppressWarnings("unchecked")
    static long nd4j() {
        try {
            Object service = Nd4j.getDeallocatorService();
            java.lang.reflect.Field f = service.getClass().getDeclaredField("referenceMap");
            f.setAccessible(true);
            long bytes = 0;
            for (Object ref : ((Map<String, ?>) f.get(service)).values()) {
                Object referent = ((java.lang.ref.Reference<?>) ref).get();
                if (referent instanceof DataBuffer b) bytes += b.length() * b.getElementSize();
                else bytes += 1; // collected, deallocation pending: still count it
            }
            return bytes;
        } catch (ReflectiveOperationException e) {
            throw new AssertionError("ND4J's DeallocatorService changed: " + e);
        }
    }

    private static void gc() throws InterruptedException {
        for (int i = 0; i < 3; i++) {
            System.gc();
            Thread.sleep(200); // the deallocator threads free what the GC found
        }
    }

    private Usage usage(Path... ours) throws Exception {
        gc();
        List<String> fds = new ArrayList<>();
        int total = 0;
        try (Stream<Path> s = Files.list(Path.of("/proc/self/fd"))) {
            for (Path fd : (Iterable<Path>) s::iterator) {
                total++;
                try {
                    String target = Files.readSymbolicLink(fd).toString();
                    for (Path p : ours) if (target.startsWith(p.toString())) fds.add(target);
                } catch (IOException gone) {
                    // the fd of the listing itself
                }
            }
        }
        List<String> maps = new ArrayList<>();
        for (String line : Files.readAllLines(Path.of("/proc/self/maps"), StandardCharsets.UTF_8)) {
            for (Path p : ours) if (line.contains(p.toString())) maps.add(line);
        }
        return new Usage(nd4j(), Pointer.physicalBytes(), total, fds, maps);
    }

    @Test
    void theNd4jCounterSeesNativeArrays() throws Exception {
        gc();
        long before = nd4j();
        INDArray a = Nd4j.create(DataType.FLOAT, 4L << 20);
        long during = nd4j();
        assertTrue(during - before >= 16L << 20, "a 16 MB array raised the counter by " + (during - before));
        a = null;
        gc();
        assertTrue(nd4j() - before < 1L << 20, "the counter drops when the array is freed");
    }

    @Test
    void analyzeTwiceInOneJvmLeaksNothing() throws Exception {
        Path model = BadModels.llama(tmp, "llama");
        Path ids = BadModels.ids(tmp.resolve("ids.json"), 512);
        Path outs = Files.createDirectories(tmp.resolve("outs"));
        Path tok = Files.createDirectories(tmp.resolve("tok"));
        for (String f : List.of("config.json", "tokenizer.json")) Files.copy(Fixtures.tinyCurse().resolve("pre_ln").resolve(f), tok.resolve(f));
        Path text = BadModels.write(tmp.resolve("text.txt"),
                Files.readString(Fixtures.tinyCurse().resolve("validation.txt"), StandardCharsets.UTF_8).substring(0, 20000));

        Runnable run = () -> {
            String out = outs.resolve("run" + runs++).toString();
            Cli.Result r = Cli.run("analyze", "-m", model.toString(), "--ids", ids.toString(), "--window", "64", "--prune", "2", "-o", out);
            assertEquals(0, r.code(), r::describe);
            Cli.Result t = Cli.run("tokenize", "-m", tok.toString(), "--text", text.toString());
            assertEquals(0, t.code(), t::describe);
        };
        run.run(); // warm-up
        run.run();
        Usage base = usage(model, outs, tok);
        List<Usage> after = new ArrayList<>();
        for (int i = 0; i < 2; i++) {
            run.run();
            after.add(usage(model, outs, tok));
        }
        // a run that fails (NaN in a weight, found in block 2 mid-pass) releases everything too
        BadModels.rewrite(model, w -> w.get("model.layers.2.mlp.up_proj.weight")[3] = Float.NaN);
        Cli.Result fail = Cli.run("analyze", "-m", model.toString(), "--ids", ids.toString(), "--window", "64", "-o", outs.resolve("failed").toString());
        assertEquals(3, fail.code(), fail::describe);
        Usage end = usage(model, outs, tok);

        System.out.printf("ResourceLeakTest: nd4j %d -> %s -> %d bytes; rss %d -> %s -> %d; fds %d -> %s -> %d%n",
                base.nd4jBytes(), after.stream().map(u -> Long.toString(u.nd4jBytes())).toList(), end.nd4jBytes(),
                base.rss(), after.stream().map(u -> Long.toString(u.rss())).toList(), end.rss(),
                base.fds(), after.stream().map(u -> Integer.toString(u.fds())).toList(), end.fds());

        for (Usage u : List.of(base, after.get(0), after.get(1), end)) {
            assertEquals(List.of(), u.ourFds(), "open file descriptors on the model, tokenizer or outputs");
            assertEquals(List.of(), u.ourMaps(), "mappings of the model's weights (or outputs) still in place");
        }
        Usage last = after.get(1);
        long perRunNd4j = (last.nd4jBytes() - base.nd4jBytes()) / 2;
        long perRunRss = (last.rss() - base.rss()) / 2;
        assertTrue(perRunNd4j <= ND4J_BOUND, "ND4J native memory grew " + perRunNd4j + " bytes per run (bound " + ND4J_BOUND + ")");
        assertTrue(perRunRss <= RSS_BOUND, "resident memory grew " + perRunRss + " bytes per run (bound " + RSS_BOUND + ")");
        assertTrue(end.nd4jBytes() - base.nd4jBytes() <= 2 * ND4J_BOUND, "after the failed run: " + end.nd4jBytes());
        assertTrue(end.fds() - base.fds() <= 2, "file descriptors grew from " + base.fds() + " to " + end.fds());
        assertEquals(0, AtomicDir.openCount(), "open AtomicDirs");
        try (Stream<Path> s = Files.list(outs)) {
            List<String> names = s.map(p -> p.getFileName().toString()).sorted().toList();
            assertEquals(List.of("run0", "run1", "run2", "run3"), names, "no temporary folder left beside the outputs");
        }
    }

    private int runs;
}
