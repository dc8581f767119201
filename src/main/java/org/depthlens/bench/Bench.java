package org.depthlens.bench;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import org.depthlens.analysis.Analyzer;
import org.depthlens.util.Progress;
import org.depthlens.analysis.Windows;
import org.depthlens.model.family.Architecture;
import org.depthlens.model.BlockForward;
import org.depthlens.model.Gemm;
import org.depthlens.model.family.BlockSpec;
import org.depthlens.model.BlockWeights;
import org.depthlens.model.Model;
import org.depthlens.util.Par;
import org.depthlens.model.RopeTables;
import org.depthlens.model.Scratch;
import org.depthlens.model.SyntheticCheckpoint;
import org.depthlens.model.family.Families;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.OutputStreamWriter;
import java.io.PrintStream;
import java.io.Writer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * The measurements of {@code depthlens bench}: sgemm through ND4J (the roofline), one decoder block of
 * a real shape through the toolkit's own forward pass, the same block in PyTorch (a Python subprocess
 * driven line by line, so both run in the same process lifetime and in interleaved rounds), and a
 * full analysis of a checkpoint. Every figure is a median; the machine's load average is recorded.
 */
public final class Bench {
    private static final ObjectMapper JSON = new ObjectMapper();

    private final PrintStream log;
    private final ObjectNode result = JSON.createObjectNode();

    public Bench(PrintStream log) {
        this.log = log;
        result.put("threads", Par.threads());
        result.put("omp_num_threads", String.valueOf(System.getenv("OMP_NUM_THREADS")));
        result.put("cpus", Runtime.getRuntime().availableProcessors());
        result.put("load_before", loadAverage());
        result.put("blas", "OpenBLAS " + org.depthlens.model.Blas.configure().describe());
        result.put("openblas_thread_timeout", String.valueOf(org.depthlens.model.Blas.threadTimeout()));
    }

    public ObjectNode result() {
        result.put("load_after", loadAverage());
        return result;
    }

    /** The 1-minute load average (from /proc/loadavg), or -1. */
    public static double loadAverage() {
        try {
            return Double.parseDouble(Files.readString(Path.of("/proc/loadavg")).split("\\s+")[0]);
        } catch (IOException | RuntimeException e) {
            return -1;
        }
    }

    /**
     * (1) sgemm y = x W^T into preallocated memory, HF layout [out, in], for each (m, k, n): once as one OpenBLAS call
     * on all threads (the machine's roofline), once as depthlens runs every product, in fixed single-threaded pieces
     * on its own threads ({@link Gemm}, the price of the same numbers whatever the grouping).
     */
    public void sgemm(int runs, long[][] shapes) {
        ObjectNode out = result.putObject("sgemm");
        ObjectNode pieces = result.putObject("sgemm_pieces");
        for (long[] s : shapes) {
            long m = s[0], k = s[1], n = s[2];
            INDArray x = Nd4j.rand(DataType.FLOAT, m, k), w = Nd4j.rand(DataType.FLOAT, n, k), c = Nd4j.create(DataType.FLOAT, m, n);
            double flops = 2.0 * m * n * k;
            String key = m + "x" + k + "x" + n;
            double[] one = new double[runs], cut = new double[runs];
            Gemm.blasThreads(org.depthlens.util.Par.threads());
            try {
                for (int i = 0; i < 2; i++) Nd4j.gemm(x, w, c, false, true, 1.0, 0.0);
                for (int r = 0; r < runs; r++) {
                    long t0 = System.nanoTime();
                    Nd4j.gemm(x, w, c, false, true, 1.0, 0.0);
                    one[r] = flops / (System.nanoTime() - t0);
                }
            } finally {
                Gemm.blasThreads(1);
            }
            Gemm.Segments seq = Gemm.Segments.single((int) m);
            for (int i = 0; i < 2; i++) Gemm.xwT(x, w, c, seq);
            for (int r = 0; r < runs; r++) {
                long t0 = System.nanoTime();
                Gemm.xwT(x, w, c, seq);
                cut[r] = flops / (System.nanoTime() - t0);
            }
            out.put(key, median(one));
            pieces.put(key, median(cut));
            log.printf(Locale.ROOT, "sgemm %-16s %7.1f GFLOP/s one call (median of %d; min %.1f max %.1f), %7.1f in depthlens' pieces%n",
                    key, median(one), runs, min(one), max(one), median(cut));
        }
    }

