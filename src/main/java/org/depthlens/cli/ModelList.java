package org.depthlens.cli;

import org.depthlens.BadInputException;

import java.io.IOException;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * {@code --models-from}: the checkpoints of a trajectory, from a list file or a glob.
 *
 * <p>A list file has one model folder per line, optionally followed by a tab and a label; blank lines and lines
 * starting with {@code #} are skipped; relative folders are relative to the file. A glob ({@code 'run/step*'}, with
 * {@code * ? [ ]} in its last name only) gives the matching folders in natural order (step2 before step10), each
 * labelled with its folder name.
 */
final class ModelList {
    private ModelList() {}

    static List<ModelSpec> read(String arg) {
        Path p = Path.of(arg);
        if (isGlob(arg)) return glob(p);
        return file(p);
    }

    /** A pattern ({@code * ? [ ]} in its last name), not a list file. */
    static boolean isGlob(String arg) {
        Path p = Path.of(arg);
        String last = p.getFileName() == null ? "" : p.getFileName().toString();
        return last.matches(".*[*?\\[].*");
    }

    private static List<ModelSpec> file(Path f) {
        List<String> lines;
        try {
            if (Files.exists(f)) org.depthlens.util.InputFiles.requireRegular(f, "--models-from list");
            lines = Files.readAllLines(f);
        } catch (IOException e) {
            throw new BadInputException(f + ": --models-from: cannot read the list of models (" + e.getClass().getSimpleName()
                    + (e.getMessage() == null ? "" : ": " + e.getMessage()) + ")");
        }
        Path base = RunOptions.abs(f).getParent();
        List<ModelSpec> out = new ArrayList<>();
        for (int i = 0; i < lines.size(); i++) {
            String line = lines.get(i).strip();
            if (line.isEmpty() || line.startsWith("#")) continue;
            String[] parts = lines.get(i).split("\t", 2);
            Path dir = base.resolve(parts[0].strip()).normalize();
            String label = parts.length > 1 && !parts[1].isBlank() ? parts[1].strip() : dir.getFileName().toString();
            if (!Files.isDirectory(dir)) {
                throw new BadInputException(f + ": line " + (i + 1) + ": --models-from: " + dir + " is not a folder");
            }
            out.add(new ModelSpec(dir, label));
        }
        if (out.isEmpty()) throw new BadInputException(f + ": --models-from: the file names no model folder");
        return out;
    }

    private static List<ModelSpec> glob(Path pattern) {
        Path parent = RunOptions.abs(pattern).getParent();
        String name = pattern.getFileName().toString();
        List<Path> dirs = new ArrayList<>();
        if (Files.isDirectory(parent)) {
            try (DirectoryStream<Path> s = Files.newDirectoryStream(parent, name)) {
                for (Path d : s) if (Files.isDirectory(d)) dirs.add(d.normalize());
            } catch (java.util.regex.PatternSyntaxException e) {
                throw new org.depthlens.UsageException("--models-from '" + pattern + "' is not a valid glob (" + e.getDescription()
                        + " near character " + e.getIndex() + "); quote it, and close every [");
            } catch (IOException e) {
                throw new BadInputException(parent + ": --models-from: cannot list the folder (" + e.getMessage() + ")");
            }
        }
        if (dirs.isEmpty()) throw new BadInputException(pattern + ": --models-from: the pattern matches no folder");
        dirs.sort(Comparator.comparing((Path d) -> d.getFileName().toString(), ModelList::natural));
        return dirs.stream().map(d -> new ModelSpec(d, d.getFileName().toString())).toList();
    }

    private static final Pattern RUN = Pattern.compile("\\d+|\\D+");

    /** Compares names with their digit runs as numbers: step2 &lt; step10. */
    static int natural(String a, String b) {
        Matcher x = RUN.matcher(a);
        Matcher y = RUN.matcher(b);
        while (x.find() && y.find()) {
            String p = x.group();
            String q = y.group();
            int c;
            if (Character.isDigit(p.charAt(0)) && Character.isDigit(q.charAt(0))) {
                String ps = p.replaceFirst("^0+(?=.)", "");
                String qs = q.replaceFirst("^0+(?=.)", "");
                c = ps.length() != qs.length() ? Integer.compare(ps.length(), qs.length()) : ps.compareTo(qs);
            } else {
                c = p.compareTo(q);
            }
            if (c != 0) return c;
        }
        return a.compareTo(b);
    }
}
