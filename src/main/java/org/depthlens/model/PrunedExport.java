package org.depthlens.model;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.node.ObjectNode;
import org.depthlens.BadInputException;
import org.depthlens.model.family.Architecture;
import org.depthlens.model.family.PrunedConfig;
import org.depthlens.util.Progress;
import org.depthlens.weights.Checkpoint;
import org.depthlens.weights.SafetensorsWriter;
import org.depthlens.weights.TensorInfo;
import org.depthlens.weights.WeightsFile;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * A checkpoint with some blocks removed, written as HF transformers loads it: every kept tensor copied byte for
 * byte ({@link Checkpoint#rawCopy}: same dtype, no re-rounding, FP8 with its scales) under its renumbered name
 * {@code model.layers.{new}.*}, safetensors sharded by the source's rule (one file, or shards of at most the
 * source's largest shard plus an index), config.json rewritten by {@link PrunedConfig}, tokenizer, generation and
 * (multimodal) processor files copied. A multimodal checkpoint's vision tower and projector are not blocks: they are
 * copied unchanged like the embedding. Memory: one 1 MiB chunk at a time, whatever the model's size.
 */
public final class PrunedExport {
    /** Files next to the weights that a loader or generate() reads and that do not depend on the blocks. */
    public static final List<String> COPIED = List.of("tokenizer.json", "tokenizer_config.json", "special_tokens_map.json",
            "generation_config.json", "tokenizer.model", "vocab.json", "merges.txt", "added_tokens.json", "chat_template.jinja",
            "chat_template.json", "preprocessor_config.json", "processor_config.json");
    public static final String RECORD = "depthlens_prune.json";


    private PrunedExport() {}

    /**
     * What to write.
     *
     * @param kept    original indices of the kept blocks, ascending
     * @param dropped original indices of the removed blocks, ascending
     * @param names   source tensor name -> exported name, for every tensor written (a tied model's stored head copy and
     *                the removed blocks' tensors are not)
     * @param config  the rewritten config.json
     * @param arch    the architecture the exported files describe
     * @param carried source tensors written unchanged that depthlens does not run (a multimodal checkpoint's vision
     *                tower and projector: not blocks of the language model)
     */
    public record Plan(int[] kept, int[] dropped, Map<String, String> names, ObjectNode config, Architecture arch, boolean wroteLayerTypes,
                       List<String> carried) {
        public long bytes(Checkpoint ck) {
            long b = 0;
            for (String n : names.keySet()) b += ck.require(n).numel() * ck.require(n).dtype().size();
            return b;
        }
    }

    /**
     * The export plan of {@code model} without blocks {@code drop} (original 0-based indices, distinct): refuses an
     * index outside the model and removing every block, naming config.json; refuses a pattern config.json cannot state.
     */
    public static Plan plan(Model model, int[] drop) {
        Architecture a = model.arch();
        Path config = model.dir().resolve("config.json");
        int layers = a.layers();
        boolean[] gone = new boolean[layers];
        for (int d : drop) {
            if (d < 0 || d >= layers) {
                throw new BadInputException(config + ": --drop " + d + " is not a block of this model (num_hidden_layers " + layers
                        + ": blocks 0-" + (layers - 1) + ", 0-based)");
            }
            gone[d] = true;
        }
        int[] kept = java.util.stream.IntStream.range(0, layers).filter(i -> !gone[i]).toArray();
        int[] dropped = java.util.stream.IntStream.range(0, layers).filter(i -> gone[i]).toArray();
        if (kept.length == 0) throw new BadInputException(config + ": --drop removes all " + layers + " blocks; keep at least one");
        int[] newIndex = new int[layers];
        Arrays.fill(newIndex, -1);
        for (int j = 0; j < kept.length; j++) newIndex[kept[j]] = j;
        Map<String, String> names = new TreeMap<>();
        Map<String, TensorInfo> renamed = new TreeMap<>();
        Blocks blocks = Blocks.of(a);
        List<String> carried = new java.util.ArrayList<>();
        for (TensorInfo t : model.checkpoint().tensors().values()) {
            String to = rename(t.name(), a, blocks, newIndex, dropped.length);
            if (to == null) continue;
            names.put(t.name(), to);
            renamed.put(to, t);
            Architecture.Extra x = a.extra(t.name());
            if (x != null && x.onRequest() != null) carried.add(t.name());
        }
        JsonNode json = model.config();
        boolean trainingCode = model.checkpoint().format().equals("pytorch");
        PrunedConfig.Result r = PrunedConfig.rewrite(config, json, a, kept, renamed, trainingCode);
        checkTensors(r.arch(), renamed);
        return new Plan(kept, dropped, names, r.config(), r.arch(), r.wroteLayerTypes(), carried.stream().sorted().toList());
    }

    /** How a family names its blocks' tensors: its description's prefix with the index in it ("model.layers.3."). */
    private record Blocks(String before, String after) {
        static Blocks of(Architecture a) {
            String p0 = a.blocks().get(0).prefix();
            int at = p0.lastIndexOf("0");
            Blocks b = new Blocks(p0.substring(0, at), p0.substring(at + 1));
            for (int i = 0; i < a.layers(); i++) {
                if (!a.blocks().get(i).prefix().equals(b.before + i + b.after)) {
                    throw new IllegalStateException(a.family() + ": block " + i + "'s prefix " + a.blocks().get(i).prefix() + " does not follow " + p0);
                }
            }
            return b;
        }

        /** The block index of a tensor name, or -1. */
        int index(String name) {
            if (!name.startsWith(before)) return -1;
            int end = name.indexOf(after, before.length());
            if (end <= before.length()) return -1;
            try {
                return Integer.parseInt(name.substring(before.length(), end));
            } catch (NumberFormatException e) {
                return -1;
            }
        }

        String rename(String name, int from, int to) {
            return before + to + after + name.substring((before + from + after).length());
        }
    }

    /**
     * The tensor check of the export before a byte is written: every weight the exported config describes is there
     * with its shape, and nothing else is but known extras and FP8 scales. A failure is a bug of prune (exit 1).
     */
    static void checkTensors(Architecture out, Map<String, TensorInfo> renamed) {
        java.util.Set<String> used = new java.util.HashSet<>();
        for (org.depthlens.model.family.Weight w : out.allWeights()) {
            for (org.depthlens.model.family.Weight.Part p : w.parts()) {
                TensorInfo t = renamed.get(p.name());
                if (t == null || !Arrays.equals(t.shape(), p.shape())) {
                    throw new IllegalStateException("prune would write a checkpoint whose tensor " + p.name() + " is "
                            + (t == null ? "missing" : "of shape " + t.shapeString() + ", not " + Arrays.toString(p.shape())));
                }
                used.add(p.name());
            }
        }
        for (String n : renamed.keySet()) {
            boolean scale = n.endsWith("_scale_inv") && used.contains(n.substring(0, n.length() - "_scale_inv".length()));
            if (!used.contains(n) && !scale && out.extra(n) == null) {
                throw new IllegalStateException("prune would write tensor " + n + ", which the exported config does not describe");
            }
        }
    }

    /** The exported name of a source tensor, or null when it is not written. */
    private static String rename(String name, Architecture a, Blocks blocks, int[] newIndex, int removed) {
        if (a.tiedEmbeddings() && name.equals(a.names().head())) return null; // HF ties it to the embedding; save_pretrained drops it too
        int i = blocks.index(name);
        if (i < 0) return name;
        if (i >= a.layers()) return blocks.rename(name, i, i - removed); // a known extra past the blocks (DeepSeek-V3's MTP block)
        return newIndex[i] < 0 ? null : blocks.rename(name, i, newIndex[i]);
    }

    /**
     * Writes {@code plan} for {@code model} into the (empty, temporary) folder {@code dir}, with {@code record} as
     * {@link #RECORD}. Progress is in bytes of tensors written.
     */
    public static void write(Model model, Plan plan, Path dir, ObjectNode record, Progress progress) {
        Checkpoint ck = model.checkpoint();
        long total = plan.bytes(ck);
        long[] done = {0};
        Map<String, SafetensorsWriter.Tensor> tensors = new LinkedHashMap<>();
        for (Map.Entry<String, String> e : plan.names().entrySet()) {
            SafetensorsWriter.Tensor src = ck.rawCopy(e.getKey());
            long b = src.byteLength();
            tensors.put(e.getValue(), SafetensorsWriter.Tensor.streamed(src.dtype(), src.shape(), sink -> {
                src.content().writeTo(sink);
                done[0] += b;
                progress.update(done[0], total, "writing " + plan.kept().length + " of " + model.arch().layers() + " blocks");
            }));
        }
        Map<String, String> meta = Map.of("format", "pt");
        if (sharded(ck)) {
            SafetensorsWriter.writeSharded(dir, tensors, largestShard(ck), meta);
        } else {
            SafetensorsWriter.write(dir.resolve("model.safetensors"), tensors, meta);
        }
        ObjectMapper json = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);
        try {
            SafetensorsWriter.writeAtomically(dir.resolve("config.json"), json.writeValueAsBytes(plan.config()));
            for (String name : COPIED) {
                Path src = model.dir().resolve(name);
                if (Files.isRegularFile(src)) Files.copy(src, dir.resolve(name));
            }
            SafetensorsWriter.writeAtomically(dir.resolve(RECORD), json.writeValueAsBytes(record));
        } catch (IOException e) {
            throw new UncheckedIOException(dir + ": cannot write (" + e.getMessage() + ")", e);
        }
    }

    /** The source came with an index (safetensors or .bin): the export gets one too. */
    static boolean sharded(Checkpoint ck) {
        return Files.isRegularFile(ck.dir().resolve(Checkpoint.INDEX)) || Files.isRegularFile(ck.dir().resolve(Checkpoint.BIN_INDEX));
    }

    /** The source's shard size rule, as its files show it: no shard larger than its largest one. */
    static long largestShard(Checkpoint ck) {
        return Math.max(1, ck.files().stream().mapToLong(WeightsFile::fileSize).max().orElse(1));
    }
}