    /** A block of shape {@code shapeName} at T = seqLen with random weights, ready to run. */
    public static final class BlockCase {
        final Architecture arch;
        final BlockWeights weights;
        final INDArray x;
        final RopeTables rope;
        final int seqLen;

        BlockCase(String shapeName, int seqLen, long seed) throws IOException {
            SyntheticCheckpoint.Shape shape = SyntheticCheckpoint.SHAPES.get(shapeName);
            if (shape == null) throw new IllegalArgumentException("unknown shape " + shapeName);
            JsonNode cfg = JSON.valueToTree(shape.config());
            arch = Families.describe(Path.of(shapeName + "/config.json"), cfg, Architecture.LnsMode.AUTO);
            if (!(arch.attention() instanceof org.depthlens.model.family.AttentionSpec.Gqa g)
                    || !(arch.blocks().get(0).mlp() instanceof org.depthlens.model.family.MlpSpec.Dense d)) {
                throw new IllegalArgumentException("the block benchmark runs dense GQA shapes, not " + shapeName);
            }
            this.seqLen = seqLen;
            int h = arch.hidden();
            long q = (long) g.heads() * g.headDim(), kv = (long) g.kvHeads() * g.headDim();
            Nd4j.getRandom().setSeed(seed);
            Map<String, INDArray> roles = new LinkedHashMap<>();
            roles.put("norm.in", Nd4j.ones(DataType.FLOAT, h));
            roles.put("norm.post", Nd4j.ones(DataType.FLOAT, h));
            roles.put("attn.qkv", uniform(q + 2 * kv, h));
            roles.put("attn.o", uniform(h, q));
            roles.put("mlp.gu", uniform(2L * d.intermediate(), h));
            roles.put("mlp.down", uniform(h, d.intermediate()));
            BlockSpec spec = arch.blocks().get(0);
            weights = BlockWeights.of(spec, roles);
            x = Nd4j.randn(DataType.FLOAT, seqLen, h);
            rope = RopeTables.of(arch, seqLen);
        }

        /** Weights uniform on [-1/sqrt(in), 1/sqrt(in)), as torch_block.py draws them. */
        private static INDArray uniform(long out, long in) {
            return Nd4j.rand(DataType.FLOAT, out, in).subi(0.5).muli(2.0 / Math.sqrt(in));
        }

        /** Multiply-adds x2 of the projections and both attention products (full T x T, as computed). */
        public double flops() {
            var g = (org.depthlens.model.family.AttentionSpec.Gqa) arch.attention();
            var d = (org.depthlens.model.family.MlpSpec.Dense) arch.blocks().get(0).mlp();
            double t = seqLen, hd = arch.hidden(), hh = g.headDim();
            double proj = 2 * t * hd * (g.heads() * hh + 2 * g.kvHeads() * hh) + 2 * t * g.heads() * hh * hd
                    + 3 * 2 * t * hd * d.intermediate();
            double attn = 2.0 * 2 * g.heads() * t * t * hh;
            return proj + attn;
        }

        /** One forward in milliseconds. */
        double runOnce() {
            long t0 = System.nanoTime();
            INDArray y = BlockForward.forward(arch, weights, x, 1, seqLen, rope, null);
            double ms = (System.nanoTime() - t0) / 1e6;
            Scratch.get().recycle(y);
            return ms;
        }
    }

    /** A PyTorch block running in a Python subprocess ({@code torch_block.py --serve}). */
    public static final class TorchBlock implements AutoCloseable {
        private final Process process;
        private final BufferedReader in;
        private final Writer out;
        final JsonNode info;

