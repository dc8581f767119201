package org.depthlens.cli;

import java.io.File;
import java.io.IOException;
import java.lang.reflect.InvocationHandler;
import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.Method;
import java.lang.reflect.Proxy;
import java.net.URI;
import java.nio.ByteBuffer;
import java.nio.MappedByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.channels.ReadableByteChannel;
import java.nio.channels.SeekableByteChannel;
import java.nio.channels.WritableByteChannel;
import java.nio.file.AccessMode;
import java.nio.file.CopyOption;
import java.nio.file.DirectoryStream;
import java.nio.file.FileStore;
import java.nio.file.FileSystem;
import java.nio.file.LinkOption;
import java.nio.file.OpenOption;
import java.nio.file.Path;
import java.nio.file.PathMatcher;
import java.nio.file.StandardOpenOption;
import java.nio.file.WatchService;
import java.nio.file.attribute.BasicFileAttributes;
import java.nio.file.attribute.FileAttribute;
import java.nio.file.attribute.FileAttributeView;
import java.nio.file.attribute.UserPrincipalLookupService;
import java.nio.file.spi.FileSystemProvider;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.atomic.AtomicLong;

/**
 * A full disk for a child JVM: installed with
 * {@code -Djava.nio.file.spi.DefaultFileSystemProvider=org.depthlens.cli.FullDiskFileSystemProvider},
 * it passes everything to the platform's file system, except that once
 * {@code depthlens.test.fullDisk.bytes} bytes have been written to files under
 * {@code depthlens.test.fullDisk.under}, every further write there fails with
 * "No space left on device", as a full disk does. Each file opened for writing there is logged to
 * stderr as {@code fulldisk: write PATH}, and the failure as {@code fulldisk: ENOSPC PATH}.
 *
 * <p>Everything the CLI writes goes through java.nio.file (Files.write, FileChannel.open), so this
 * sees every byte of metrics.json, the CSVs, the charts, report.html and safetensors outputs.
 */
public final class FullDiskFileSystemProvider extends FileSystemProvider {
    private final FileSystemProvider d;
    private final WrappedFs fs;
    private final String under;
    private final long limit;
    private final AtomicLong written = new AtomicLong();

    public FullDiskFileSystemProvider(FileSystemProvider platform) {
        this.d = platform;
        this.fs = new WrappedFs(platform.getFileSystem(URI.create("file:///")));
        this.under = System.getProperty("depthlens.test.fullDisk.under", "/nonexistent-depthlens-fulldisk");
        this.limit = Long.getLong("depthlens.test.fullDisk.bytes", Long.MAX_VALUE);
    }

    // ---- paths: dynamic proxies that carry the platform path ----

    private final class PathHandler implements InvocationHandler {
        final Path p;

        PathHandler(Path p) {
            this.p = p;
        }

        @Override
        public Object invoke(Object proxy, Method m, Object[] args) throws Throwable {
            switch (m.getName()) {
                case "getFileSystem":
                    return fs;
                case "toFile":
                    return new File(p.toString());
                case "equals":
                    return args[0] instanceof Path o && p.equals(unwrap(o));
                case "hashCode":
                    return p.hashCode();
                case "toString":
                    return p.toString();
                default:
                    break;
            }
            Object[] a = args == null ? null : args.clone();
            if (a != null) {
                for (int i = 0; i < a.length; i++) if (a[i] instanceof Path q) a[i] = unwrap(q);
            }
            Object r;
            try {
                r = m.invoke(p, a);
            } catch (InvocationTargetException e) {
                throw e.getCause();
            }
            if (r instanceof Path q) return wrap(q);
            if (r instanceof Iterator<?> it && m.getName().equals("iterator")) {
                List<Path> out = new ArrayList<>();
                it.forEachRemaining(x -> out.add(wrap((Path) x)));
                return out.iterator();
            }
            return r;
        }
    }

    Path wrap(Path p) {
        if (p == null || Proxy.isProxyClass(p.getClass())) return p;
        return (Path) Proxy.newProxyInstance(getClass().getClassLoader(), new Class<?>[] {Path.class}, new PathHandler(p));
    }

    static Path unwrap(Path p) {
        if (p != null && Proxy.isProxyClass(p.getClass()) && Proxy.getInvocationHandler(p) instanceof FullDiskFileSystemProvider.PathHandler h) {
            return h.p;
        }
        return p;
    }

