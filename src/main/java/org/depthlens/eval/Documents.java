package org.depthlens.eval;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import org.depthlens.BadInputException;

import java.io.IOException;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.function.ObjIntConsumer;

/**
 * A perplexity corpus: documents read from a text file (documents separated by blank lines; a
 * document is its lines joined with "\n") or from JSONL ({@code .jsonl}: one JSON object per line with
 * a string field {@code text}, taken as is).
 *
 * @param name  the file name, used as the key in eval.json
 * @param bytes the file's bytes (hashed into provenance)
 */
public record Documents(Path path, String name, List<String> texts, byte[] bytes) {

    public static Documents read(Path path) {
        byte[] raw = readBytes(path, "documents file");
        String s = utf8(path, raw);
        List<String> docs = path.getFileName().toString().toLowerCase(java.util.Locale.ROOT).endsWith(".jsonl")
                ? jsonl(path, s) : splitBlankLines(s);
        if (docs.isEmpty()) throw new BadInputException(path + ": no documents (the file is empty or blank)");
        return new Documents(path, path.getFileName().toString(), List.copyOf(docs), raw);
    }

    /** Documents of a text: runs of non-blank lines; lines holding only whitespace separate documents. */
    public static List<String> splitBlankLines(String s) {
        List<String> out = new ArrayList<>();
        StringBuilder doc = new StringBuilder();
        for (String line : (Iterable<String>) s.lines()::iterator) {
            if (line.isBlank()) {
                if (doc.length() > 0) out.add(doc.toString());
                doc.setLength(0);
            } else {
                if (doc.length() > 0) doc.append('\n');
                doc.append(line);
            }
        }
        if (doc.length() > 0) out.add(doc.toString());
        return out;
    }

    private static List<String> jsonl(Path path, String s) {
        List<String> out = new ArrayList<>();
        forEachJsonLine(path, s, (n, line) -> {
            if (n == null || !n.isObject() || !n.path("text").isTextual()) {
                throw new BadInputException(path + ": line " + line + " must be a JSON object with a string field \"text\"");
            }
            out.add(n.get("text").asText());
        });
        return out;
    }

    /**
     * Hands each non-blank line of a JSONL text, parsed, to {@code each} with its line number (from 1), in
     * file order; a line that is not JSON is refused naming the file and the line.
     */
    static void forEachJsonLine(Path path, String s, ObjIntConsumer<JsonNode> each) {
        ObjectMapper om = org.depthlens.JsonErrors.oneValueMapper();
        String[] lines = s.split("\n", -1);
        for (int i = 0; i < lines.length; i++) {
            String line = lines[i].strip();
            if (line.isEmpty()) continue;
            JsonNode n;
            try {
                n = om.readTree(line);
            } catch (com.fasterxml.jackson.core.JsonProcessingException e) {
                throw new BadInputException(path + ": line " + (i + 1) + " is not valid JSON (" + org.depthlens.JsonErrors.describe(e) + ")");
            } catch (IOException e) {
                throw new BadInputException(path + ": line " + (i + 1) + " is not valid JSON (" + firstLine(e.getMessage()) + ")");
            }
            each.accept(n, i + 1);
        }
    }

    /** Whitespace-separated pieces of a document (lm-eval's word count for word perplexity). */
    public static long words(String doc) {
        long n = 0;
        boolean in = false;
        for (int i = 0; i < doc.length(); ) {
            int c = doc.codePointAt(i);
            boolean ws = isSpace(c);
            if (!ws && !in) n++;
            in = !ws;
            i += Character.charCount(c);
        }
        return n;
    }

    /** UTF-8 bytes of a document. */
    public static long utf8Bytes(String doc) {
        return doc.getBytes(StandardCharsets.UTF_8).length;
    }

    /** Python's str.isspace for one code point (Java's isWhitespace misses the no-break spaces). */
    static boolean isSpace(int c) {
        return Character.isWhitespace(c) || Character.isSpaceChar(c) || c == 0x85;
    }

    static byte[] readBytes(Path path, String what) {
        try {
            if (Files.isDirectory(path)) throw new BadInputException(path + ": is a directory, expected a " + what);
            if (!Files.exists(path)) throw new NoSuchFileException(path.toString());
            return org.depthlens.util.InputFiles.read(path, what, org.depthlens.util.InputFiles.heapShare());
        } catch (NoSuchFileException e) {
            throw new BadInputException(path + ": " + what + " not found");
        } catch (IOException e) {
            throw new BadInputException(path + ": cannot read " + what + " (" + e.getMessage() + ")");
        }
    }

    static String utf8(Path path, byte[] raw) {
        try {
            return StandardCharsets.UTF_8.newDecoder().onMalformedInput(CodingErrorAction.REPORT)
                    .onUnmappableCharacter(CodingErrorAction.REPORT).decode(java.nio.ByteBuffer.wrap(raw)).toString();
        } catch (CharacterCodingException e) {
            throw new BadInputException(path + ": not valid UTF-8 text");
        }
    }

    static String firstLine(String s) {
        return String.valueOf(s).split("\n")[0];
    }
}
