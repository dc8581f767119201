package org.depthlens.text;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

import java.io.IOException;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The four real tokenizers in ../shared/tokenizers against reference_ids.json: ids_plain (the
 * tokenizer.json pipeline) and ids_with_special (post-processor tokens plus add_bos_token BOS).
 * The hf_transformers_5_17 entries are deliberately not matched (see the README there).
 */
class ModelTokenizerReferenceTest {
    static final List<String> MODELS = List.of("llama2", "llama3", "qwen3", "deepseek_v3");
    private static final Map<String, ModelTokenizer> OPEN = new HashMap<>();
    private static JsonNode reference;

    static synchronized JsonNode reference() throws IOException {
        if (reference == null) {
            reference = new ObjectMapper().readTree(SharedData.tokenizers().resolve("reference_ids.json").toFile());
        }
        return reference;
    }

    /** One tokenizer per model for the whole class: the Qwen3 file alone is 11 MB. */
    static synchronized ModelTokenizer tokenizer(String model) {
        return OPEN.computeIfAbsent(model, m -> ModelTokenizer.open(SharedData.tokenizers().resolve(m)));
    }

    @AfterAll
    static synchronized void closeAll() {
        OPEN.values().forEach(ModelTokenizer::close);
        OPEN.clear();
    }

    static Stream<Arguments> cases() throws IOException {
        List<Arguments> out = new ArrayList<>();
        for (String model : MODELS) {
            int n = reference().get(model).get("cases").size();
            for (int i = 0; i < n; i++) {
                out.add(Arguments.of(model, i, false));
                out.add(Arguments.of(model, i, true));
            }
        }
        return out.stream();
    }

    @ParameterizedTest(name = "{0} text {1} special={2}")
    @MethodSource("cases")
    void matchesReferenceIds(String model, int caseIndex, boolean withSpecial) throws IOException {
        JsonNode c = reference().get(model).get("cases").get(caseIndex);
        String text = c.get("text").asText();
        long[] expected = toLongs(c.get(withSpecial ? "ids_with_special" : "ids_plain"));
        long[] actual = tokenizer(model).encode(text, withSpecial);
        assertArrayEquals(expected, actual, () -> model + " case " + caseIndex + " (" + text.length() + " chars)");
    }

    @Test
    void longTextIsNotTruncatedAt512() throws IOException {
        // case 5 is the ~6,000-character text: well over DJL's default 512-token truncation
        for (String model : MODELS) {
            String text = reference().get(model).get("cases").get(5).get("text").asText();
            assertTrue(tokenizer(model).encodePlain(text).length > 1500, model);
        }
    }

    @Test
    void specialTokenIds() {
        ModelTokenizer llama2 = tokenizer("llama2");
        assertEquals(Optional.of(1L), llama2.bosId());
        assertEquals(Optional.of(2L), llama2.eosId());
        assertTrue(llama2.addsBos()); // by its TemplateProcessing post-processor

        ModelTokenizer deepseek = tokenizer("deepseek_v3");
        assertEquals(Optional.of(0L), deepseek.bosId());
        assertEquals(Optional.of(1L), deepseek.eosId());
        assertTrue(deepseek.addsBos()); // by add_bos_token; its post-processor is ByteLevel

        ModelTokenizer llama3 = tokenizer("llama3");
        assertEquals(Optional.of(128000L), llama3.bosId());
        assertFalse(llama3.addsBos()); // this copy has no BOS-adding post-processor and no add_bos_token

        ModelTokenizer qwen3 = tokenizer("qwen3");
        assertEquals(Optional.empty(), qwen3.bosId()); // bos_token: null, no config.json
        assertEquals(qwen3.tokenId("<|im_end|>"), qwen3.eosId());
        assertFalse(qwen3.addsBos());
    }

    @Test
    void vocabSizeCoversVocabularyAndAddedTokens() {
        assertEquals(32000, tokenizer("llama2").vocabSize());
        assertEquals(128256, tokenizer("llama3").vocabSize());
        assertEquals(151669, tokenizer("qwen3").vocabSize());
        assertEquals(128815, tokenizer("deepseek_v3").vocabSize());
    }

    @Test
    void byteLevelDecodeRoundTrips() throws IOException {
        for (String model : List.of("llama3", "qwen3")) {
            for (JsonNode c : reference().get(model).get("cases")) {
                String text = c.get("text").asText();
                ModelTokenizer t = tokenizer(model);
                assertEquals(text, t.decode(t.encodePlain(text)), model);
            }
        }
    }

    @Test
    void decodeKeepsOrSkipsSpecialTokens() {
        ModelTokenizer t = tokenizer("llama3");
        long[] ids = {128000, 9906};
        assertEquals("<|begin_of_text|>Hello", t.decode(ids));
        assertEquals("Hello", t.decode(ids, true));
    }

    static long[] toLongs(JsonNode array) {
        long[] out = new long[array.size()];
        for (int i = 0; i < out.length; i++) out[i] = array.get(i).asLong();
        return out;
    }
}