    private final class WrappedFs extends FileSystem {
        final FileSystem f;

        WrappedFs(FileSystem f) {
            this.f = f;
        }

        @Override public FileSystemProvider provider() { return FullDiskFileSystemProvider.this; }
        @Override public void close() throws IOException { f.close(); }
        @Override public boolean isOpen() { return f.isOpen(); }
        @Override public boolean isReadOnly() { return f.isReadOnly(); }
        @Override public String getSeparator() { return f.getSeparator(); }

        @Override
        public Iterable<Path> getRootDirectories() {
            List<Path> out = new ArrayList<>();
            for (Path p : f.getRootDirectories()) out.add(wrap(p));
            return out;
        }

        @Override public Iterable<FileStore> getFileStores() { return f.getFileStores(); }
        @Override public Set<String> supportedFileAttributeViews() { return f.supportedFileAttributeViews(); }
        @Override public Path getPath(String first, String... more) { return wrap(f.getPath(first, more)); }

        @Override
        public PathMatcher getPathMatcher(String syntaxAndPattern) {
            PathMatcher m = f.getPathMatcher(syntaxAndPattern);
            return p -> m.matches(unwrap(p));
        }

        @Override public UserPrincipalLookupService getUserPrincipalLookupService() { return f.getUserPrincipalLookupService(); }
        @Override public WatchService newWatchService() throws IOException { return f.newWatchService(); }
    }

    // ---- the full disk ----

    private boolean counted(Path p, Set<? extends OpenOption> options) {
        boolean write = options.contains(StandardOpenOption.WRITE) || options.contains(StandardOpenOption.APPEND);
        boolean hit = write && p.toAbsolutePath().toString().startsWith(under);
        if (hit) System.err.println("fulldisk: write " + p);
        return hit;
    }

    /** Books {@code n} bytes for {@code p}, or fails as a full disk does. */
    private void book(Path p, int n) throws IOException {
        if (written.addAndGet(n) > limit) {
            written.addAndGet(-n);
            System.err.println("fulldisk: ENOSPC " + p);
            throw new IOException("No space left on device");
        }
    }

    private final class CountingChannel extends FileChannel {
        final FileChannel c;
        final Path p;

        CountingChannel(FileChannel c, Path p) {
            this.c = c;
            this.p = p;
        }

        @Override public int read(ByteBuffer dst) throws IOException { return c.read(dst); }
        @Override public long read(ByteBuffer[] dsts, int offset, int length) throws IOException { return c.read(dsts, offset, length); }

        @Override
        public int write(ByteBuffer src) throws IOException {
            book(p, src.remaining());
            return c.write(src);
        }

        @Override
        public long write(ByteBuffer[] srcs, int offset, int length) throws IOException {
            long n = 0;
            for (int i = offset; i < offset + length; i++) n += srcs[i].remaining();
            book(p, (int) Math.min(Integer.MAX_VALUE, n));
            return c.write(srcs, offset, length);
        }

        @Override public long position() throws IOException { return c.position(); }
        @Override public FileChannel position(long newPosition) throws IOException { c.position(newPosition); return this; }
        @Override public long size() throws IOException { return c.size(); }
        @Override public FileChannel truncate(long size) throws IOException { c.truncate(size); return this; }
        @Override public void force(boolean metaData) throws IOException { c.force(metaData); }

        @Override
        public long transferTo(long position, long count, WritableByteChannel target) throws IOException {
            return c.transferTo(position, count, target);
        }

        @Override
        public long transferFrom(ReadableByteChannel src, long position, long count) throws IOException {
            book(p, (int) Math.min(Integer.MAX_VALUE, count));
            return c.transferFrom(src, position, count);
        }

        @Override public int read(ByteBuffer dst, long position) throws IOException { return c.read(dst, position); }

        @Override
        public int write(ByteBuffer src, long position) throws IOException {
            book(p, src.remaining());
            return c.write(src, position);
        }

        @Override
        public MappedByteBuffer map(MapMode mode, long position, long size) throws IOException {
            if (mode != MapMode.READ_ONLY) throw new IOException("fulldisk: writable mappings are not simulated");
            return c.map(mode, position, size);
        }

