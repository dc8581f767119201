package org.depthlens.analysis;

import com.fasterxml.jackson.databind.JsonNode;
import org.depthlens.BadInputException;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/** Token-id input: JSON ids files and the cutting of a flat token stream into windows. */
public final class Windows {
    private Windows() {}

    /**
     * Reads a JSON ids file: a flat list of ints (one token stream, to be cut) or a list of lists (sequences
     * used as they are). Returns the sequences; a flat list comes back as one sequence with {@code flat} true.
     */
    public record Ids(List<int[]> sequences, boolean flat) {
    }

    public static Ids readIds(Path file) {
        JsonNode root;
        try {
            root = org.depthlens.JsonErrors.oneValueMapper().readTree(org.depthlens.util.InputFiles.read(file, "ids file", org.depthlens.util.InputFiles.heapShare()));
        } catch (NoSuchFileException e) {
            throw new BadInputException(file + ": ids file not found");
        } catch (com.fasterxml.jackson.core.JsonProcessingException e) {
            throw new BadInputException(file + ": ids file is not valid JSON (" + org.depthlens.JsonErrors.describe(e) + ")");
        } catch (IOException e) {
            throw new BadInputException(file + ": ids file is not valid JSON (" + String.valueOf(e.getMessage()).split("\n")[0] + ")");
        }
        if (root == null || !root.isArray() || root.isEmpty()) {
            throw new BadInputException(file + ": ids file must be a non-empty JSON list of token ids or of lists of token ids");
        }
        if (root.get(0).isArray()) {
            List<int[]> seqs = new ArrayList<>();
            for (int s = 0; s < root.size(); s++) {
                JsonNode seq = root.get(s);
                if (!seq.isArray() || seq.isEmpty()) throw new BadInputException(file + ": sequence " + s + " is not a non-empty list of ids");
                seqs.add(ints(file, seq, "sequence " + s + ", "));
            }
            return new Ids(seqs, false);
        }
        return new Ids(List.of(ints(file, root, "")), true);
    }

    private static int[] ints(Path file, JsonNode a, String where) {
        int[] out = new int[a.size()];
        for (int i = 0; i < out.length; i++) {
            JsonNode v = a.get(i);
            if (!v.isIntegralNumber() || !v.canConvertToInt()) {
                throw new BadInputException(file + ": " + where + "item " + i + " is not an integer token id: " + v);
            }
            out[i] = v.asInt();
        }
        return out;
    }

    /** Cuts a flat stream into consecutive windows of {@code window} tokens (tail dropped), at most {@code max}. */
    public static List<int[]> cut(int[] stream, int window, int max) {
        List<int[]> out = new ArrayList<>();
        for (int s = 0; s + window <= stream.length && out.size() < max; s += window) {
            int[] w = new int[window];
            System.arraycopy(stream, s, w, 0, window);
            out.add(w);
        }
        return out;
    }

    /** Checks every id is inside [0, vocab) (naming the source) and every sequence fits the context. */
    public static void validate(List<int[]> windows, int vocab, int maxPositions, String source, boolean enforceContext) {
        for (int s = 0; s < windows.size(); s++) {
            int[] w = windows.get(s);
            for (int i = 0; i < w.length; i++) {
                if (w[i] < 0 || w[i] >= vocab) {
                    throw new BadInputException(source + ": token id " + w[i] + " (window " + s + ", position " + i
                            + ") is outside the model's vocabulary of " + vocab);
                }
            }
            if (enforceContext && w.length > maxPositions) {
                throw new BadInputException(source + ": window " + s + " has " + w.length + " tokens, more than the model's context of "
                        + maxPositions + " (max_position_embeddings); give --window " + maxPositions + " or less");
            }
        }
    }
}
