package org.depthlens.eval;

import org.depthlens.BadInputException;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Reading documents and task files, word and byte counts, and lm-eval's perplexity aggregation. */
class DocumentsAndTasksTest {
    @TempDir
    Path tmp;

    @Test
    void textDocumentsAreSeparatedByBlankLines() throws IOException {
        Path f = tmp.resolve("docs.txt");
        Files.writeString(f, "\n\nFirst line\nsecond line\n\n  \t\nThird doc\r\n\r\nfourth\n", StandardCharsets.UTF_8);
        Documents d = Documents.read(f);
        assertEquals(List.of("First line\nsecond line", "Third doc", "fourth"), d.texts());
        assertEquals("docs.txt", d.name());
    }

    @Test
    void jsonlDocumentsKeepTheirTextAsIs() throws IOException {
        Path f = tmp.resolve("docs.jsonl");
        Files.writeString(f, "{\"text\": \"a\\n\\nb \", \"id\": 1}\n\n{\"text\": \"c\"}\n", StandardCharsets.UTF_8);
        assertEquals(List.of("a\n\nb ", "c"), Documents.read(f).texts());
    }

    @Test
    void wordsAreWhitespaceSeparatedPiecesAndBytesAreUtf8() {
        String doc = " Hello  w\u00f6rld\nfoo\u00a0bar\t";
        assertEquals(4, Documents.words(doc)); // the no-break space separates, as Python's str.split() does
        assertEquals(1 + 5 + 2 + 6 + 1 + 3 + 2 + 3 + 1, Documents.utf8Bytes(doc));
    }

    @Test
    void perplexitiesAggregateLikeLmEval() {
        // sum ll = -20 over 10 tokens, 4 words, 25 bytes
        Map<String, Double> m = DocsResult.metrics(-20, 10, 4, 25);
        assertEquals(Math.exp(2.0), m.get("token_ppl"), 1e-12);
        assertEquals(Math.exp(5.0), m.get("word_ppl"), 1e-12);
        assertEquals(Math.exp(0.8), m.get("byte_ppl"), 1e-12);
        assertEquals(0.8 / Math.log(2), m.get("bits_per_byte"), 1e-12);
    }

    @Test
    void taskFilesAreCheckedLineByLine() throws IOException {
        Path ok = tmp.resolve("t.jsonl");
        Files.writeString(ok, "{\"context\": \"Q: \", \"choices\": [\"a\", \"b\"], \"gold\": 1, \"source\": \"x\"}\n\n", StandardCharsets.UTF_8);
        McTask t = McTask.read(ok);
        assertEquals(1, t.items().size());
        assertEquals(1, t.items().get(0).gold());
        String[][] bad = {
            {"{\"context\": \"Q\", \"choices\": [\"a\"], \"gold\": 1}", "\"gold\" must be an integer index"},
            {"{\"context\": \"Q\", \"choices\": [], \"gold\": 0}", "\"choices\" must be a non-empty list"},
            {"{\"context\": 3, \"choices\": [\"a\"], \"gold\": 0}", "\"context\" must be a string"},
            {"{\"context\": \"Q\", \"choices\": [\"\"], \"gold\": 0}", "non-empty string"},
            {"not json", "line 2 is not valid JSON"},
        };
        for (String[] b : bad) {
            Path f = tmp.resolve("bad.jsonl");
            Files.writeString(f, "{\"context\": \"Q\", \"choices\": [\"a\"], \"gold\": 0}\n" + b[0] + "\n", StandardCharsets.UTF_8);
            BadInputException e = assertThrows(BadInputException.class, () -> McTask.read(f));
            assertTrue(e.getMessage().contains(b[1]) && e.getMessage().contains(f.toString()), e.getMessage());
        }
    }

    @Test
    void bundledSampleTaskIsWellFormed() {
        McTask t = McTask.read(Path.of(System.getProperty("depthlens.root", ".")).resolve("sample-configs/tasks/tech-cloze.jsonl"));
        assertTrue(t.items().size() >= 30, "a few dozen items");
        for (McTask.Item i : t.items()) assertEquals(4, i.choices().size());
    }
}
