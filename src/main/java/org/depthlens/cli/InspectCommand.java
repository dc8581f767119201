package org.depthlens.cli;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import org.depthlens.model.Architecture;
import org.depthlens.model.Model;
import org.depthlens.weights.DType;
import org.depthlens.weights.TensorInfo;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.Callable;

@Command(name = "inspect", sortOptions = false, mixinStandardHelpOptions = true,
        description = {"Describe a checkpoint without running it: family, blocks, widths, heads, parameters, dtypes,",
                "rope, tied embeddings, shards, block normalisation (LNS, post, Mix-LN...) per block, and for MoE / latent-attention models the experts, top-k,",
                "routing and MLA ranks. Reads only config.json and the safetensors headers.", ""},
        footerHeading = "%nExample:%n", footer = "  depthlens inspect --model models/tiny-curse-24/lns")
public final class InspectCommand extends CommonOptions implements Callable<Integer> {
    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @Option(names = {"-m", "--model"}, required = true, paramLabel = "DIR", description = "HF model folder.")
    Path model;

    @Option(names = "--lns", paramLabel = "MODE", defaultValue = "auto", description = "auto, on or off (as for analyze).")
    Architecture.LnsMode lns;

    @CommandLine.Mixin
    NormOptions norm = new NormOptions();

    @Option(names = "--json", description = "Print JSON instead of a table.")
    boolean json;

    @Override
    public Integer call() throws Exception {
        norm.validate(spec, 1);
        try (Model m = Model.open(model, norm.choice(0, lns))) {
            Map<String, Object> info = describe(m);
            PrintWriter out = spec.commandLine().getOut();
            if (json) {
                out.println(new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT).writeValueAsString(info));
            } else {
                int w = info.keySet().stream().mapToInt(String::length).max().orElse(10);
                info.forEach((k, v) -> out.printf("%-" + w + "s  %s%n", k, v));
            }
            out.flush();
        }
        return 0;
    }

    static Map<String, Object> describe(Model m) {
        Architecture a = m.arch();
        var c = m.config();
        Map<String, Object> info = new LinkedHashMap<>();
        info.put("model", m.dir().toString());
        info.put("family", a.family());
        info.put("blocks", a.layers());
        info.put("hidden_size", a.hidden());
        info.put("intermediate_size", c.intermediateSize());
        info.put("attention_heads", c.numHeads());
        info.put("kv_heads", c.numKvHeads());
        info.put("head_dim", a.headDimForDisplay());
        info.put("vocab_size", a.vocab());
        info.put("max_position_embeddings", a.maxPositions());
        info.put("rope", c.rope().type() + " (theta " + c.rope().theta() + (c.rope().factor() != null ? ", factor " + c.rope().factor() : "") + ")");
        info.put("tied_embeddings", a.tiedEmbeddings());
        info.put("lns", a.lns() ? "on (1/sqrt(l+1)" + (c.layernormScaling() != null ? ", from config" : ", forced") + ")" : "off");
        info.put("norm_type", a.norm().describe() + ", " + (a.norm().detected() ? "detected from the norm tensors"
                : "given by " + a.norm().source()));
        info.put("block_norms", a.describeBlockNorms());
        long params = 0;
        Map<String, Long> dtypes = new TreeMap<>();
        int mtp = 0;
        Map<String, Integer> fp8 = new TreeMap<>();
        int fp8Scaled = 0;
        for (TensorInfo t : m.checkpoint().tensors().values()) {
            if (t.name().startsWith("model.layers." + a.layers() + ".")) {
                mtp++;
                continue; // DeepSeek-V3's multi-token-prediction block is not part of the model we run
            }
            if (t.name().endsWith("_scale_inv")) continue;
            params += t.numel();
            dtypes.merge(t.dtype().name(), t.numel(), Long::sum);
            if (t.dtype() == DType.F8_E4M3 || t.dtype() == DType.F8_E5M2) {
                fp8.merge(t.dtype().name(), 1, Integer::sum);
                if (m.checkpoint().has(t.name() + "_scale_inv")) fp8Scaled++;
            }
        }
        info.put("parameters", String.format("%,d", params));
        info.put("dtypes", dtypes.toString());
        if (!fp8.isEmpty()) info.put("quantization", describeFp8(m, fp8, fp8Scaled));
        info.put("shards", m.checkpoint().files().size());
        info.put("weights_bytes", String.format("%,d", m.checkpoint().totalBytes()));
        if (mtp > 0) info.put("ignored_tensors", mtp + " (model.layers." + a.layers() + ".*, multi-token prediction)");
        // the description's own names for what is already listed above are skipped
        java.util.Set<String> dup = java.util.Set.of("layers", "hidden", "vocab", "heads", "intermediate", "rms_norm_eps_", "layernorm_scaling");
        a.describe().forEach((k, v) -> {
            if (dup.contains(k)) return;
            if (info.containsKey(k) && k.equals("rope")) return;
            info.putIfAbsent(k, v);
        });
        return info;
    }

    /** "fp8 (F8_E4M3): 104 weights with weight_scale_inv in 128x128 blocks, dequantized to float32 on load". */
    private static String describeFp8(Model m, Map<String, Integer> fp8, int scaled) {
        int total = fp8.values().stream().mapToInt(Integer::intValue).sum();
        int[] b = m.checkpoint().fp8BlockSize();
        StringBuilder s = new StringBuilder("fp8 (" + String.join(", ", fp8.keySet()) + "): ");
        if (scaled > 0) {
            s.append(scaled).append(" weight").append(scaled == 1 ? "" : "s").append(" x weight_scale_inv in ").append(b[0]).append('x')
                    .append(b[1]).append(" blocks (quantization_config.weight_block_size), dequantized to float32 on load");
        }
        if (scaled < total) {
            s.append(scaled > 0 ? "; " : "").append(total - scaled).append(" weight").append(total - scaled == 1 ? "" : "s")
                    .append(" without weight_scale_inv (refused when loaded: only block-scaled FP8 is supported)");
        }
        return s.toString();
    }
}
