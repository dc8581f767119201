package org.depthlens.weights;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * The central directory of a zip archive whose entries are stored uncompressed, as torch.save
 * writes them, so that every entry is a byte range of the file that can be memory-mapped. Zip64
 * (archives over 4 GB, or over 65535 entries) is read from the zip64 end record and the zip64
 * extra fields. Everything is checked against the file size before it is used, and nothing a
 * field claims is allocated beyond the central directory itself (at most 100 MB and the file).
 */
final class StoredZip {
    static final long MAX_DIRECTORY_BYTES = 100_000_000L;
    private static final int EOCD = 0x06054b50;
    private static final int ZIP64_LOCATOR = 0x07064b50;
    private static final int ZIP64_EOCD = 0x06064b50;
    private static final int CENTRAL = 0x02014b50;
    private static final int LOCAL = 0x04034b50;

    /** One entry: its name, its stored size and CRC-32, and where its local header starts. */
    record Entry(String name, long size, int crc, long localHeader) {}

    private final Path file;
    private final FileChannel ch;
    private final long fileSize;
    private final Map<String, Entry> entries;
    private final byte[] directory;

    private StoredZip(Path file, FileChannel ch, long fileSize, Map<String, Entry> entries, byte[] directory) {
        this.file = file;
        this.ch = ch;
        this.fileSize = fileSize;
        this.entries = entries;
        this.directory = directory;
    }

    Map<String, Entry> entries() {
        return entries;
    }

    /** The raw central directory (names, sizes, CRC-32s, offsets of every entry). */
    byte[] directory() {
        return directory;
    }

    static StoredZip read(Path file, FileChannel ch, long size) throws IOException {
        String f = Msg.f(file);
        if (size < 22) throw new SafetensorsException(f + ": file is " + size + " bytes, too short for a zip archive (torch.save format)");
        // the end record is the last 22 bytes plus a comment of at most 65535 bytes
        int tail = (int) Math.min(size, 22 + 65535);
        ByteBuffer end = ByteBuffer.allocate(tail).order(ByteOrder.LITTLE_ENDIAN);
        WeightsFile.readFully(ch, end, size - tail, file);
        int at = -1;
        for (int i = tail - 22; i >= 0; i--) {
            if (end.getInt(i) == EOCD && i + 22 + (end.getShort(i + 20) & 0xFFFF) == tail) {
                at = i;
                break;
            }
        }
        if (at < 0) throw new SafetensorsException(f + ": no zip end record; truncated file, or not a torch.save zip archive");
        long count = end.getShort(at + 10) & 0xFFFF;
        long dirSize = end.getInt(at + 12) & 0xFFFFFFFFL;
        long dirOffset = end.getInt(at + 16) & 0xFFFFFFFFL;
        long endRecord = size - tail + at;
        if (count == 0xFFFF || dirSize == 0xFFFFFFFFL || dirOffset == 0xFFFFFFFFL) {
            if (endRecord < 20) throw new SafetensorsException(f + ": zip64 archive without its zip64 locator");
            ByteBuffer loc = ByteBuffer.allocate(20).order(ByteOrder.LITTLE_ENDIAN);
            WeightsFile.readFully(ch, loc, endRecord - 20, file);
            if (loc.getInt(0) != ZIP64_LOCATOR) throw new SafetensorsException(f + ": zip64 archive without its zip64 locator");
            long rec = loc.getLong(8);
            if (rec < 0 || rec > endRecord - 20 - 56) throw new SafetensorsException(f + ": zip64 end record offset " + rec + " outside the file");
            ByteBuffer z = ByteBuffer.allocate(56).order(ByteOrder.LITTLE_ENDIAN);
            WeightsFile.readFully(ch, z, rec, file);
            if (z.getInt(0) != ZIP64_EOCD) throw new SafetensorsException(f + ": no zip64 end record at offset " + rec);
            count = z.getLong(32);
            dirSize = z.getLong(40);
            dirOffset = z.getLong(48);
            endRecord = rec;
        }
        if (dirSize < 0 || dirOffset < 0 || dirSize > endRecord || dirOffset > endRecord - dirSize) {
            throw new SafetensorsException(f + ": zip central directory [" + dirOffset + ", +" + dirSize + ") outside the file; truncated?");
        }
        if (dirSize > MAX_DIRECTORY_BYTES) {
            throw new SafetensorsException(f + ": zip central directory of " + dirSize + " bytes exceeds the 100 MB limit");
        }
        if (count < 0 || count > dirSize / 46) {
            throw new SafetensorsException(f + ": zip end record claims " + count + " entries in a central directory of " + dirSize + " bytes");
        }
        byte[] dir = new byte[(int) dirSize];
        WeightsFile.readFully(ch, ByteBuffer.wrap(dir), dirOffset, file);
        ByteBuffer d = ByteBuffer.wrap(dir).order(ByteOrder.LITTLE_ENDIAN);
        Map<String, Entry> entries = new LinkedHashMap<>();
        int p = 0;
        for (long k = 0; k < count; k++) {
            if (p > dir.length - 46 || d.getInt(p) != CENTRAL) {
                throw new SafetensorsException(f + ": zip central directory entry " + k + " is malformed");
            }
            int flags = d.getShort(p + 8) & 0xFFFF;
            int method = d.getShort(p + 10) & 0xFFFF;
            int crc = d.getInt(p + 16);
            long csize = d.getInt(p + 20) & 0xFFFFFFFFL;
            long usize = d.getInt(p + 24) & 0xFFFFFFFFL;
            int nameLen = d.getShort(p + 28) & 0xFFFF;
            int extraLen = d.getShort(p + 30) & 0xFFFF;
            int commentLen = d.getShort(p + 32) & 0xFFFF;
            long local = d.getInt(p + 42) & 0xFFFFFFFFL;
            int next = p + 46 + nameLen + extraLen + commentLen;
            if (next > dir.length) throw new SafetensorsException(f + ": zip central directory entry " + k + " runs past the directory");
            String name = new String(dir, p + 46, nameLen, StandardCharsets.UTF_8);
            String where = f + ": zip entry " + Msg.q(name);
            // zip64 extra field: the 8-byte values of exactly the fields that hold 0xFFFFFFFF, in this order
            if (usize == 0xFFFFFFFFL || csize == 0xFFFFFFFFL || local == 0xFFFFFFFFL) {
                int e = p + 46 + nameLen;
                int eEnd = e + extraLen;
                boolean found = false;
                while (e + 4 <= eEnd) {
                    int id = d.getShort(e) & 0xFFFF;
                    int len = d.getShort(e + 2) & 0xFFFF;
                    if (e + 4 + len > eEnd) break;
                    if (id == 0x0001) {
                        int q = e + 4;
                        int qEnd = q + len;
                        if (usize == 0xFFFFFFFFL) { usize = long8(d, q, qEnd, where); q += 8; }
                        if (csize == 0xFFFFFFFFL) { csize = long8(d, q, qEnd, where); q += 8; }
                        if (local == 0xFFFFFFFFL) { local = long8(d, q, qEnd, where); }
                        found = true;
                        break;
                    }
                    e += 4 + len;
                }
                if (!found) throw new SafetensorsException(where + " needs a zip64 extra field, which is missing");
            }
            if ((flags & 1) != 0) throw new SafetensorsException(where + " is encrypted");
            if (method != 0 || csize != usize) {
                throw new SafetensorsException(where + " is compressed (method " + method + "); torch.save stores entries uncompressed,"
                        + " re-save the file with torch.save");
            }
            if (usize < 0 || local < 0 || local > dirOffset - 30 || usize > dirOffset - local) {
                throw new SafetensorsException(where + " [" + local + ", +" + usize + ") lies outside the file's data; truncated?");
            }
            if (entries.put(name, new Entry(name, usize, crc, local)) != null) {
                throw new SafetensorsException(f + ": zip entry " + Msg.q(name) + " appears twice");
            }
            p = next;
        }
        return new StoredZip(file, ch, size, Collections.unmodifiableMap(entries), dir);
    }

