package org.depthlens;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.ArrayList;
import java.util.List;

/** The trained 24-block Pre-LN/LNS pair in shared/checkpoints/tiny-curse-24 and its reference metrics. */
public final class TinyCurse {
    private static JsonNode reference;
    private static int[] ids;

    private TinyCurse() {}

    public static synchronized JsonNode reference() {
        if (reference == null) {
            try {
                reference = new ObjectMapper().readTree(Fixtures.tinyCurse().resolve("reference_metrics.json").toFile());
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        }
        return reference;
    }

    /** The first {@code count} windows of {@code len} consecutive validation ids. */
    public static synchronized List<int[]> windows(int count, int len) {
        if (ids == null) {
            try {
                JsonNode a = new ObjectMapper().readTree(Fixtures.tinyCurse().resolve("validation_ids.json").toFile());
                ids = new int[a.size()];
                for (int i = 0; i < ids.length; i++) ids[i] = a.get(i).asInt();
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        }
        List<int[]> out = new ArrayList<>();
        for (int w = 0; w < count; w++) {
            int[] win = new int[len];
            System.arraycopy(ids, w * len, win, 0, len);
            out.add(win);
        }
        return out;
    }
}
