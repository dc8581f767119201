package org.depthlens.text;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Optional;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The tiny-curse-24 checkpoint's tokenizer on its whole 350 KB validation file, in one encode call. */
class TinyCurseTokenizerTest {
    static final int CHECKED = 16_384;

    @Test
    void wholeValidationFileMatchesReferenceIds() throws IOException {
        Path dir = SharedData.tinyCurse();
        String text = Files.readString(dir.resolve("validation.txt"), StandardCharsets.UTF_8);
        JsonNode ref = new ObjectMapper().readTree(dir.resolve("validation_ids.json").toFile());

        long t0 = System.nanoTime();
        long[] ids;
        try (ModelTokenizer tok = ModelTokenizer.open(dir)) {
            long t1 = System.nanoTime();
            ids = tok.encodePlain(text);
            long t2 = System.nanoTime();
            System.out.printf("tiny-curse: open %.0f ms, encode %d chars -> %d ids in %.0f ms%n",
                    (t1 - t0) / 1e6, text.length(), ids.length, (t2 - t1) / 1e6);
            assertArrayEquals(ids, tok.encode(text, true), "no post-processor, no tokenizer_config: nothing added");
        }
        assertTrue(ids.length >= CHECKED, "only " + ids.length + " ids");
        long[] expected = new long[CHECKED];
        for (int i = 0; i < CHECKED; i++) expected[i] = ref.get(i).asLong();
        long[] actual = java.util.Arrays.copyOf(ids, CHECKED);
        assertArrayEquals(expected, actual);
    }

    @Test
    void bosFromConfigJsonButNotAdded() {
        // lns/ has config.json (bos_token_id 1, eos_token_id 2) and no tokenizer_config.json
        try (ModelTokenizer tok = ModelTokenizer.open(SharedData.tinyCurse().resolve("lns"))) {
            assertEquals(Optional.of(1L), tok.bosId());
            assertEquals(Optional.of(2L), tok.eosId());
            assertFalse(tok.addsBos());
            assertEquals(4096, tok.vocabSize());
            assertArrayEquals(tok.encodePlain("The kernel"), tok.encode("The kernel", true));
        }
    }
}
