package org.depthlens.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import org.depthlens.BadInputException;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Set;

/**
 * A JSON run config: an object whose keys are a command's long option names in camelCase
 * ({@code maxWindows} for {@code --max-windows}). Paths in it are relative to the config file's folder.
 * Options given on the command line win over the file.
 */
final class RunConfig {
    private final Path file;
    private final JsonNode root;

    private RunConfig(Path file, JsonNode root) {
        this.file = file;
        this.root = root;
    }

    static RunConfig read(Path file, Set<String> allowedKeys) {
        JsonNode root;
        try {
            root = new ObjectMapper().readTree(Files.readAllBytes(file));
        } catch (NoSuchFileException e) {
            throw new BadInputException(file + ": run config not found");
        } catch (com.fasterxml.jackson.core.JsonProcessingException e) {
            throw new BadInputException(file + ": run config is not valid JSON (" + org.depthlens.JsonErrors.describe(e) + ")");
        } catch (IOException e) {
            throw new BadInputException(file + ": run config is not valid JSON (" + String.valueOf(e.getMessage()).split("\n")[0] + ")");
        }
        if (root == null || !root.isObject()) throw new BadInputException(file + ": run config must be a JSON object");
        Iterator<String> it = root.fieldNames();
        while (it.hasNext()) {
            String k = it.next();
            if (!allowedKeys.contains(k)) {
                throw new BadInputException(file + ": unknown key '" + k + "' (allowed: " + String.join(", ", allowedKeys.stream().sorted().toList()) + ")");
            }
        }
        return new RunConfig(file, root);
    }

    boolean has(String key) {
        return root.hasNonNull(key);
    }

    private Path base() {
        Path p = file.toAbsolutePath().getParent();
        return p == null ? Path.of(".") : p;
    }

    Path path(String key) {
        return base().resolve(string(key)).normalize();
    }

    List<Path> paths(String key) {
        List<Path> out = new ArrayList<>();
        for (String s : strings(key)) out.add(base().resolve(s).normalize());
        return out;
    }

    String string(String key) {
        JsonNode v = root.get(key);
        if (!v.isTextual()) throw new BadInputException(file + ": '" + key + "' must be a string, got " + v);
        return v.asText();
    }

    List<String> strings(String key) {
        JsonNode v = root.get(key);
        List<String> out = new ArrayList<>();
        if (v.isTextual()) {
            out.add(v.asText());
        } else if (v.isArray()) {
            for (JsonNode e : v) {
                if (!e.isTextual()) throw new BadInputException(file + ": '" + key + "' must be a string or a list of strings");
                out.add(e.asText());
            }
        } else {
            throw new BadInputException(file + ": '" + key + "' must be a string or a list of strings, got " + v);
        }
        return out;
    }

    int integer(String key) {
        JsonNode v = root.get(key);
        if (!v.isIntegralNumber() || !v.canConvertToInt()) throw new BadInputException(file + ": '" + key + "' must be an integer, got " + v);
        return v.asInt();
    }

    boolean bool(String key) {
        JsonNode v = root.get(key);
        if (!v.isBoolean()) throw new BadInputException(file + ": '" + key + "' must be true or false, got " + v);
        return v.asBoolean();
    }
}
