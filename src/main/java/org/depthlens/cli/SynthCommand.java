package org.depthlens.cli;

import org.depthlens.util.AtomicDir;
import org.depthlens.util.OutputGuard;
import org.depthlens.weights.DType;
import org.depthlens.model.SyntheticCheckpoint;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

import java.nio.file.Path;
import java.util.Locale;
import java.util.concurrent.Callable;

@Command(name = "synth", sortOptions = false, mixinStandardHelpOptions = true,
        description = {"Write a deterministic random checkpoint with the shape of a real model, for benchmarks and",
                "memory tests - NEVER for results: config.json, sharded safetensors + index, and ids.json (16384",
                "random token ids to analyse it on). Weights are uniform with std 0.02, norms 1, so activations",
                "stay finite. The same options always write the same bytes.", ""},
        footerHeading = "%nShapes:%n", footer = {
                "  llama-3.2-1b   2.5 GB in BF16 (tied embeddings)",
                "  llama-2-7b     13.5 GB",
                "  llama-2-13b    26 GB (more than most machines' RAM: the streaming test)",
                "  qwen2.5-7b     15.2 GB (q/k/v biases, 152k vocabulary)",
                "  mistral-7b     14.5 GB (sliding window)",
                "  mixtral-small  2.9 GB (8 experts, top-2)",
                "  llama-tiny-32  56 MB (32 blocks of width 256: quick runs of a deep model)",
                "",
                "Examples:",
                "  depthlens synth --shape llama-3.2-1b --out /tmp/synth-1b",
                "  depthlens analyze -m /tmp/synth-1b --ids /tmp/synth-1b/ids.json --window 512 --max-windows 4",
                "  depthlens synth --shape llama-2-13b --layers 2 --out /tmp/13b-2   (13B-wide, 2 blocks)"})
public final class SynthCommand extends CommonOptions implements Callable<Integer> {
    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @Option(names = "--shape", required = true, paramLabel = "NAME", description = "Model shape (see below).")
    String shape;

    @Option(names = "--dtype", paramLabel = "T", defaultValue = "bf16", description = "bf16 or f32 (default: ${DEFAULT-VALUE}).")
    String dtype;

    @Option(names = {"-o", "--out"}, required = true, paramLabel = "DIR", description = "New folder for the checkpoint.")
    Path out;

    @Option(names = "--layers", paramLabel = "N", description = "Number of blocks (default: the shape's).")
    Integer layers;

    @Option(names = "--seed", paramLabel = "S", defaultValue = "0", description = "Random seed (default: ${DEFAULT-VALUE}).")
    long seed;

    @Option(names = "--force", description = "Replace an existing output folder.")
    boolean force;

    @Override
    public Integer call() {
        SyntheticCheckpoint.Shape s = SyntheticCheckpoint.SHAPES.get(shape.toLowerCase(Locale.ROOT));
        if (s == null) throw usage("--shape: unknown shape '" + shape + "'; known: " + String.join(", ", SyntheticCheckpoint.SHAPES.keySet()));
        DType t = switch (dtype.toLowerCase(Locale.ROOT)) {
            case "bf16" -> DType.BF16;
            case "f32" -> DType.F32;
            default -> throw usage("--dtype must be bf16 or f32, got '" + dtype + "'");
        };
        if (layers != null && layers < 1) throw usage("--layers must be positive, got " + layers);
        OutputGuard.check("--out", out, java.util.List.of());
        checkRoom(SyntheticCheckpoint.bytes(s, layers, t));
        long t0 = System.nanoTime();
        long bytes;
        try (AtomicDir dir = AtomicDir.create(out, force)) {
            bytes = SyntheticCheckpoint.write(s, layers, t, seed, dir.path());
            dir.commit();
        }
        spec.commandLine().getOut().printf(Locale.ROOT, "Wrote %s: synthetic %s (%s), %.2f GB of weights in %.0f s%n", out, s.name(),
                s.description(), bytes / 1e9, (System.nanoTime() - t0) / 1e9);
        return 0;
    }

    /** Before anything is described or written: the checkpoint must fit on the output's file system. */
    private void checkRoom(long bytes) {
        Path at = out.toAbsolutePath();
        while (at != null && !java.nio.file.Files.exists(at)) at = at.getParent();
        if (at == null) return;
        long free;
        try {
            free = java.nio.file.Files.getFileStore(at).getUsableSpace();
        } catch (java.io.IOException e) {
            return; // unknown: the write itself reports a full disk
        }
        if (bytes > free) {
            throw new org.depthlens.BadInputException(out + ": --layers " + (layers != null ? layers : "(the shape's)") + " of " + shape + " needs "
                    + (bytes == Long.MAX_VALUE ? "more bytes than a long counts" : String.format(Locale.ROOT, "%.3g GB", bytes / 1e9))
                    + " of weights, but only " + String.format(Locale.ROOT, "%.3g GB", free / 1e9) + " are free there");
        }
    }

    private CommandLine.ParameterException usage(String msg) {
        return new CommandLine.ParameterException(spec.commandLine(), msg);
    }
}
