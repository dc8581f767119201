package org.depthlens.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import org.depthlens.BadInputException;
import picocli.CommandLine;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Locale;
import java.util.Set;
import java.util.TreeSet;

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
            if (!Files.exists(file)) throw new NoSuchFileException(file.toString());
            root = org.depthlens.JsonErrors.strictMapper().readTree(org.depthlens.util.InputFiles.read(file, "run config",
                    org.depthlens.util.InputFiles.MAX_JSON_BYTES));
        } catch (NoSuchFileException e) {
            throw new BadInputException(file + ": run config not found");
        } catch (com.fasterxml.jackson.core.JsonParseException e) {
            String dup = org.depthlens.JsonErrors.duplicateKey(e);
            if (dup != null) throw new BadInputException(file + ": key '" + dup + "' appears twice; give each option once");
            throw new BadInputException(file + ": run config is not valid JSON (" + org.depthlens.JsonErrors.describe(e) + ")");
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

    /** The keys a command's config may hold: its long options in camelCase, but for --config, --debug, --help, --version. */
    static Set<String> keysOf(CommandLine.Model.CommandSpec spec) {
        Set<String> keys = new TreeSet<>();
        for (CommandLine.Model.OptionSpec o : spec.options()) {
            String key = key(o);
            if (key != null && !NOT_IN_A_CONFIG.contains(key)) keys.add(key);
        }
        return keys;
    }

    private static final Set<String> NOT_IN_A_CONFIG = Set.of("config", "debug", "help", "version");

    /** {@code maxWindows} for {@code --max-windows}; null for an option without a long name. */
    private static String key(CommandLine.Model.OptionSpec o) {
        String name = o.longestName();
        if (!name.startsWith("--")) return null;
        return keyOf(name);
    }

    /** The config key of the long option {@code --max-windows}: {@code maxWindows}. */
    static String keyOf(String name) {
        StringBuilder b = new StringBuilder();
        boolean up = false;
        for (char ch : name.substring(name.startsWith("--") ? 2 : 0).toCharArray()) {
            if (ch == '-') {
                up = true;
            } else {
                b.append(up ? Character.toUpperCase(ch) : ch);
                up = false;
            }
        }
        return b.toString();
    }

    /**
     * Reads {@code file} as the run config of the command {@code spec} and sets every option it holds that the
     * command line did not give (the command line wins). Paths are relative to the config file's folder.
     */
    static Origin apply(Path file, CommandLine.Model.CommandSpec spec) {
        RunConfig c = read(file, keysOf(spec));
        CommandLine.ParseResult pr = spec.commandLine().getParseResult();
        Set<String> applied = new TreeSet<>();
        for (CommandLine.Model.OptionSpec o : spec.options()) {
            String key = key(o);
            if (key == null || NOT_IN_A_CONFIG.contains(key) || !c.has(key) || pr.hasMatchedOption(o)) continue;
            o.setValue(c.value(key, o.type(), o.auxiliaryTypes()));
            applied.add(key);
        }
        return new Origin(file, applied);
    }

    /** The value of {@code key} as an option of this type would hold it. */
    private Object value(String key, Class<?> type, Class<?>[] aux) {
        if (List.class.isAssignableFrom(type)) {
            Class<?> element = aux.length > 0 ? aux[0] : String.class;
            if (element == Path.class) return paths(key);
            // --models-from takes strings (a glob is no Path) but names files and folders all the same
            if (element == String.class) return key.equals("modelsFrom") ? pathStrings(key) : strings(key);
            if (element == Integer.class) return integers(key);
        } else if (type == Path.class) {
            return path(key);
        } else if (type == String.class) {
            return string(key);
        } else if (type == int.class || type == Integer.class) {
            return integer(key);
        } else if (type == boolean.class || type == Boolean.class) {
            return bool(key);
        } else if (type.isEnum()) {
            return enumValue(key, type);
        }
        throw new IllegalStateException("run config: no conversion for option type " + type.getName() + " ('" + key + "')");
    }

    private Object enumValue(String key, Class<?> type) {
        String v = string(key);
        List<String> names = new ArrayList<>();
        for (Object e : type.getEnumConstants()) {
            String n = ((Enum<?>) e).name();
            if (n.equalsIgnoreCase(v)) return e;
            names.add(n.toLowerCase(Locale.ROOT));
        }
        String allowed = names.size() == 1 ? names.get(0)
                : String.join(", ", names.subList(0, names.size() - 1)) + " or " + names.get(names.size() - 1);
        throw new BadInputException(file + ": '" + key + "' must be " + allowed + ", got '" + v + "'");
    }

    boolean has(String key) {
        return root.hasNonNull(key);
    }

    private Path base() {
        Path p = file.toAbsolutePath().getParent();
        return p == null ? Path.of(".") : p;
    }

    /** Relative to the config's folder; an empty string is refused (it would name that folder). */
    Path path(String key) {
        return base().resolve(nonEmpty(key, string(key))).normalize();
    }

    List<Path> paths(String key) {
        List<Path> out = new ArrayList<>();
        for (String s : strings(key)) out.add(base().resolve(nonEmpty(key, s)).normalize());
        return out;
    }

    /** Paths (or globs) as strings, relative to the config's folder like every other path in it. */
    List<String> pathStrings(String key) {
        List<String> out = new ArrayList<>();
        for (String s : strings(key)) out.add(base().resolve(nonEmpty(key, s)).normalize().toString());
        return out;
    }

    private String nonEmpty(String key, String path) {
        if (path.isBlank()) throw new BadInputException(file + ": '" + key + "' is an empty path");
        return path;
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

    /** An integer or a list of integers. */
    List<Integer> integers(String key) {
        JsonNode v = root.get(key);
        List<Integer> out = new ArrayList<>();
        for (JsonNode e : v.isArray() ? v : List.of(v)) {
            if (!e.isIntegralNumber() || !e.canConvertToInt()) {
                throw new BadInputException(file + ": '" + key + "' must be an integer or a list of integers, got " + v);
            }
            out.add(e.asInt());
        }
        return out;
    }

    boolean bool(String key) {
        JsonNode v = root.get(key);
        if (!v.isBoolean()) throw new BadInputException(file + ": '" + key + "' must be true or false, got " + v);
        return v.asBoolean();
    }
}