        TorchBlock(String python, Path script, int threads, int seqLen, String coreType) throws IOException {
            ProcessBuilder pb = new ProcessBuilder(python, script.toString(), "--serve", "--threads", Integer.toString(threads),
                    "--seq", Integer.toString(seqLen));
            pb.environment().put("OMP_NUM_THREADS", Integer.toString(threads));
            // the JVM's environment map never sees Blas' setenv: pass the core type explicitly (null: OpenBLAS detects)
            if (coreType != null) {
                pb.environment().put("OPENBLAS_CORETYPE", coreType);
                String timeout = org.depthlens.model.Blas.threadTimeout();
                if (timeout != null) pb.environment().put("OPENBLAS_THREAD_TIMEOUT", timeout);
            } else {
                pb.environment().remove("OPENBLAS_CORETYPE");
                pb.environment().remove("OPENBLAS_THREAD_TIMEOUT");
            }
            pb.redirectError(ProcessBuilder.Redirect.INHERIT);
            process = pb.start();
            in = new BufferedReader(new InputStreamReader(process.getInputStream(), StandardCharsets.UTF_8));
            out = new OutputStreamWriter(process.getOutputStream(), StandardCharsets.UTF_8);
            String first = in.readLine();
            if (first == null) throw new IOException(python + " " + script + " exited: is python3-torch installed?");
            info = JSON.readTree(first);
        }

        double[] run(String cmd, int n, String field) throws IOException {
            out.write(cmd + " " + n + "\n");
            out.flush();
            String line = in.readLine();
            if (line == null) throw new IOException("torch_block.py exited");
            JsonNode r = JSON.readTree(line);
            if (!r.has(field)) throw new IOException("torch_block.py: " + line);
            double[] v = new double[r.get(field).size()];
            for (int i = 0; i < v.length; i++) v[i] = r.get(field).get(i).asDouble();
            return v;
        }

        @Override
        public void close() {
            try {
                out.write("quit\n");
                out.flush();
            } catch (IOException ignored) {
                // already gone
            }
            process.destroy();
        }
    }

    /**
     * (2) and (3): the block through BlockForward and, when {@code torchScript} is not null, the same block in
     * PyTorch, in {@code rounds} interleaved rounds of {@code runs} runs each.
     */
    public void block(String shape, int seqLen, int rounds, int runs, String python, Path torchScript, String torchCore) throws IOException {
        BlockCase c = new BlockCase(shape, seqLen, 42);
        for (int i = 0; i < 3; i++) c.runOnce();
        TorchBlock torch = torchScript == null ? null : new TorchBlock(python, torchScript, Par.threads(), seqLen, torchCore);
        try {
            List<Double> java = new ArrayList<>(), py = new ArrayList<>(), pyGemm = new ArrayList<>();
            List<Double> loads = new ArrayList<>();
            for (int r = 0; r < rounds; r++) {
                loads.add(loadAverage());
                for (int i = 0; i < runs; i++) java.add(c.runOnce());
                if (torch != null) {
                    for (double v : torch.run("block", runs, "block_ms")) py.add(v);
                    for (double v : torch.run("sgemm", 3, "sgemm_gflops")) pyGemm.add(v);
                }
            }
            double jm = median(java), flops = c.flops();
            ObjectNode b = result.putObject("block");
            b.put("shape", shape);
            b.put("seq_len", seqLen);
            b.put("flops", flops);
            b.put("java_ms_median", jm);
            b.put("java_gflops", flops / jm / 1e6);
            b.putPOJO("java_ms", java);
            b.putPOJO("load_per_round", loads);
            log.printf(Locale.ROOT, "block %s T=%d: depthlens %.1f ms median of %d (%.1f GFLOP/s; min %.1f max %.1f)%n", shape, seqLen, jm,
                    java.size(), flops / jm / 1e6, min(java), max(java));
            if (torch != null) {
                double pm = median(py);
                b.put("torch_ms_median", pm);
                b.put("torch_gflops", flops / pm / 1e6);
                b.put("torch_sgemm_gflops_median", median(pyGemm));
                b.put("torch_version", torch.info.get("torch").asText());
                b.put("torch_threads", torch.info.get("threads").asInt());
                b.put("torch_openblas_coretype", torchCore == null ? "auto-detected" : torchCore);
                b.put("torch_openblas_core_in_use", torch.info.path("openblas_core").asText("unknown"));
                b.put("torch_flops_check", torch.info.get("flops").asDouble());
                b.putPOJO("torch_ms", py);
                b.put("ratio_java_over_torch", jm / pm);
                log.printf(Locale.ROOT, "block %s T=%d: PyTorch %s (OpenBLAS core %s) %.1f ms median of %d (%.1f GFLOP/s; sgemm %.1f GFLOP/s) -> depthlens/PyTorch = %.2f%n",
                        shape, seqLen, torch.info.get("torch").asText(), torch.info.path("openblas_core").asText("unknown") + (torchCore == null ? ", auto-detected" : ", set"), pm, py.size(), flops / pm / 1e6, median(pyGemm), jm / pm);
            }
        } finally {
            if (torch != null) torch.close();
        }
    }

