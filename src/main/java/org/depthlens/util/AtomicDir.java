package org.depthlens.util;

import org.depthlens.BadInputException;
import org.depthlens.RunInterruptedException;
import org.depthlens.UsageException;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.AccessDeniedException;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.FileSystemException;
import java.nio.file.FileVisitResult;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.SimpleFileVisitor;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.BasicFileAttributes;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;

/**
 * An output folder (or, with {@link #forFile}, one output file) built under a temporary sibling
 * name ({@code .NAME.tmp-*}) and renamed into place only when complete: a run that fails or is
 * interrupted leaves nothing at the target, and its temporary is deleted on {@link #close()}, by
 * the SIGINT handler ({@link #abortAll()}) or, for other signals, by a shutdown hook.
 *
 * <p>Once aborted, {@link #commit()} refuses, so an interrupted run can never rename a folder into
 * place after its user was told that nothing was written.
 *
 * <p>{@code force} replaces only what depthlens wrote: an output folder holds the marker file {@link #MARKER}, and a
 * single-file output is replaced only when the caller's test says the file is one of its own (trace checks the
 * safetensors metadata it writes). Anything else in the way is refused ({@link UsageException}), so
 * {@code --force} can never delete a model folder, a data file or a folder of the user's. Callers check with
 * {@link OutputGuard} first that the output is no input.
 */
public final class AtomicDir implements AutoCloseable {
    private static final Set<AtomicDir> OPEN = ConcurrentHashMap.newKeySet();
    private static final List<Path> COMMITTED = new CopyOnWriteArrayList<>();
    private static volatile boolean aborting;

    private final Path target;
    private final Path temp;
    /** For a single-file output: the file inside {@link #temp} that is moved to the target. */
    private final Path file;
    private final boolean force;
    private final java.util.function.Predicate<Path> ours;
    private boolean committed;
    private boolean aborted;
    private Thread hook;

    private AtomicDir(Path target, Path temp, Path file, boolean force, java.util.function.Predicate<Path> ours) {
        this.target = target;
        this.temp = temp;
        this.file = file;
        this.force = force;
        this.ours = ours;
    }

    /** The file every output folder holds: with it, {@code --force} may replace the folder. */
    public static final String MARKER = ".depthlens-output";
    private static final String MARKER_TEXT = "This folder was written by depthlens; 'depthlens ... --force' may replace it.\n";

    /**
     * Prepares the folder {@code target} (it will hold {@link #MARKER}); refuses an existing one unless {@code force},
     * and with {@code force} one that is not an empty folder or a folder depthlens wrote.
     */
    public static AtomicDir create(Path target, boolean force) {
        return open(target, force, false, AtomicDir::isOurFolder);
    }

    /**
     * Prepares the single file {@code target}: write it at {@link #path()} (inside a temporary sibling
     * folder), then {@link #commit()} moves it into place. Refuses an existing file unless {@code force}
     * and {@code ours} says depthlens wrote it (a regular file, not a link), and an existing folder always.
     */
    public static AtomicDir forFile(Path target, boolean force, java.util.function.Predicate<Path> ours) {
        return open(target, force, true, ours);
    }

    /** {@link #forFile(Path, boolean, java.util.function.Predicate)} for a file that --force never replaces. */
    public static AtomicDir forFile(Path target, boolean force) {
        return forFile(target, force, p -> false);
    }

    /** A real folder (not a link) that is empty or holds depthlens' {@link #MARKER}. */
    public static boolean isOurFolder(Path p) {
        if (!Files.isDirectory(p, LinkOption.NOFOLLOW_LINKS)) return false;
        if (Files.isRegularFile(p.resolve(MARKER), LinkOption.NOFOLLOW_LINKS)) return true;
        try (var s = Files.list(p)) {
            return s.findAny().isEmpty();
        } catch (IOException e) {
            return false;
        }
    }

