package org.depthlens.text;

import org.depthlens.BadInputException;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Optional;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class ModelTokenizerErrorsTest {
    /** A tiny WordLevel tokenizer.json: no merges, whitespace pre-tokenizer. */
    static final String WORD_LEVEL = "{\"version\":\"1.0\",\"truncation\":null,\"padding\":null,"
            + "\"added_tokens\":[{\"id\":0,\"content\":\"<bos>\",\"single_word\":false,\"lstrip\":false,"
            + "\"rstrip\":false,\"normalized\":false,\"special\":true},{\"id\":1,\"content\":\"<unk>\","
            + "\"single_word\":false,\"lstrip\":false,\"rstrip\":false,\"normalized\":false,\"special\":true}],"
            + "\"normalizer\":null,\"pre_tokenizer\":{\"type\":\"Whitespace\"},\"post_processor\":null,"
            + "\"decoder\":null,\"model\":{\"type\":\"WordLevel\",\"vocab\":{\"<bos>\":0,\"<unk>\":1,"
            + "\"hello\":2,\"world\":3},\"unk_token\":\"<unk>\"}}";

    @Test
    void missingDirectory(@TempDir Path tmp) {
        BadInputException e = assertThrows(BadInputException.class, () -> ModelTokenizer.open(tmp.resolve("nope")));
        assertTrue(e.getMessage().contains("nope"), e.getMessage());
    }

    @Test
    void missingTokenizerJson(@TempDir Path tmp) {
        BadInputException e = assertThrows(BadInputException.class, () -> ModelTokenizer.open(tmp));
        assertOneLineNaming(e, "tokenizer.json");
    }

    @Test
    void malformedTokenizerJson(@TempDir Path tmp) throws IOException {
        Files.writeString(tmp.resolve("tokenizer.json"), "{\"model\": {\"vocab\": {\"a\": 0,\n  ]");
        BadInputException e = assertThrows(BadInputException.class, () -> ModelTokenizer.open(tmp));
        assertOneLineNaming(e, "tokenizer.json");
        assertTrue(e.getMessage().contains("line 2"), e.getMessage());
    }

    @Test
    void validJsonButNotATokenizer(@TempDir Path tmp) throws IOException {
        Files.writeString(tmp.resolve("tokenizer.json"), "{\"model\": {\"type\": \"Nonesuch\", \"vocab\": {\"a\": 0}}}");
        BadInputException e = assertThrows(BadInputException.class, () -> ModelTokenizer.open(tmp));
        assertOneLineNaming(e, "tokenizer.json");
    }

    @Test
    void malformedTokenizerConfig(@TempDir Path tmp) throws IOException {
        Files.writeString(tmp.resolve("tokenizer.json"), WORD_LEVEL);
        Files.writeString(tmp.resolve("tokenizer_config.json"), "{\"add_bos_token\": tru");
        BadInputException e = assertThrows(BadInputException.class, () -> ModelTokenizer.open(tmp));
        assertOneLineNaming(e, "tokenizer_config.json");
    }

    @Test
    void addBosTokenWithoutABosToken(@TempDir Path tmp) throws IOException {
        Files.writeString(tmp.resolve("tokenizer.json"), WORD_LEVEL);
        Files.writeString(tmp.resolve("tokenizer_config.json"), "{\"add_bos_token\": true, \"bos_token\": \"<nope>\"}");
        BadInputException e = assertThrows(BadInputException.class, () -> ModelTokenizer.open(tmp));
        assertOneLineNaming(e, "tokenizer_config.json");
    }

    @Test
    void addBosTokenFromConfigObjectAndConfigJsonFallback(@TempDir Path tmp) throws IOException {
        Files.writeString(tmp.resolve("tokenizer.json"), WORD_LEVEL);
        Files.writeString(tmp.resolve("tokenizer_config.json"),
                "{\"add_bos_token\": true, \"bos_token\": {\"__type\": \"AddedToken\", \"content\": \"<bos>\"}}");
        try (ModelTokenizer t = ModelTokenizer.open(tmp)) {
            assertEquals(Optional.of(0L), t.bosId());
            assertTrue(t.addsBos());
            assertArrayEquals(new long[] {2, 3}, t.encode("hello world", false));
            assertArrayEquals(new long[] {0, 2, 3}, t.encode("hello world", true));
            assertEquals(4, t.vocabSize());
        }
        // bos_token not given: config.json's bos_token_id is used
        Files.writeString(tmp.resolve("tokenizer_config.json"), "{\"add_bos_token\": true}");
        Files.writeString(tmp.resolve("config.json"), "{\"bos_token_id\": 0, \"eos_token_id\": [3, 1]}");
        try (ModelTokenizer t = ModelTokenizer.open(tmp)) {
            assertEquals(Optional.of(0L), t.bosId());
            assertEquals(Optional.of(3L), t.eosId());
            assertArrayEquals(new long[] {0, 2}, t.encode("hello", true));
        }
        // without tokenizer_config.json nothing beyond the post-processor is added
        Files.delete(tmp.resolve("tokenizer_config.json"));
        try (ModelTokenizer t = ModelTokenizer.open(tmp)) {
            assertEquals(Optional.of(0L), t.bosId());
            assertFalse(t.addsBos());
            assertArrayEquals(new long[] {2}, t.encode("hello", true));
            assertThrows(IllegalArgumentException.class, () -> t.decode(new long[] {4}));
        }
    }

    @Test
    void djlIsForcedOffline() {
        ModelTokenizer.class.getName(); // class is initialised by the tests above or by this reference
        try (ModelTokenizer t = ModelTokenizer.open(SharedData.tinyCurse().resolve("lns"))) {
            assertEquals("true", System.getProperty("ai.djl.offline"));
            assertEquals("true", System.getProperty("OPT_OUT_TRACKING"));
            assertEquals("cpu", System.getProperty("RUST_FLAVOR"));
        }
    }

    private static void assertOneLineNaming(BadInputException e, String fileName) {
        String m = e.getMessage();
        assertTrue(m.contains(fileName), m);
        assertFalse(m.contains("\n"), m);
    }
}
