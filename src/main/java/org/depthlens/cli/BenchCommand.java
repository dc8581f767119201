package org.depthlens.cli;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import org.depthlens.bench.Bench;
import org.depthlens.util.OutputGuard;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.Callable;

@Command(name = "bench", sortOptions = false, mixinStandardHelpOptions = true,
        description = {"Measure this machine: (1) sgemm GFLOP/s through ND4J (the roofline), (2) one decoder block of a real",
                "shape (default Llama-3.2-1B: hidden 2048, 32/8 heads, SwiGLU 8192) at T=512 in float32 through depthlens'",
                "forward pass, (3) the same block in PyTorch on the CPU (bench/torch_block.py under /usr/bin/python3,",
                "interleaved round by round with (2)), and with --analyze (4) the full analysis (all probes + the",
                "single-block removal sweep) of a checkpoint. Medians; the load average is printed. Not a test: run it",
                "on a quiet machine (see bench/README.md).", ""},
        footerHeading = "%nExamples:%n", footer = {
                "  depthlens bench",
                "  depthlens bench --no-torch --rounds 5",
                "  depthlens synth --shape llama-3.2-1b --out /tmp/s1b && depthlens bench --skip-block --analyze /tmp/s1b"})
public final class BenchCommand extends CommonOptions implements Callable<Integer> {
    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @Option(names = "--shape", paramLabel = "NAME", defaultValue = "llama-3.2-1b", description = "Block shape (a synth shape; default: ${DEFAULT-VALUE}).")
    String shape;

    @Option(names = "--seq", paramLabel = "T", defaultValue = "512", description = "Tokens of the block benchmark (default: ${DEFAULT-VALUE}).")
    int seq;

    @Option(names = "--rounds", paramLabel = "R", defaultValue = "3", description = "Interleaved depthlens/PyTorch rounds (default: ${DEFAULT-VALUE}).")
    int rounds;

    @Option(names = "--runs", paramLabel = "N", defaultValue = "5", description = "Block runs per round, sgemm runs (default: ${DEFAULT-VALUE}).")
    int runs;

    @Option(names = "--no-torch", description = "Skip the PyTorch comparison.")
    boolean noTorch;

    @Option(names = "--python", paramLabel = "EXE", defaultValue = "/usr/bin/python3",
            description = "Python with Debian's python3-torch (default: ${DEFAULT-VALUE}; another python3 may come first on the PATH).")
    String python;

    @Option(names = "--torch-blas", paramLabel = "CORE", defaultValue = "same",
            description = {"OPENBLAS_CORETYPE for PyTorch's OpenBLAS: 'same' as depthlens (default, a like-for-like comparison),",
                    "'auto' (OpenBLAS' own detection and thread timeout, as a plain `python3` gets them), or a core name."})
    String torchBlas;

    @Option(names = "--torch-script", paramLabel = "FILE", description = "Default: bench/torch_block.py of the depthlens home.")
    Path torchScript;

    @Option(names = "--skip-sgemm", description = "Skip (1).")
    boolean skipSgemm;

    @Option(names = "--skip-block", description = "Skip (2) and (3).")
    boolean skipBlock;

    @Option(names = "--analyze", paramLabel = "DIR", description = "(4): analyse this checkpoint (e.g. a synthetic llama-3.2-1b).")
    Path analyze;

    @Option(names = "--ids", paramLabel = "FILE", description = "Flat JSON ids for --analyze (default: DIR/ids.json, written by synth).")
    Path ids;

    @Option(names = "--window", paramLabel = "N", defaultValue = "512", description = "Tokens per window for --analyze (default: ${DEFAULT-VALUE}).")
    int window;

    @Option(names = "--windows", paramLabel = "K", defaultValue = "4", description = "Windows for --analyze (default: ${DEFAULT-VALUE}).")
    int windows;

    @Option(names = "--prune", paramLabel = "K", defaultValue = "0", description = "Also the pruning pass for --analyze (default: ${DEFAULT-VALUE}, off).")
    int prune;

    @Option(names = "--repeat", paramLabel = "N", defaultValue = "1", description = "Runs of --analyze (default: ${DEFAULT-VALUE}).")
    int repeat;

    @Option(names = "--json", paramLabel = "FILE", description = "Also write every figure as JSON.")
    Path json;

    @Override
    public Integer call() throws Exception {
        if (rounds < 1 || runs < 1 || repeat < 1 || windows < 1 || window < 2 || seq < 1) {
            throw new CommandLine.ParameterException(spec.commandLine(), "--rounds, --runs, --repeat, --windows and --seq must be positive, --window at least 2");
        }
        if (json != null) {
            // before any work: the figures file may be neither an input nor an existing file (it overwrote any file,
            // --json ids.json or the checkpoint's weights included)
            List<OutputGuard.Input> in = new java.util.ArrayList<>();
            if (analyze != null) in.add(OutputGuard.input("--analyze", analyze));
            if (ids != null) in.add(OutputGuard.input("--ids", ids));
            if (torchScript != null) in.add(OutputGuard.input("--torch-script", torchScript));
            OutputGuard.check("--json", json, in);
            if (Files.exists(json, java.nio.file.LinkOption.NOFOLLOW_LINKS)) {
                throw new org.depthlens.BadInputException(json + ": output already exists (give --json a new file)");
            }
        }
        Bench b = new Bench(System.out);
        System.out.printf("depthlens bench: %d threads, OMP_NUM_THREADS=%s, OpenBLAS %s, OPENBLAS_THREAD_TIMEOUT=%s, load average %.2f%n",
                org.depthlens.util.Par.threads(), System.getenv("OMP_NUM_THREADS"), org.depthlens.model.Blas.configure().describe(),
                org.depthlens.model.Blas.threadTimeout(), Bench.loadAverage());
        if (!skipSgemm) b.sgemm(Math.max(runs, 5), new long[][] {{512, 2048, 2048}, {512, 2048, 8192}, {512, 8192, 2048}});
        if (!skipBlock) {
            Path script = noTorch ? null : torchScript != null ? torchScript : Home.dir().resolve("bench").resolve("torch_block.py");
            String core = torchBlas.equals("same") ? org.depthlens.model.Blas.configure().coreType() : torchBlas.equals("auto") ? null : torchBlas;
            b.block(shape, seq, rounds, runs, python, script, core);
        }
        if (analyze != null) {
            b.analyze(analyze, ids != null ? ids : analyze.resolve("ids.json"), window, windows, prune, repeat);
        }
        var result = b.result();
        System.out.printf("load average after: %.2f%n", result.get("load_after").asDouble());
        if (json != null) {
            try (org.depthlens.util.AtomicDir f = org.depthlens.util.AtomicDir.forFile(json, false)) {
                Files.writeString(f.path(), new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT).writeValueAsString(result));
                f.commit();
            }
        }
        return 0;
    }
}
