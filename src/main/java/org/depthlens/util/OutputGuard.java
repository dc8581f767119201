package org.depthlens.util;

import org.depthlens.UsageException;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;

/**
 * The rule that an output can never hit an input: every command that writes calls {@link #check} with its output
 * path and everything it reads, before it computes anything. {@code --force} then replaces the output only when
 * depthlens wrote it ({@link AtomicDir}'s marker), so together no option combination can delete or overwrite a model,
 * a data file, a config, the current directory, the home directory or a filesystem root.
 *
 * <p>Paths are compared as canonical real paths: symlinks are resolved for the part of a path that exists, and
 * {@code ..} is applied after that (the rest cannot hold symlinks), so {@code -o link-to-model} or
 * {@code -o model/sub/..} are seen for what they are.
 */
public final class OutputGuard {
    private OutputGuard() {}

    /** Something a command reads, named as the user gave it ({@code --model}, {@code run.json: 'ids'}). */
    public record Input(String name, Path path) {
    }

    public static Input input(String name, Path path) {
        return new Input(name, path);
    }

    /** Inputs that share one name ({@code --tasks a b c}). */
    public static List<Input> inputs(String name, Collection<Path> paths) {
        List<Input> out = new ArrayList<>();
        for (Path p : paths) if (p != null) out.add(new Input(name, p));
        return out;
    }

    /**
     * Refuses (a {@link UsageException}, exit 2, one line naming {@code option} and the path) an output path that is
     * empty, that is, contains or lies inside any of {@code inputs}, or that is or contains the current directory,
     * the home directory or a filesystem root.
     *
     * @param option how the user named the output: {@code --out}, or {@code run.json: 'out'}
     */
    public static void check(String option, Path out, Collection<Input> inputs) {
        if (out == null || out.toString().isBlank()) {
            throw new UsageException(option + " is an empty path (an unset shell variable?); give the output folder or file");
        }
        Path o = real(out);
        String said = option + " " + out;
        if (o.getParent() == null) throw new UsageException(said + " is a filesystem root; give a new folder");
        for (Input in : inputs) {
            if (in.path() == null) continue;
            Path i = real(in.path());
            if (o.equals(i)) throw new UsageException(said + " is the input " + in.name() + " " + in.path() + "; give another output path");
            if (i.startsWith(o)) {
                throw new UsageException(said + " contains the input " + in.name() + " " + in.path() + "; give another output path");
            }
            if (o.startsWith(i)) {
                throw new UsageException(said + " lies inside the input " + in.name() + " " + in.path() + "; give another output path");
            }
        }
        Path cwd = real(Path.of("").toAbsolutePath());
        if (cwd.startsWith(o)) throw new UsageException(said + " is or contains the current directory " + cwd + "; give a new folder");
        String home = System.getProperty("user.home");
        if (home != null && !home.isBlank()) {
            Path h = real(Path.of(home));
            if (h.startsWith(o)) throw new UsageException(said + " is or contains the home directory " + h + "; give a new folder");
        }
    }

    /**
     * The canonical form of {@code p}: absolute, every existing component's symlinks resolved, {@code .} and
     * {@code ..} applied in order (a {@code ..} after a symlink goes up from the link's target, as the OS does).
     */
    public static Path real(Path p) {
        Path abs = p.toAbsolutePath();
        Path cur = abs.getRoot();
        boolean exists = true;
        for (Path name : abs) {
            String n = name.toString();
            if (n.equals(".")) continue;
            if (n.equals("..")) {
                if (cur.getParent() != null) cur = cur.getParent();
                continue;
            }
            cur = cur.resolve(n);
            if (exists) {
                try {
                    cur = cur.toRealPath();
                } catch (IOException e) {
                    // does not exist yet (or a dangling link, which a rename into place replaces, not follows)
                    exists = false;
                }
            }
        }
        return cur;
    }
}