    /**
     * (4) all probes and the single-block removal sweep of {@code model} on {@code windows} windows of
     * {@code window} ids from {@code ids} (a flat JSON list); pruning with {@code prune} blocks when > 0.
     */
    public void analyze(Path modelDir, Path ids, int window, int windows, int prune, int repeats) {
        ObjectNode a = result.putObject("analyze");
        List<int[]> ws;
        List<Double> secs = new ArrayList<>();
        List<Double> intervalSecs = new ArrayList<>();
        long loads = 0;
        double loss = Double.NaN;
        int layers;
        try (Model m = Model.open(modelDir, Architecture.LnsMode.AUTO)) {
            layers = m.arch().layers();
            ws = Windows.cut(Windows.readIds(ids).sequences().get(0), window, windows);
            if (ws.size() < windows) throw new IllegalArgumentException(ids + " has fewer than " + windows + " windows of " + window);
            for (int r = 0; r < repeats; r++) {
                double load = loadAverage();
                long t0 = System.nanoTime();
                org.depthlens.model.WeightPool pool = m.newPool();
                long[] loaded = {0};
                pool.listen((tensor, elements) -> loaded[0]++);
                Analyzer an = new Analyzer(m, pool, new Analyzer.Options(true, prune, Runtime.getRuntime().maxMemory() / 2), Progress.NONE);
                Analyzer.Outcome o = an.run(ws);
                double s = (System.nanoTime() - t0) / 1e9;
                secs.add(s);
                intervalSecs.add(o.intervalSeconds());
                loads = loaded[0];
                loss = o.metrics().loss();
                log.printf(Locale.ROOT, "analyze %s: %d windows x %d tokens, %d blocks, removal sweep%s: %.1f s (load %.2f), loss %.6f, %d weight loads; bootstrap intervals %.3f s = %.2f %%%n",
                        modelDir.getFileName(), windows, window, layers, prune > 0 ? " + pruning " + prune : "", s, load, loss, loads,
                        o.intervalSeconds(), 100 * o.intervalSeconds() / s);
            }
        }
        a.put("model", modelDir.toString());
        a.put("windows", windows);
        a.put("window", window);
        a.put("blocks", layers);
        a.put("prune", prune);
        a.put("seconds_median", median(secs));
        a.putPOJO("seconds", secs);
        a.putPOJO("interval_seconds", intervalSecs);
        a.put("weight_loads", loads);
        a.put("loss", loss);
    }

    static double median(double[] v) {
        double[] s = v.clone();
        Arrays.sort(s);
        return s.length % 2 == 1 ? s[s.length / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
    }

    static double median(List<Double> v) {
        return median(v.stream().mapToDouble(Double::doubleValue).toArray());
    }

    static double min(double[] v) {
        return Arrays.stream(v).min().orElse(Double.NaN);
    }

    static double max(double[] v) {
        return Arrays.stream(v).max().orElse(Double.NaN);
    }

    static double min(List<Double> v) {
        return v.stream().mapToDouble(Double::doubleValue).min().orElse(Double.NaN);
    }

    static double max(List<Double> v) {
        return v.stream().mapToDouble(Double::doubleValue).max().orElse(Double.NaN);
    }
}