    /** With --force, what is at {@code t} must be ours to replace. */
    private static void checkReplaceable(Path t, Path given, boolean isFile, java.util.function.Predicate<Path> ours) {
        if (!Files.exists(t, LinkOption.NOFOLLOW_LINKS)) return;
        if (Files.isSymbolicLink(t)) throw new UsageException("--force: " + given + " is a symbolic link; depthlens replaces only an output it wrote");
        if (isFile) {
            if (Files.isDirectory(t, LinkOption.NOFOLLOW_LINKS)) throw new BadInputException(given + ": is a folder; the output is a file");
            if (!Files.isRegularFile(t, LinkOption.NOFOLLOW_LINKS) || !ours.test(t)) {
                throw new UsageException("--force: " + given + " is not a file depthlens wrote; it is not replaced (delete it yourself, or give another output path)");
            }
        } else if (!ours.test(t)) {
            throw new UsageException("--force: " + given + " is not a folder depthlens wrote (no " + MARKER
                    + " in it); it is not replaced (delete it yourself, or give another output path)");
        }
    }

    private static AtomicDir open(Path target, boolean force, boolean isFile, java.util.function.Predicate<Path> ours) {
        if (aborting) throw new RunInterruptedException("interrupted");
        if (target.toString().isBlank()) throw new UsageException("--out is an empty path (an unset shell variable?); give the output folder or file");
        Path t = target.toAbsolutePath().normalize();
        if (Files.exists(t, LinkOption.NOFOLLOW_LINKS) && !force) {
            throw new BadInputException(target + ": output already exists (use --force to replace it)");
        }
        if (isFile && Files.isDirectory(t)) throw new BadInputException(target + ": is a folder; the output is a file");
        if (force) checkReplaceable(t, target, isFile, ours);
        Path parent = t.getParent();
        try {
            Files.createDirectories(parent);
        } catch (IOException e) {
            throw new BadInputException(parent + ": cannot create the output folder (" + reason(parent, e) + ")", e);
        }
        if (!Files.isWritable(parent)) throw new BadInputException(parent + ": output folder is not writable");
        Path temp;
        try {
            temp = Files.createTempDirectory(parent, "." + t.getFileName() + ".tmp-");
            publicReadable(temp, "rwxr-xr-x");
        } catch (IOException e) {
            throw new BadInputException(parent + ": cannot write in the output folder (" + reason(parent, e) + ")", e);
        }
        if (!isFile) {
            try {
                Files.writeString(temp.resolve(MARKER), MARKER_TEXT);
            } catch (IOException e) {
                discard(temp);
                throw new BadInputException(parent + ": cannot write in the output folder (" + reason(parent, e) + ")", e);
            }
        }
        AtomicDir dir = new AtomicDir(t, temp, isFile ? temp.resolve(t.getFileName()) : null, force, ours);
        dir.hook = new Thread(dir::abort, "depthlens-discard-partial-output");
        OPEN.add(dir);
        try {
            Runtime.getRuntime().addShutdownHook(dir.hook);
        } catch (IllegalStateException shuttingDown) {
            dir.close();
            throw new RunInterruptedException("interrupted");
        }
        return dir;
    }

    /** A short reason for an I/O failure on folder {@code p} (may be null): what is in the way, or the OS's words. */
    public static String reason(Path p, IOException e) {
        for (Path a = p; a != null; a = a.getParent()) {
            if (Files.isRegularFile(a)) return a + " is a file, not a folder";
        }
        if (e instanceof AccessDeniedException) return "permission denied";
        if (e instanceof NoSuchFileException) return "no such file or folder";
        if (e instanceof FileSystemException f && f.getReason() != null) return f.getReason();
        return String.valueOf(e.getMessage());
    }

    /** Where to write the content: the temporary folder, or for {@link #forFile} the file inside it. */
    public Path path() {
        return file != null ? file : temp;
    }

    public Path target() {
        return target;
    }

    /**
     * Test hook: milliseconds to wait before {@link #commit()} renames, so a test can interrupt a run
     * whose output is complete but not yet in place (default 0).
     */
    private static final long COMMIT_DELAY_MS = Long.getLong("depthlens.test.commitDelayMs", 0L);

