package org.depthlens.analysis;

import org.depthlens.BadInputException;
import org.depthlens.text.ModelTokenizer;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.Stream;

/**
 * What a model is evaluated on: a text (a file, or a folder whose *.md/*.txt files are joined in name
 * order with blank lines), tokenized once per model with its own tokenizer and cut like a flat ids
 * list, or a JSON ids file.
 */
public final class DataSource {
    private final Path path;
    private final boolean text;
    private final byte[] bytes;

    private DataSource(Path path, boolean text, byte[] bytes) {
        this.path = path;
        this.text = text;
        this.bytes = bytes;
    }

    public static DataSource text(Path path) {
        return new DataSource(path, true, readText(path));
    }

    public static DataSource ids(Path path) {
        try {
            return new DataSource(path, false, org.depthlens.util.InputFiles.read(path, "ids file", org.depthlens.util.InputFiles.heapShare()));
        } catch (NoSuchFileException e) {
            throw new BadInputException(path + ": ids file not found");
        } catch (IOException e) {
            throw new BadInputException(path + ": cannot read (" + e.getMessage() + ")");
        }
    }

    private static byte[] readText(Path path) {
        try {
            if (Files.isDirectory(path)) {
                StringBuilder sb = new StringBuilder();
                try (Stream<Path> s = Files.list(path)) {
                    // every .md/.txt entry but a folder: a FIFO, device or dangling link among them is refused by
                    // readUtf8 (it was silently left out of the data), and their sum must fit before any is read
                    List<Path> files = s.filter(p -> {
                        String n = p.getFileName().toString();
                        return !Files.isDirectory(p) && (n.endsWith(".md") || n.endsWith(".txt"));
                    }).sorted().toList();
                    long total = 0, max = org.depthlens.util.InputFiles.heapShare();
                    for (Path f : files) {
                        org.depthlens.util.InputFiles.requireRegular(f, "text file");
                        total += Files.size(f);
                    }
                    if (total > max) {
                        throw new org.depthlens.BadInputException(path + ": its " + files.size() + " text files hold " + total
                                + " bytes, more than the " + max + " bytes depthlens reads at once");
                    }
                    for (Path f : files) {
                        if (sb.length() > 0) sb.append("\n\n");
                        sb.append(org.depthlens.util.InputFiles.readUtf8(f, "text file", org.depthlens.util.InputFiles.heapShare()));
                    }
                }
                return sb.toString().getBytes(StandardCharsets.UTF_8);
            }
            if (!Files.exists(path)) throw new NoSuchFileException(path.toString());
            byte[] b = org.depthlens.util.InputFiles.read(path, "text file", org.depthlens.util.InputFiles.heapShare());
            org.depthlens.util.InputFiles.utf8(path, b); // the same rule as for a folder's files
            return b;
        } catch (NoSuchFileException e) {
            throw new BadInputException(path + ": text file not found");
        } catch (IOException e) {
            throw new BadInputException(path + ": cannot read text (" + e.getMessage() + ")");
        }
    }

    public Path path() {
        return path;
    }

    /** The exact bytes the result is computed from (hashed into provenance). */
    public byte[] bytes() {
        return bytes.clone();
    }

    /**
     * The windows for a model: text is tokenized with the model's tokenizer (special tokens as its
     * tokenizer files say) and cut into {@code window}-token windows, tail dropped; a flat ids list is cut
     * the same way; a list of lists is used as is. At most {@code maxWindows}.
     */
    public List<int[]> windows(Path modelDir, int window, int maxWindows) {
        List<int[]> out;
        if (text) {
            String s = new String(bytes, StandardCharsets.UTF_8);
            if (s.isBlank()) throw new BadInputException(path + ": text is empty");
            long[] ids;
            try (ModelTokenizer tok = ModelTokenizer.open(modelDir)) {
                ids = tok.encode(s, true);
            }
            int[] flat = new int[ids.length];
            for (int i = 0; i < ids.length; i++) flat[i] = Math.toIntExact(ids[i]);
            out = Windows.cut(flat, window, maxWindows);
            if (out.isEmpty()) {
                throw new BadInputException(path + ": text has " + ids.length + " tokens, shorter than one window of " + window + " (--window)");
            }
        } else {
            Windows.Ids ids = Windows.readIds(path);
            if (ids.flat()) {
                out = Windows.cut(ids.sequences().get(0), window, maxWindows);
                if (out.isEmpty()) {
                    throw new BadInputException(path + ": " + ids.sequences().get(0).length + " ids, shorter than one window of " + window + " (--window)");
                }
            } else {
                for (int s = 0; s < ids.sequences().size(); s++) {
                    if (ids.sequences().get(s).length < 2) {
                        throw new BadInputException(path + ": sequence " + s + " has " + ids.sequences().get(s).length
                                + " token; a sequence needs at least 2 (the first predicts the second)");
                    }
                }
                out = ids.sequences().subList(0, Math.min(maxWindows, ids.sequences().size()));
            }
        }
        return out;
    }
}
