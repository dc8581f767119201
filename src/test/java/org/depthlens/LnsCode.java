package org.depthlens;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;

/**
 * The fixtures of ../shared/fixtures/lns_code: checkpoints saved the way the Curse-of-Depth code saves them,
 * one per NORM_TYPE, with an independent float64 forward's activations and losses (never depthlens' numbers).
 */
public final class LnsCode {
    public static final List<String> FIXTURES = List.of("pre", "lns", "post", "deeppost", "sandwich", "mix_post_pre",
            "scale_res_pre_norm", "pre_bf16_sharded_tied");

    private LnsCode() {}

    /** reference.json of the fixture. */
    public static JsonNode reference(String fixture) {
        try {
            return new ObjectMapper().readTree(Fixtures.lnsCode(fixture).resolve("reference.json").toFile());
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** The NORM_TYPE the fixture was written with (reference.json notes). */
    public static String normType(String fixture) {
        return reference(fixture).get("notes").get("norm_type").asText();
    }

    public static int postNum(String fixture) {
        return reference(fixture).get("notes").get("post_num").asInt();
    }

    /** The input ids, one array per sequence. */
    public static List<int[]> ids(String fixture) {
        try {
            JsonNode a = new ObjectMapper().readTree(Fixtures.lnsCode(fixture).resolve("ids.json").toFile());
            List<int[]> out = new ArrayList<>();
            for (JsonNode row : a) {
                int[] w = new int[row.size()];
                for (int i = 0; i < w.length; i++) w[i] = row.get(i).asInt();
                out.add(w);
            }
            return out;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /**
     * A copy of the fixture's model folder in {@code tmp} whose config.json also says {@code "norm_type"} (and
     * {@code "post_num"} when not null); the fixture itself is never modified.
     */
    public static Path withConfigKeys(String fixture, String normType, Integer postNum, Path tmp) {
        Path src = Fixtures.lnsCode(fixture).resolve("model"), dst = tmp.resolve(fixture + "-config");
        try {
            Files.createDirectories(dst);
            try (Stream<Path> s = Files.list(src)) {
                for (Path p : (Iterable<Path>) s::iterator) Files.copy(p, dst.resolve(p.getFileName()));
            }
            ObjectMapper json = new ObjectMapper();
            ObjectNode c = (ObjectNode) json.readTree(src.resolve("config.json").toFile());
            c.put("norm_type", normType);
            if (postNum != null) c.put("post_num", postNum);
            Files.delete(dst.resolve("config.json"));
            json.writeValue(dst.resolve("config.json").toFile(), c);
            return dst;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
