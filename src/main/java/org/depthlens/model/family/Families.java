package org.depthlens.model.family;

import com.fasterxml.jackson.databind.JsonNode;
import org.depthlens.BadInputException;
import org.depthlens.weights.ConfigReader;
import org.depthlens.weights.TensorInfo;

import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.stream.Collectors;

/** The supported families, and the way from a config.json to an {@link Architecture}. */
public final class Families {
    public static final List<Family> ALL = List.of(new Llama(), new Mistral(), new Mixtral(), new Qwen2(), new Qwen3(),
            new Qwen2Moe(), new Qwen3Moe(), new DeepseekV2(), new DeepseekV3(), new Olmo(), new Olmo2(), new GptNeox(), new Phi3(), new Gemma2(), new Gemma3Text(),
            new Gemma3());

    private Families() {}

    /** The family of {@code modelType}, or null. */
    public static Family of(String modelType) {
        for (Family f : ALL) if (f.modelType().equals(modelType)) return f;
        return null;
    }

    public static List<String> supported() {
        return ALL.stream().map(Family::modelType).toList();
    }

    /** The architecture {@code modelDir/config.json} describes, from the config alone (Pre-LN, or LNS as asked). */
    public static Architecture read(Path modelDir, Architecture.LnsMode lns) {
        return describe(modelDir.resolve("config.json"), ConfigReader.readJson(modelDir), lns);
    }

    /** The architecture of config JSON {@code root} (read from {@code file}, named in errors), from the config alone. */
    public static Architecture describe(Path file, JsonNode root, Architecture.LnsMode lns) {
        return describe(file, root, NormChoice.of(lns), null, false);
    }

    /**
     * The architecture of config JSON {@code root} whose checkpoint holds {@code tensors} (null: none to read),
     * its block forms chosen by {@code norm} ({@link NormChoice#resolve}).
     */
    public static Architecture describe(Path file, JsonNode root, NormChoice norm, Map<String, TensorInfo> tensors, boolean trainingCode) {
        String type = root.path("model_type").asText(null);
        Family f = of(type);
        if (f == null) {
            throw new BadInputException(file + ": unsupported model_type '" + type + "' (supported: "
                    + supported().stream().collect(Collectors.joining(", ")) + ")");
        }
        ConfigReader c = new ConfigReader(file, root, f.defaults());
        f.configKeys().check(c, type);
        return f.describe(c, f.normForm(c, norm, tensors, trainingCode), tensors);
    }
}