    private static long long8(ByteBuffer d, int q, int end, String where) {
        if (q + 8 > end) throw new SafetensorsException(where + ": zip64 extra field too short");
        long v = d.getLong(q);
        if (v < 0) throw new SafetensorsException(where + ": zip64 size or offset " + Long.toUnsignedString(v) + " out of range");
        return v;
    }

    /** Absolute file offset of the entry's first data byte, from its local header (whose name must match). */
    long dataOffset(Entry e) throws IOException {
        String where = Msg.f(file) + ": zip entry " + Msg.q(e.name());
        byte[] nameBytes = e.name().getBytes(StandardCharsets.UTF_8);
        ByteBuffer h = ByteBuffer.allocate(30).order(ByteOrder.LITTLE_ENDIAN);
        WeightsFile.readFully(ch, h, e.localHeader(), file);
        if (h.getInt(0) != LOCAL) throw new SafetensorsException(where + ": no local header at offset " + e.localHeader());
        int nameLen = h.getShort(26) & 0xFFFF;
        int extraLen = h.getShort(28) & 0xFFFF;
        if (nameLen != nameBytes.length) throw new SafetensorsException(where + ": local header names another entry");
        ByteBuffer n = ByteBuffer.allocate(nameLen);
        WeightsFile.readFully(ch, n, e.localHeader() + 30, file);
        if (!java.util.Arrays.equals(n.array(), nameBytes)) throw new SafetensorsException(where + ": local header names another entry");
        long start = e.localHeader() + 30 + nameLen + extraLen;
        if (start > fileSize || e.size() > fileSize - start) {
            throw new SafetensorsException(where + ": data [" + start + ", +" + e.size() + ") runs past the end of the file; truncated?");
        }
        return start;
    }

    /** The whole entry (callers bound its size first). */
    /**
     * The bytes of a small entry (data.pkl, byteorder), checked against its CRC-32: a state dict edited after
     * torch.save wrote it would otherwise give other shapes, offsets or names without a word.
     */
    byte[] readAll(Entry e) throws IOException {
        long start = dataOffset(e);
        byte[] b = new byte[(int) e.size()];
        WeightsFile.readFully(ch, ByteBuffer.wrap(b), start, file);
        java.util.zip.CRC32 crc = new java.util.zip.CRC32();
        crc.update(b);
        if ((int) crc.getValue() != e.crc()) {
            throw new SafetensorsException(Msg.f(file) + ": zip entry " + Msg.q(e.name()) + " does not match its CRC-32 (stored "
                    + String.format("%08x", e.crc()) + ", computed " + String.format("%08x", (int) crc.getValue())
                    + "): it changed after torch.save wrote it; refused");
        }
        return b;
    }
}
