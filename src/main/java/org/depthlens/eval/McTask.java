package org.depthlens.eval;

import com.fasterxml.jackson.databind.JsonNode;
import org.depthlens.BadInputException;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * A multiple-choice task file: JSONL, one item per line,
 * {@code {"context": "...", "choices": ["...", ...], "gold": i}} (other keys are ignored). The choices
 * are the continuations exactly as scored: lm-eval's {@code target_delimiter} (a space) belongs either at
 * the end of the context or at the start of each choice.
 */
public record McTask(Path path, String name, List<Item> items, byte[] bytes) {

    /** One question: the choices are scored as continuations of the context; {@code line} is its line in the file (from 1). */
    public record Item(String context, List<String> choices, int gold, int line) {
        public Item {
            choices = List.copyOf(choices);
            if (choices.isEmpty()) throw new IllegalArgumentException("no choices");
            if (gold < 0 || gold >= choices.size()) throw new IllegalArgumentException("gold " + gold + " outside 0.." + (choices.size() - 1));
        }
    }

    public static McTask read(Path path) {
        byte[] raw = Documents.readBytes(path, "task file");
        String s = Documents.utf8(path, raw);
        List<Item> items = new ArrayList<>();
        Documents.forEachJsonLine(path, s, (n, line) -> {
            String at = path + ": line " + line;
            if (n == null || !n.isObject()) throw new BadInputException(at + " must be a JSON object {\"context\", \"choices\", \"gold\"}");
            if (!n.path("context").isTextual()) throw new BadInputException(at + ": \"context\" must be a string" + got(n, "context"));
            JsonNode ch = n.path("choices");
            if (!ch.isArray() || ch.isEmpty()) throw new BadInputException(at + ": \"choices\" must be a non-empty list of strings" + got(n, "choices"));
            List<String> choices = new ArrayList<>();
            for (JsonNode c : ch) {
                if (!c.isTextual() || c.asText().isEmpty()) throw new BadInputException(at + ": every choice must be a non-empty string");
                choices.add(c.asText());
            }
            JsonNode g = n.path("gold");
            if (!g.isIntegralNumber() || !g.canConvertToInt() || g.asInt() < 0 || g.asInt() >= choices.size()) {
                throw new BadInputException(at + ": \"gold\" must be an integer index into choices (0.." + (choices.size() - 1) + ")" + got(n, "gold"));
            }
            items.add(new Item(n.get("context").asText(), choices, g.asInt(), line));
        });
        if (items.isEmpty()) throw new BadInputException(path + ": no items (the file is empty or blank)");
        return new McTask(path, path.getFileName().toString(), List.copyOf(items), raw);
    }

    /** ", got VALUE" for a key present with a wrong value, " (the key is missing)" for an absent one. */
    private static String got(JsonNode item, String key) {
        JsonNode v = item.get(key);
        if (v == null) return " (the key is missing)";
        String t = v.toString();
        return ", got " + (t.length() > 60 ? t.substring(0, 57) + "..." : t);
    }
}