        @Override public FileLock lock(long position, long size, boolean shared) throws IOException { return c.lock(position, size, shared); }
        @Override public FileLock tryLock(long position, long size, boolean shared) throws IOException { return c.tryLock(position, size, shared); }
        @Override protected void implCloseChannel() throws IOException { c.close(); }
    }

    // ---- provider: unwrap, delegate, wrap ----

    @Override public String getScheme() { return d.getScheme(); }
    @Override public FileSystem newFileSystem(URI uri, Map<String, ?> env) throws IOException { return d.newFileSystem(uri, env); }
    @Override public FileSystem getFileSystem(URI uri) { return fs; }
    @Override public Path getPath(URI uri) { return wrap(d.getPath(uri)); }

    @Override
    public SeekableByteChannel newByteChannel(Path path, Set<? extends OpenOption> options, FileAttribute<?>... attrs) throws IOException {
        Path p = unwrap(path);
        if (!counted(p, options)) return d.newByteChannel(p, options, attrs);
        return new CountingChannel(d.newFileChannel(p, options, attrs), p);
    }

    @Override
    public FileChannel newFileChannel(Path path, Set<? extends OpenOption> options, FileAttribute<?>... attrs) throws IOException {
        Path p = unwrap(path);
        FileChannel c = d.newFileChannel(p, options, attrs);
        return counted(p, options) ? new CountingChannel(c, p) : c;
    }

    @Override
    public DirectoryStream<Path> newDirectoryStream(Path dir, DirectoryStream.Filter<? super Path> filter) throws IOException {
        DirectoryStream<Path> s = d.newDirectoryStream(unwrap(dir), p -> filter.accept(wrap(p)));
        return new DirectoryStream<>() {
            @Override
            public Iterator<Path> iterator() {
                Iterator<Path> it = s.iterator();
                return new Iterator<>() {
                    @Override public boolean hasNext() { return it.hasNext(); }
                    @Override public Path next() { return wrap(it.next()); }
                };
            }

            @Override public void close() throws IOException { s.close(); }
        };
    }

    @Override public void createDirectory(Path dir, FileAttribute<?>... attrs) throws IOException { d.createDirectory(unwrap(dir), attrs); }
    @Override public void createSymbolicLink(Path link, Path target, FileAttribute<?>... attrs) throws IOException { d.createSymbolicLink(unwrap(link), unwrap(target), attrs); }
    @Override public void createLink(Path link, Path existing) throws IOException { d.createLink(unwrap(link), unwrap(existing)); }
    @Override public Path readSymbolicLink(Path link) throws IOException { return wrap(d.readSymbolicLink(unwrap(link))); }
    @Override public void delete(Path path) throws IOException { d.delete(unwrap(path)); }
    @Override public void copy(Path source, Path target, CopyOption... options) throws IOException { d.copy(unwrap(source), unwrap(target), options); }
    @Override public void move(Path source, Path target, CopyOption... options) throws IOException { d.move(unwrap(source), unwrap(target), options); }
    @Override public boolean isSameFile(Path path, Path path2) throws IOException { return d.isSameFile(unwrap(path), unwrap(path2)); }
    @Override public boolean isHidden(Path path) throws IOException { return d.isHidden(unwrap(path)); }
    @Override public FileStore getFileStore(Path path) throws IOException { return d.getFileStore(unwrap(path)); }
    @Override public void checkAccess(Path path, AccessMode... modes) throws IOException { d.checkAccess(unwrap(path), modes); }

    @Override
    public <V extends FileAttributeView> V getFileAttributeView(Path path, Class<V> type, LinkOption... options) {
        return d.getFileAttributeView(unwrap(path), type, options);
    }

    @Override
    public <A extends BasicFileAttributes> A readAttributes(Path path, Class<A> type, LinkOption... options) throws IOException {
        return d.readAttributes(unwrap(path), type, options);
    }

    @Override
    public Map<String, Object> readAttributes(Path path, String attributes, LinkOption... options) throws IOException {
        return d.readAttributes(unwrap(path), attributes, options);
    }

    @Override
    public void setAttribute(Path path, String attribute, Object value, LinkOption... options) throws IOException {
        d.setAttribute(unwrap(path), attribute, value, options);
    }
}
