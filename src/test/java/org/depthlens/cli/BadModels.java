package org.depthlens.cli;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.node.ObjectNode;
import org.depthlens.Fixtures;
import org.depthlens.weights.DType;
import org.depthlens.weights.SafetensorsFile;
import org.depthlens.weights.SafetensorsWriter;
import org.depthlens.weights.TensorInfo;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.function.Consumer;

/**
 * Broken copies of the llama fixture (float32, 4 blocks, hidden 64, vocab 256, context 128) and
 * other bad inputs, built in a test's temporary folder; the shared fixtures are never modified.
 */
final class BadModels {
    static final ObjectMapper JSON = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);
    static final int VOCAB = 256;
    static final int CONTEXT = 128;

    private BadModels() {}

    /** A fresh writable copy of the llama fixture's model folder. */
    static Path llama(Path tmp, String name) {
        Path dir = Fixtures.copyModel("llama", false, tmp);
        Path renamed = tmp.resolve(name);
        try {
            Files.move(dir, renamed);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return renamed;
    }

    static void editConfig(Path model, Consumer<ObjectNode> edit) {
        try {
            Path f = model.resolve("config.json");
            ObjectNode c = (ObjectNode) JSON.readTree(f.toFile());
            edit.accept(c);
            Files.writeString(f, JSON.writeValueAsString(c));
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** The model's float32 tensors by name (header order). */
    static Map<String, float[]> weights(Path model) {
        Map<String, float[]> out = new LinkedHashMap<>();
        try (SafetensorsFile f = SafetensorsFile.open(model.resolve("model.safetensors"))) {
            for (TensorInfo t : f.tensors().values()) out.put(t.name(), Fixtures.readFloats(f, t.name()));
        }
        return out;
    }

    static Map<String, long[]> shapes(Path model) {
        Map<String, long[]> out = new LinkedHashMap<>();
        try (SafetensorsFile f = SafetensorsFile.open(model.resolve("model.safetensors"))) {
            for (TensorInfo t : f.tensors().values()) out.put(t.name(), t.shape());
        }
        return out;
    }

    /** Rewrites model.safetensors after {@code edit} changed the tensors (remove one, poison values). */
    static void rewrite(Path model, Consumer<Map<String, float[]>> edit) {
        Map<String, long[]> shapes = shapes(model);
        Map<String, float[]> w = weights(model);
        edit.accept(w);
        Map<String, SafetensorsWriter.Tensor> tensors = new LinkedHashMap<>();
        w.forEach((name, data) -> tensors.put(name, SafetensorsWriter.Tensor.of(DType.F32, shapes.get(name), data)));
        SafetensorsWriter.write(model.resolve("model.safetensors"), tensors, Map.of("format", "pt"));
    }

    /** Replaces model.safetensors with {@code bytes}. */
    static void weightsFile(Path model, byte[] bytes) {
        try {
            Files.write(model.resolve("model.safetensors"), bytes);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    static String entry(String name, String dtype, String shape, long begin, long end) {
        return "\"" + name + "\":{\"dtype\":\"" + dtype + "\",\"shape\":" + shape + ",\"data_offsets\":[" + begin + "," + end + "]}";
    }

    /** A flat JSON list of {@code n} token ids below {@link #VOCAB} (fixed seed). */
    static Path ids(Path file, int n) {
        Random r = new Random(7);
        StringBuilder b = new StringBuilder("[");
        for (int i = 0; i < n; i++) b.append(i == 0 ? "" : ",").append(r.nextInt(VOCAB));
        return write(file, b.append(']').toString());
    }

    /** analyze on {@code m} with a small ids file: one 32-token window, pruning n = 1 only, then {@code extra}. */
    static Cli.Result analyze(Path m, Path ids, Path out, String... extra) {
        List<String> a = new ArrayList<>(List.of("analyze", "-m", m.toString(), "--ids", ids.toString(),
                "--window", "32", "--max-windows", "1", "--prune", "1", "-o", out.toString()));
        a.addAll(List.of(extra));
        return Cli.run(a.toArray(String[]::new));
    }

    static Path write(Path file, String content) {
        try {
            Files.createDirectories(file.toAbsolutePath().getParent());
            Files.writeString(file, content);
            return file;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
