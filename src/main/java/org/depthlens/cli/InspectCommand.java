package org.depthlens.cli;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import org.depthlens.model.family.Architecture;
import org.depthlens.model.Model;
import org.depthlens.model.family.AttentionSpec;
import org.depthlens.model.family.Families;
import org.depthlens.model.family.Family;
import org.depthlens.util.Progress;
import org.depthlens.weights.Checkpoint;
import org.depthlens.weights.ConfigReader;
import org.depthlens.model.family.MlpSpec;
import org.depthlens.weights.RopeConfig;
import org.depthlens.weights.DType;
import org.depthlens.weights.TensorInfo;
import org.depthlens.weights.TorchFile;
import org.depthlens.weights.WeightsFile;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.Callable;

@Command(name = "inspect", sortOptions = false, mixinStandardHelpOptions = true,
        description = {"Describe a checkpoint without running it: family, blocks, widths, heads, parameters, dtypes,",
                "rope, tied embeddings, shards, the block normalisation of each block (Pre-LN, LNS, Post-LN, Mix-LN...,",
                "given or detected: see --norm-type), and for MoE / latent-attention models the experts, top-k,",
                "routing and MLA ranks. Reads config.json and the weights' headers (safetensors JSON, or the",
                "state-dict pickle of a pytorch_model.bin, read as data: it never runs code). A pytorch_model.bin stores a",
                "CRC-32 of every storage: inspect reads the storages and checks them all (exit 3 on a mismatch, as any",
                "command that reads them would), unless --headers-only; the line 'checksums' says what was checked.", ""},
        footerHeading = "%nExamples:%n", footer = {"  depthlens inspect --model models/tiny-curse-24/lns",
                "  depthlens inspect --model ck/lns-from-the-paper-code --norm-type LNS"})
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

    @Option(names = "--headers-only",
            description = "Do not read a pytorch_model.bin's storages to check their CRC-32s (fast on a slow disk); 'checksums' then "
                    + "says they were not checked.")
    boolean headersOnly;

    @Override
    public Integer call() throws Exception {
        norm.validate(spec, 1);
        try (Model m = Model.open(model, norm.choice(0, lns))) {
            Map<String, Object> info = describe(m);
            info.put("checksums", checksums(m.checkpoint(), headersOnly, new ConsoleProgress(System.err)));
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
        Map<String, Object> info = new LinkedHashMap<>();
        info.put("model", m.dir().toString());
        info.put("family", a.family());
        info.put("blocks", a.layers());
        info.put("hidden_size", a.hidden());
        info.put("intermediate_size", a.blocks().stream().filter(b -> b.mlp() instanceof MlpSpec.Dense).findFirst()
                .map(b -> (Object) ((MlpSpec.Dense) b.mlp()).intermediate()).orElse("none (every block is a mixture of experts)"));
        info.put("attention_heads", a.attention().heads());
        info.put("kv_heads", a.attention() instanceof AttentionSpec.Gqa g ? g.kvHeads() : a.attention().heads());
        info.put("head_dim", a.headDimForDisplay());
        info.put("vocab_size", a.vocab());
        info.put("max_position_embeddings", a.maxPositions());
        RopeConfig rope = a.rope().config();
        info.put("rope", rope.type() + " (theta " + rope.theta() + (rope.factor() != null ? ", factor " + rope.factor() : "") + ")");
        info.put("tied_embeddings", a.tiedEmbeddings());
        info.put("lns", a.lns() ? "on (1/sqrt(l+1), " + a.norm().source() + ")" : "off");
        info.put("norm_type", a.norm().describe() + ", " + (a.norm().detected() ? "detected from the norm tensors"
                : "given by " + a.norm().source()));
        info.put("block_forms", a.describeBlockForms());
        info.put("config_keys", configKeys(m));
        long params = 0;
        Map<String, Long> dtypes = new TreeMap<>();
        Map<String, Integer> ignored = new LinkedHashMap<>();
        Map<String, Integer> fp8 = new TreeMap<>();
        int fp8Scaled = 0;
        for (TensorInfo t : m.checkpoint().tensors().values()) {
            Architecture.Extra extra = a.extra(t.name());
            if (extra != null) {
                ignored.merge(extra.why(), 1, Integer::sum); // every other tensor is read (Model.open checked)
                continue;
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
        info.put("weights_format", weightsFormat(m.checkpoint()));
        info.put("shards", m.checkpoint().files().size());
        info.put("weights_bytes", String.format("%,d", m.checkpoint().totalBytes()));
        if (!ignored.isEmpty()) {
            StringBuilder sb = new StringBuilder();
            ignored.forEach((why, n) -> sb.append(sb.length() == 0 ? "" : "; ").append(n).append(" (").append(why).append(')'));
            info.put("ignored_tensors", sb.toString());
        }
        // the description's own names for what is already listed above are skipped
        java.util.Set<String> dup = java.util.Set.of("layers", "hidden", "vocab", "heads", "intermediate", "layernorm_scaling", "rope");
        a.describe().forEach((k, v) -> {
            if (!dup.contains(k)) info.putIfAbsent(k, v);
        });
        return info;
    }

    /**
     * "20 read, 27 ignored, 4 only at implemented values; not read (no key of HF's llama class): x, y": what the
     * family does with config.json's keys, and the keys it leaves unread because HF's class does not have them.
     */
    static String configKeys(Model m) {
        Family f = Families.of(m.arch().family());
        ConfigReader c = new ConfigReader(m.arch().configFile(), m.config(), f.defaults());
        List<String> unread = f.configKeys().unread(c);
        return f.configKeys().summary() + (unread.isEmpty() ? ""
                : "; not read (no key of HF's " + f.modelType() + " class): " + String.join(", ", unread));
    }

    /**
     * What the stored checksums say: every .bin storage checked against its CRC-32 (a mismatch throws, naming file,
     * entry and tensor), or that they were not read; safetensors store none.
     */
    static String checksums(Checkpoint ck, boolean headersOnly, Progress progress) {
        if (!ck.format().equals("pytorch")) return "none stored (safetensors has no checksum; headers, shapes and sizes checked)";
        int storages = 0;
        for (WeightsFile f : ck.files()) if (f instanceof TorchFile t) storages += t.storages();
        if (headersOnly) return "not checked (--headers-only): the CRC-32s of " + storages + " storages were not compared with their bytes";
        long bytes = 0;
        for (WeightsFile f : ck.files()) bytes += f.verifyChecksums(progress);
        return String.format("CRC-32 of all %d storages match their bytes (%,d bytes read)", storages, bytes);
    }

    /** Which files were read; when a folder holds safetensors and pytorch_model.bin, says which won. */
    static String weightsFormat(Checkpoint ck) {
        String s = ck.format().equals("pytorch") ? "pytorch (torch.save zip, read without running its pickle)" : "safetensors";
        if (!ck.shadowed().isEmpty()) s += "; also present but not read (safetensors win): " + String.join(", ", ck.shadowed());
        return s;
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
