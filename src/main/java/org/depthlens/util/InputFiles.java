package org.depthlens.util;

import org.depthlens.BadInputException;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;

/**
 * The checks every input file passes before it is opened: it must be a regular file (a symlink is followed: to
 * {@code /dev/zero}, a FIFO or a folder it is refused, since opening a FIFO waits for a writer forever and a device
 * never ends), and what is read into memory at once must be small enough to allocate. Callers keep their own
 * "not found" wording; these name the file and what it should have been.
 */
public final class InputFiles {
    /** JSON a model folder or a run holds: config.json, index files, run configs, lists of models. */
    public static final long MAX_JSON_BYTES = 100_000_000L;

    private InputFiles() {}

    /**
     * Refuses (bad input, exit 3) a path that exists but is not a regular file. A missing path passes: the caller
     * says "not found" in its own words.
     *
     * @param what what the file should be ("config.json", "ids file"), for the message
     */
    public static void requireRegular(Path p, String what) {
        if (!Files.exists(p) || Files.isRegularFile(p)) {
            if (!Files.exists(p) && Files.isSymbolicLink(p)) throw new BadInputException(p + ": a symbolic link to nothing (" + what + " expected)");
            return;
        }
        if (Files.isDirectory(p)) throw new BadInputException(p + ": is a folder, not a file (" + what + " expected)");
        throw new BadInputException(p + ": not a regular file (a FIFO, device or socket" + (Files.isSymbolicLink(p) ? ", through a symbolic link" : "")
                + "); depthlens reads the " + what + " only from a regular file");
    }

    /**
     * The whole file, after {@link #requireRegular} and a size check against {@code maxBytes} (before anything is
     * allocated). {@link NoSuchFileException} is left to the caller's wording.
     */
    public static byte[] read(Path p, String what, long maxBytes) throws IOException {
        requireRegular(p, what);
        long size = Files.size(p);
        long max = Math.min(maxBytes, Integer.MAX_VALUE - 16);
        if (size > max) {
            throw new BadInputException(p + ": " + what + " of " + size + " bytes is larger than the " + max + " bytes depthlens reads at once");
        }
        return Files.readAllBytes(p);
    }

    /** The room for a file read whole into the heap: a quarter of the JVM's maximum heap. */
    public static long heapShare() {
        return Runtime.getRuntime().maxMemory() / 4;
    }

    /**
     * {@code bytes} of file {@code p} as text: strict UTF-8 (a lossy decoding would analyse replacement characters
     * instead of the file), and no NUL byte (binary data can be valid UTF-8). Bad input naming the file otherwise.
     */
    public static String utf8(Path p, byte[] bytes) {
        // UTF-16 (Windows editors' "Unicode") holds NUL bytes in ASCII text; say what it is rather than "binary data"
        if (bytes.length >= 2 && ((bytes[0] & 0xFF) == 0xFF && (bytes[1] & 0xFF) == 0xFE || (bytes[0] & 0xFF) == 0xFE && (bytes[1] & 0xFF) == 0xFF)) {
            throw new BadInputException(p + ": UTF-16 text (it starts with a UTF-16 byte-order mark), not UTF-8; convert it to UTF-8");
        }
        for (int i = 0; i < bytes.length; i++) {
            if (bytes[i] == 0) throw new BadInputException(p + ": holds a NUL byte at offset " + i + "; binary data, not UTF-8 text");
        }
        java.nio.charset.CharsetDecoder d = java.nio.charset.StandardCharsets.UTF_8.newDecoder()
                .onMalformedInput(java.nio.charset.CodingErrorAction.REPORT)
                .onUnmappableCharacter(java.nio.charset.CodingErrorAction.REPORT);
        java.nio.ByteBuffer in = java.nio.ByteBuffer.wrap(bytes);
        java.nio.CharBuffer out = java.nio.CharBuffer.allocate(bytes.length);
        java.nio.charset.CoderResult r = d.decode(in, out, true);
        if (!r.isError()) r = d.flush(out);
        if (r.isError()) {
            int at = in.position();
            throw new BadInputException(p + ": not UTF-8 text (byte 0x" + String.format("%02x", bytes[Math.min(at, bytes.length - 1)] & 0xFF)
                    + " at offset " + at + " is not valid UTF-8); give a UTF-8 text file");
        }
        return out.flip().toString();
    }

    /** A whole text file as strict UTF-8, after the checks of {@link #read}. */
    public static String readUtf8(Path p, String what, long maxBytes) throws IOException {
        return utf8(p, read(p, what, maxBytes));
    }
}