    /** Moves the finished folder (or file) into place, replacing an old one only with force. */
    public void commit() {
        if (COMMIT_DELAY_MS > 0) {
            try {
                Thread.sleep(COMMIT_DELAY_MS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new RunInterruptedException("interrupted; " + target + " not written");
            }
        }
        commitNow();
    }

    private synchronized void commitNow() {
        if (aborted || aborting) throw new RunInterruptedException("interrupted; " + target + " not written");
        try {
            Path old = null;
            if (Files.exists(target, LinkOption.NOFOLLOW_LINKS)) {
                if (!force) throw new BadInputException(target + ": output appeared while running; not replaced");
                checkReplaceable(target, target, file != null, ours); // again: it may have changed while we ran
                if (file == null) {
                    // aside first, so the target is never missing while a half-deleted old one sits there
                    old = Files.createTempDirectory(temp.getParent(), "." + target.getFileName() + ".old-");
                    Files.delete(old);
                    move(target, old, false);
                }
            }
            if (file != null) {
                if (!Files.isRegularFile(file)) throw new IllegalStateException("nothing was written to " + file);
                move(file, target, true);
                deleteTree(temp);
            } else {
                try {
                    move(temp, target, false);
                } catch (IOException e) {
                    if (old != null) move(old, target, false); // put the old output back
                    throw e;
                }
                if (old != null) discard(old);
            }
            committed = true;
            COMMITTED.add(target);
        } catch (IOException e) {
            throw new UncheckedIOException(target + ": cannot move the finished output into place (" + reason(null, e) + ")", e);
        }
    }

    private static void move(Path from, Path to, boolean replace) throws IOException {
        try {
            if (replace) {
                Files.move(from, to, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
            } else {
                Files.move(from, to, StandardCopyOption.ATOMIC_MOVE);
            }
        } catch (AtomicMoveNotSupportedException e) {
            if (replace) {
                Files.move(from, to, StandardCopyOption.REPLACE_EXISTING);
            } else {
                Files.move(from, to);
            }
        }
    }

    /** Marks the output aborted (commit will refuse) and deletes the temporary; no-op once committed. */
    private void abort() {
        synchronized (this) {
            if (committed) return;
            aborted = true;
        }
        discard(temp);
    }

    /**
     * Called by the SIGINT handler: aborts every open output and deletes its temporary. Returns the
     * outputs this process had already completed (empty: nothing was written).
     */
    public static List<Path> abortAll() {
        aborting = true;
        for (AtomicDir d : new ArrayList<>(OPEN)) d.abort();
        return List.copyOf(COMMITTED);
    }

    /** True once {@link #abortAll()} ran: failures after that are consequences of the interrupt. */
    public static boolean aborting() {
        return aborting;
    }

    /** Outputs of open (not yet closed) AtomicDirs: for tests that check nothing is left behind. */
    public static int openCount() {
        return OPEN.size();
    }

    /**
     * Deletes {@code p} even while another thread may still be writing into it (an interrupted run):
     * a few passes until it stays gone.
     */
    private static void discard(Path p) {
        for (int pass = 0; pass < 20; pass++) {
            try {
                deleteTree(p);
            } catch (IOException | RuntimeException ignored) {
                // a file appeared or vanished under us: go again
            }
            if (!Files.exists(p, LinkOption.NOFOLLOW_LINKS)) {
                if (pass > 0 || !aborting) return;
            }
            try {
                Thread.sleep(5);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return;
            }
        }
    }

    @Override
    public void close() {
        synchronized (this) {
            if (!committed) aborted = true;
        }
        if (!committed) discard(temp);
        OPEN.remove(this);
        try {
            Runtime.getRuntime().removeShutdownHook(hook);
        } catch (IllegalStateException shuttingDown) {
            // the hook itself is running
        }
    }

    public static void deleteTree(Path p) throws IOException {
        if (!Files.exists(p, LinkOption.NOFOLLOW_LINKS)) return;
        Files.walkFileTree(p, new SimpleFileVisitor<>() {
            @Override
            public FileVisitResult visitFile(Path file, BasicFileAttributes attrs) throws IOException {
                Files.deleteIfExists(file);
                return FileVisitResult.CONTINUE;
            }

            @Override
            public FileVisitResult visitFileFailed(Path file, IOException exc) throws IOException {
                if (exc instanceof NoSuchFileException) return FileVisitResult.CONTINUE;
                throw exc;
            }

            @Override
            public FileVisitResult postVisitDirectory(Path dir, IOException exc) throws IOException {
                Files.deleteIfExists(dir);
                return FileVisitResult.CONTINUE;
            }
        });
    }

    /** createTemp* makes owner-only files; a finished output should have the usual permissions. */
    public static void publicReadable(Path p, String perms) {
        try {
            Files.setPosixFilePermissions(p, java.nio.file.attribute.PosixFilePermissions.fromString(perms));
        } catch (UnsupportedOperationException | IOException ignored) {
            // not a POSIX file system: keep the default
        }
    }
}
