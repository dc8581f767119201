package org.depthlens.analysis;

import org.depthlens.BadInputException;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.FileVisitResult;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.SimpleFileVisitor;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.BasicFileAttributes;

/**
 * An output folder built under a temporary sibling name and renamed into place only when complete:
 * a run that fails or is interrupted leaves nothing at the target (the temporary is deleted on close).
 */
public final class AtomicDir implements AutoCloseable {
    private final Path target;
    private final Path temp;
    private final boolean force;
    private boolean committed;
    private Thread hook;

    private AtomicDir(Path target, Path temp, boolean force) {
        this.target = target;
        this.temp = temp;
        this.force = force;
    }

    /** Prepares {@code target}; refuses an existing one unless {@code force}. */
    public static AtomicDir create(Path target, boolean force) {
        Path t = target.toAbsolutePath().normalize();
        if (Files.exists(t) && !force) {
            throw new BadInputException(target + ": output already exists (use --force to replace it)");
        }
        Path parent = t.getParent();
        try {
            Files.createDirectories(parent);
        } catch (IOException e) {
            throw new BadInputException(parent + ": cannot create output directory (" + e.getMessage() + ")");
        }
        if (!Files.isWritable(parent)) throw new BadInputException(parent + ": output directory is not writable");
        Path temp;
        try {
            temp = Files.createTempDirectory(parent, "." + t.getFileName() + ".tmp-");
            org.depthlens.weights.SafetensorsWriter.publicReadable(temp, "rwxr-xr-x");
        } catch (IOException e) {
            throw new BadInputException(parent + ": cannot write there (" + e.getMessage() + ")");
        }
        AtomicDir dir = new AtomicDir(t, temp, force);
        dir.hook = new Thread(dir::discardQuietly, "depthlens-discard-partial-output");
        Runtime.getRuntime().addShutdownHook(dir.hook);
        return dir;
    }

    /** Where to write the content. */
    public Path path() {
        return temp;
    }

    public Path target() {
        return target;
    }

    /** Moves the finished folder into place (replacing an old one only with force). */
    public void commit() {
        try {
            if (Files.exists(target)) {
                if (!force) throw new BadInputException(target + ": output appeared while running; not replaced");
                deleteTree(target);
            }
            try {
                Files.move(temp, target, StandardCopyOption.ATOMIC_MOVE);
            } catch (AtomicMoveNotSupportedException e) {
                Files.move(temp, target);
            }
            committed = true;
        } catch (IOException e) {
            throw new UncheckedIOException(target + ": cannot move the finished output into place", e);
        }
    }

    private void discardQuietly() {
        if (committed) return;
        try {
            deleteTree(temp);
        } catch (IOException | RuntimeException ignored) {
            // best effort on the way out
        }
    }

    @Override
    public void close() {
        discardQuietly();
        try {
            Runtime.getRuntime().removeShutdownHook(hook);
        } catch (IllegalStateException shuttingDown) {
            // the hook itself is running
        }
    }

    public static void deleteTree(Path p) throws IOException {
        if (!Files.exists(p)) return;
        Files.walkFileTree(p, new SimpleFileVisitor<>() {
            @Override
            public FileVisitResult visitFile(Path file, BasicFileAttributes attrs) throws IOException {
                Files.delete(file);
                return FileVisitResult.CONTINUE;
            }

            @Override
            public FileVisitResult postVisitDirectory(Path dir, IOException exc) throws IOException {
                Files.delete(dir);
                return FileVisitResult.CONTINUE;
            }
        });
    }
}
