package org.depthlens.cli;

import org.depthlens.BadInputException;
import org.depthlens.util.AtomicDir;
import org.depthlens.analysis.Windows;
import org.depthlens.model.family.Architecture;
import org.depthlens.model.BlockForward;
import org.depthlens.model.BlockTrace;
import org.depthlens.model.Model;
import org.depthlens.model.RopeTables;
import org.depthlens.model.WeightPool;
import org.depthlens.weights.DType;
import org.depthlens.weights.SafetensorsFile;
import org.depthlens.weights.SafetensorsWriter;
import org.depthlens.util.OutputGuard;
import org.nd4j.linalg.api.ndarray.INDArray;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;

@Command(name = "trace", sortOptions = false, mixinStandardHelpOptions = true,
        description = {"Run the forward pass on token ids and write the residual stream and logits as float32",
                "safetensors, with the names and meaning of the fixtures' reference.safetensors:",
                "  input_ids [B,T] (I64), resid.0 .. resid.L [B,T,hidden] (x[0] = embeddings, x[L] = last block's",
                "  output before the final norm), logits [B,T,vocab]; with --modules also attn_out.l and mlp_out.l.",
                "For comparing with HuggingFace (output_hidden_states=True: note its last entry is norm(x[L])).", ""},
        footerHeading = "%nExamples:%n",
        footer = {"  depthlens trace --model models/tiny-curse-24/pre_ln --ids ids.json --out trace.safetensors",
                "  depthlens trace --model ck/mix --norm-type post_pre --post-num 6 --ids ids.json --out mix.safetensors"})
public final class TraceCommand extends CommonOptions implements Callable<Integer> {
    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @Option(names = {"-m", "--model"}, required = true, paramLabel = "DIR", description = "HF model folder.")
    Path model;

    @Option(names = "--ids", required = true, paramLabel = "FILE",
            description = "JSON token ids: a list of equal-length sequences ([[1,2,3],[4,5,6]]), each one batch row; a flat list is one row.")
    Path ids;

    @Option(names = {"-o", "--out"}, required = true, paramLabel = "FILE", description = "Output .safetensors file (written atomically).")
    Path out;

    @Option(names = "--lns", paramLabel = "MODE", defaultValue = "auto", description = "auto, on or off (as for analyze).")
    Architecture.LnsMode lns;

    @CommandLine.Mixin
    NormOptions norm = new NormOptions();

    @Option(names = "--modules", description = "Also write attn_out.l and mlp_out.l (each block's module outputs before the residual add).")
    boolean modules;

    @Option(names = "--force", description = "Replace an existing output file.")
    boolean force;

    @Option(names = "--allow-nan", description = "Trace weights holding NaN or infinity (each such tensor is named in a warning); by default they are refused.")
    boolean allowNan;

    @Override
    public Integer call() {
        norm.validate(spec, 1);
        OutputGuard.check("--out", out, List.of(OutputGuard.input("--model", model), OutputGuard.input("--ids", ids)));
        if (Files.exists(out) && !force) throw new BadInputException(out + ": output already exists (use --force to replace it)");
        try (AtomicDir dir = AtomicDir.forFile(out, force, TraceCommand::isTrace)) {
            try {
                trace(dir.path());
            } catch (UncheckedIOException e) {
                // e.g. a full disk: name the file the user asked for, not our temporary
                String why = e.getCause() != null ? e.getCause().getMessage() : e.getMessage();
                throw new UncheckedIOException(out + ": cannot write (" + why + "); nothing was written", e.getCause());
            }
            dir.commit();
        }
        spec.commandLine().getOut().println("Wrote " + out);
        return 0;
    }

    /** The metadata key and value that mark a file as trace's output: --force replaces no other file. */
    static final String MARK_KEY = "depthlens_output", MARK_VALUE = "trace";

    /** A safetensors file whose metadata says trace wrote it. */
    static boolean isTrace(Path file) {
        try (SafetensorsFile f = SafetensorsFile.open(file)) {
            return MARK_VALUE.equals(f.metadata().get(MARK_KEY));
        } catch (RuntimeException e) {
            return false;
        }
    }

    /** Runs the forward pass and writes the trace to {@code file} (a temporary, moved into place by the caller). */
    private void trace(Path file) {
        List<int[]> seqs = Windows.readIds(ids).sequences();
        int t = seqs.get(0).length;
        for (int[] s : seqs) {
            if (s.length != t) throw new BadInputException(ids + ": sequences have different lengths (" + t + " and " + s.length + "); trace needs equal lengths");
        }
        int b = seqs.size();
        int[] flat = new int[b * t];
        long[] flatLong = new long[b * t];
        for (int i = 0; i < b; i++) System.arraycopy(seqs.get(i), 0, flat, i * t, t);
        for (int i = 0; i < flat.length; i++) flatLong[i] = flat[i];
        Map<String, SafetensorsWriter.Tensor> tensors = new LinkedHashMap<>();
        try (Model m = Model.open(model, norm.choice(0, lns))) {
            m.checkpoint().onNonFinite(RunOptions.nonFinite(allowNan, System.err));
            Architecture a = m.arch();
            Windows.validate(seqs, a.vocab(), Integer.MAX_VALUE, ids.toString(), false);
            long[] shape = {b, t, a.hidden()};
            tensors.put("input_ids", SafetensorsWriter.Tensor.i64(new long[] {b, t}, flatLong));
            INDArray x = m.embed(flat);
            tensors.put("resid.0", f32(x, shape));
            WeightPool pool = m.newPool();
            RopeTables rope = m.ropeTables(t);
            ConsoleProgress progress = new ConsoleProgress(System.err);
            for (int j = 0; j < a.layers(); j++) {
                BlockTrace trace = new BlockTrace(modules, null);
                x = BlockForward.forward(a, m.loadBlock(j, pool), x, b, t, rope, trace);
                tensors.put("resid." + (j + 1), f32(x, shape));
                if (modules) {
                    tensors.put("attn_out." + j, f32(trace.attnOut, shape));
                    tensors.put("mlp_out." + j, f32(trace.mlpOut, shape));
                }
                progress.update(j + 1, a.layers(), "block " + (j + 1) + "/" + a.layers());
            }
            tensors.put("logits", f32(m.head().logits(x, t), new long[] {b, t, a.vocab()}));
        }
        SafetensorsWriter.write(file, tensors, Map.of("format", "pt", "producer", org.depthlens.pass.ProvenanceBuilder.toolVersion(),
                MARK_KEY, MARK_VALUE));
    }

    /** Written straight from native memory at write time (no heap copy). */
    private static SafetensorsWriter.Tensor f32(INDArray a, long[] shape) {
        return SafetensorsWriter.Tensor.of(DType.F32, a.reshape('c', shape));
    }
}
