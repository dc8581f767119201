package org.depthlens.weights;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.Enumeration;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.zip.CRC32;
import java.util.zip.ZipEntry;
import java.util.zip.ZipFile;

/**
 * Test helper: reads the entries of a real torch.save file (with the JDK's zip reader, not ours) and
 * writes stored zip archives from entries, written from the zip specification (APPNOTE 4.3, 4.5.3):
 * zip64 fields where sizes or offsets need them (or everywhere, if forced), and entries that are
 * holes of zeros in a sparse file, so an archive over 4 GB costs no disk and no time.
 */
public final class TorchZip {
    private TorchZip() {}

    /**
     * An entry: {@code data}, or {@code holeBytes} zeros left as a hole in the file; a hole's CRC-32 is {@code crc}
     * (the reader checks a storage's bytes against it: give the CRC of what the test will poke into the hole).
     */
    public record Entry(String name, byte[] data, long holeBytes, long crc) {
        public Entry(String name, byte[] data, long holeBytes) {
            this(name, data, holeBytes, 0);
        }

        public static Entry of(String name, byte[] data) {
            return new Entry(name, data, 0);
        }

        long size() {
            return data != null ? data.length : holeBytes;
        }
    }

    /** The entries of a zip file in their order, read by java.util.zip. */
    public static LinkedHashMap<String, byte[]> read(Path zip) {
        LinkedHashMap<String, byte[]> out = new LinkedHashMap<>();
        try (ZipFile z = new ZipFile(zip.toFile())) {
            Enumeration<? extends ZipEntry> en = z.entries();
            while (en.hasMoreElements()) {
                ZipEntry e = en.nextElement();
                try (InputStream in = z.getInputStream(e)) {
                    out.put(e.getName(), in.readAllBytes());
                }
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return out;
    }

    public static List<Entry> entries(Map<String, byte[]> m) {
        List<Entry> out = new ArrayList<>();
        m.forEach((k, v) -> out.add(Entry.of(k, v)));
        return out;
    }

    /** A state-dict pickle as torch.save writes it; each tensor {name, storage type, storage key, storage numel, offset, shape, stride}. */
    public static byte[] stateDictPickle(Object[]... tensors) {
        return new TorchFileTest.Pickle().stateDict(tensors);
    }

    /**
     * The CRC-32 of {@code size} zero bytes with {@code pokes} written into them: {offset, byte value} pairs in
     * increasing offset order (zeros are fed in 1 MB steps, so a 2 GiB storage takes a second or two).
     */
    public static long crcOfZerosWith(long size, long[][] pokes) {
        CRC32 c = new CRC32();
        byte[] zeros = new byte[1 << 20];
        long pos = 0;
        for (long[] p : pokes) {
            for (long gap = p[0] - pos; gap > 0; ) {
                int n = (int) Math.min(zeros.length, gap);
                c.update(zeros, 0, n);
                gap -= n;
            }
            c.update((int) p[1]);
            pos = p[0] + 1;
        }
        for (long gap = size - pos; gap > 0; ) {
            int n = (int) Math.min(zeros.length, gap);
            c.update(zeros, 0, n);
            gap -= n;
        }
        return c.getValue();
    }

    /** Writes a stored zip of {@code entries}; {@code forceZip64} uses the zip64 forms even where 32 bits would do. */
    public static void write(Path out, List<Entry> entries, boolean forceZip64) {
        try (FileChannel ch = FileChannel.open(out, StandardOpenOption.CREATE, StandardOpenOption.TRUNCATE_EXISTING,
                StandardOpenOption.WRITE)) {
            long pos = 0;
            List<long[]> at = new ArrayList<>(); // {offset, crc}
            for (Entry e : entries) {
                byte[] name = e.name().getBytes(StandardCharsets.UTF_8);
                long size = e.size();
                long crc = e.crc();
                if (e.data() != null) {
                    CRC32 c = new CRC32();
                    c.update(e.data());
                    crc = c.getValue();
                }
                boolean z64 = forceZip64 || size >= 0xFFFFFFFFL;
                ByteBuffer h = le(30 + name.length + (z64 ? 20 : 0));
                h.putInt(0x04034b50).putShort((short) (z64 ? 45 : 20)).putShort((short) 0).putShort((short) 0)
                        .putShort((short) 0).putShort((short) 0).putInt((int) crc)
                        .putInt(z64 ? -1 : (int) size).putInt(z64 ? -1 : (int) size)
                        .putShort((short) name.length).putShort((short) (z64 ? 20 : 0)).put(name);
                if (z64) h.putShort((short) 1).putShort((short) 16).putLong(size).putLong(size);
                at.add(new long[] {pos, crc});
                pos += writeAt(ch, h, pos);
                if (e.data() != null) pos += writeAt(ch, ByteBuffer.wrap(e.data()), pos);
                else pos += e.holeBytes(); // a hole: the next write extends the file sparsely
            }
            long dirStart = pos;
            for (int i = 0; i < entries.size(); i++) {
                Entry e = entries.get(i);
                byte[] name = e.name().getBytes(StandardCharsets.UTF_8);
                long size = e.size();
                long offset = at.get(i)[0];
                boolean bigSize = forceZip64 || size >= 0xFFFFFFFFL;
                boolean bigOffset = forceZip64 || offset >= 0xFFFFFFFFL;
                int extra = (bigSize ? 16 : 0) + (bigOffset ? 8 : 0);
                ByteBuffer c = le(46 + name.length + (extra > 0 ? 4 + extra : 0));
                c.putInt(0x02014b50).putShort((short) 45).putShort((short) 45).putShort((short) 0).putShort((short) 0)
                        .putShort((short) 0).putShort((short) 0).putInt((int) at.get(i)[1])
                        .putInt(bigSize ? -1 : (int) size).putInt(bigSize ? -1 : (int) size)
                        .putShort((short) name.length).putShort((short) (extra > 0 ? 4 + extra : 0)).putShort((short) 0)
                        .putShort((short) 0).putShort((short) 0).putInt(0).putInt(bigOffset ? -1 : (int) offset).put(name);
                if (extra > 0) {
                    c.putShort((short) 1).putShort((short) extra);
                    if (bigSize) c.putLong(size).putLong(size);
                    if (bigOffset) c.putLong(offset);
                }
                pos += writeAt(ch, c, pos);
            }
            long dirSize = pos - dirStart;
            boolean z64 = forceZip64 || dirStart >= 0xFFFFFFFFL || entries.size() >= 0xFFFF;
            if (z64) {
                long rec = pos;
                ByteBuffer r = le(56);
                r.putInt(0x06064b50).putLong(44).putShort((short) 45).putShort((short) 45).putInt(0).putInt(0)
                        .putLong(entries.size()).putLong(entries.size()).putLong(dirSize).putLong(dirStart);
                pos += writeAt(ch, r, pos);
                ByteBuffer l = le(20);
                l.putInt(0x07064b50).putInt(0).putLong(rec).putInt(1);
                pos += writeAt(ch, l, pos);
            }
            ByteBuffer end = le(22);
            end.putInt(0x06054b50).putShort((short) 0).putShort((short) 0)
                    .putShort((short) (z64 ? -1 : entries.size())).putShort((short) (z64 ? -1 : entries.size()))
                    .putInt(z64 ? -1 : (int) dirSize).putInt(z64 ? -1 : (int) dirStart).putShort((short) 0);
            writeAt(ch, end, pos);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private static ByteBuffer le(int n) {
        return ByteBuffer.allocate(n).order(ByteOrder.LITTLE_ENDIAN);
    }

    private static long writeAt(FileChannel ch, ByteBuffer b, long pos) throws IOException {
        if (b.position() == b.capacity()) b.flip(); // a header just filled; wrapped data starts at 0
        int n = b.remaining();
        while (b.hasRemaining()) ch.write(b, pos + (n - b.remaining()));
        return n;
    }

    /** The bytes of a resource under /torchbin. */
    public static byte[] resource(String name) {
        try (InputStream in = TorchZip.class.getResourceAsStream("/torchbin/" + name)) {
            return in.readAllBytes();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** Copies resource /torchbin/{@code name} to {@code to}. */
    public static Path copyResource(String name, Path to) {
        try {
            Files.createDirectories(to.toAbsolutePath().getParent());
            Files.write(to, resource(name));
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return to;
    }
}
