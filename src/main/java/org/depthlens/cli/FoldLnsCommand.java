package org.depthlens.cli;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.node.ObjectNode;
import org.depthlens.BadInputException;
import org.depthlens.util.AtomicDir;
import org.depthlens.util.OutputGuard;
import org.depthlens.model.family.Architecture;
import org.depthlens.model.family.BlockSpec;
import org.depthlens.model.Model;
import org.depthlens.weights.DType;
import org.depthlens.weights.SafetensorsWriter;
import org.depthlens.weights.TensorInfo;
import org.nd4j.linalg.api.ndarray.INDArray;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;

@Command(name = "fold-lns", sortOptions = false, mixinStandardHelpOptions = true,
        description = {"Write a plain HuggingFace checkpoint equivalent to an LNS one: block l's factor (1/sqrt(l+1), or",
                "the config's list) is folded into its two pre-norm weights. Tensors are stored as F32 (re-rounding to",
                "BF16 would change the numbers); config.json loses \"layernorm_scaling\" (else the factor would be",
                "applied twice). Any HF tool then runs the LNS model correctly. Tokenizer files are copied.", ""},
        footerHeading = "%nExamples:%n", footer = {"  depthlens fold-lns --model models/tiny-curse-24/lns --out /tmp/lns-folded",
                "  depthlens fold-lns --model ck/lns-from-the-paper-code --norm-type LNS --out /tmp/lns-folded   (.bin, no LNS record)"})
public final class FoldLnsCommand extends CommonOptions implements Callable<Integer> {
    static final long SHARD_BYTES = 5L << 30;
    static final List<String> COPIED = List.of("tokenizer.json", "tokenizer_config.json", "special_tokens_map.json",
            "generation_config.json", "tokenizer.model", "vocab.json", "merges.txt");

    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @Option(names = {"-m", "--model"}, required = true, paramLabel = "DIR", description = "LNS model folder.")
    Path model;

    @Option(names = {"-o", "--out"}, required = true, paramLabel = "DIR", description = "New folder for the folded checkpoint.")
    Path out;

    @Option(names = "--lns", paramLabel = "MODE", defaultValue = "auto",
            description = "auto (the config's layernorm_scaling) or on (force 1/sqrt(l+1) for checkpoints that carry no flag).")
    Architecture.LnsMode lns;

    @CommandLine.Mixin
    NormOptions norm = new NormOptions();

    @Option(names = "--force", description = "Replace an existing output folder.")
    boolean force;

    @Override
    public Integer call() throws IOException {
        if (lns == Architecture.LnsMode.OFF) throw new CommandLine.ParameterException(spec.commandLine(), "--lns off has nothing to fold");
        norm.validate(spec, 1);
        OutputGuard.check("--out", out, List.of(OutputGuard.input("--model", model)));
        try (Model m = Model.open(model, norm.choice(0, lns)); AtomicDir dir = AtomicDir.create(out, force)) {
            Architecture a = m.arch();
            if (!a.lns()) {
                throw new BadInputException(model + ": the blocks are " + a.norm().describe() + " (" + a.norm().source()
                        + "): no LayerNorm Scaling factors to fold (config.json has no \"layernorm_scaling\"; for an LNS checkpoint without a record of it use --lns on or --norm-type LNS)");
            }
            if (a.normSpec().kind() != org.depthlens.model.family.NormSpec.Kind.RMS) {
                // unreachable through the families today (their fixed forms refuse LNS), kept as the rule: s·(1 + w) or a
                // LayerNorm's bias are not a gain times s
                throw new BadInputException(model + ": the norms are " + a.normSpec().kind().label()
                        + "; fold-lns folds LNS factors into plain RMSNorm gains only");
            }
            Map<String, Double> factors = new LinkedHashMap<>();
            for (BlockSpec b : a.blocks()) {
                factors.put(b.prefix() + "input_layernorm.weight", b.normScale());
                factors.put(b.prefix() + "post_attention_layernorm.weight", b.normScale());
            }
            Map<String, SafetensorsWriter.Tensor> tensors = new LinkedHashMap<>();
            for (TensorInfo t : m.checkpoint().tensors().values()) {
                if (t.name().endsWith("_scale_inv") && m.checkpoint().has(t.name().substring(0, t.name().length() - "_scale_inv".length()))) {
                    continue; // dequantized into its weight below
                }
                if (!t.dtype().isFloat()) throw new BadInputException(t.file() + ": tensor '" + t.name() + "' is " + t.dtype() + ", not a float weight");
                long[] shape = t.shape();
                Double f = factors.get(t.name());
                tensors.put(t.name(), SafetensorsWriter.Tensor.lazy(DType.F32, shape, () -> {
                    INDArray w = m.checkpoint().load(t.name());
                    if (f != null) w.muli(f.floatValue());
                    return SafetensorsWriter.Tensor.of(DType.F32, shape, w.data().asFloat());
                }));
            }
            long bytes = tensors.values().stream().mapToLong(SafetensorsWriter.Tensor::byteLength).sum();
            Map<String, String> meta = Map.of("format", "pt", "producer", org.depthlens.pass.ProvenanceBuilder.toolVersion() + " fold-lns");
            if (bytes <= SHARD_BYTES) {
                SafetensorsWriter.write(dir.path().resolve("model.safetensors"), tensors, meta);
            } else {
                SafetensorsWriter.writeSharded(dir.path(), tensors, SHARD_BYTES, meta);
            }
            writeConfig(m.dir().resolve("config.json"), dir.path().resolve("config.json"));
            for (String name : COPIED) {
                Path src = m.dir().resolve(name);
                if (Files.isRegularFile(src)) Files.copy(src, dir.path().resolve(name));
            }
            dir.commit();
        }
        spec.commandLine().getOut().println("Wrote " + out);
        return 0;
    }

    private static void writeConfig(Path src, Path dst) throws IOException {
        ObjectMapper json = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);
        ObjectNode c = (ObjectNode) json.readTree(src.toFile());
        c.remove("layernorm_scaling");
        c.remove("norm_type"); // the folded model is plain Pre-LN
        c.remove("post_num");
        c.remove("quantization_config");
        if (c.has("torch_dtype")) c.put("torch_dtype", "float32");
        if (c.has("dtype")) c.put("dtype", "float32");
        json.writeValue(dst.toFile(), c);
    }
}
