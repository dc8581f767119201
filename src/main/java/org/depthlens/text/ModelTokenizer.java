package org.depthlens.text;

import ai.djl.huggingface.tokenizers.HuggingFaceTokenizer;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import org.depthlens.BadInputException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.Optional;

/**
 * A model's own tokenizer: the {@code tokenizer.json} pipeline run by the HuggingFace Rust library
 * through DJL, with truncation and padding off (DJL would otherwise cut every input at 512 tokens).
 *
 * <p>Special tokens ({@code encode(text, true)}) are what the model saw in training and what HF
 * {@code AutoTokenizer} gives for a plain-text prompt: whatever the {@code tokenizer.json}
 * post-processor adds, plus the BOS token when {@code tokenizer_config.json} says
 * {@code "add_bos_token": true} and the post-processor did not add it already (Llama-family
 * {@code LlamaTokenizerFast} rebuilds its post-processor from that flag; DeepSeek-V3 relies on it).
 * Without a {@code tokenizer_config.json} nothing beyond the post-processor is added.
 * {@code add_eos_token} is not applied: an EOS after a prompt is not what an analysis wants.
 *
 * <p>No chat template is applied. Added tokens that occur literally in the text (for example
 * {@code "<s>"}) are matched as those tokens, as in the HF library.
 *
 * <p>DJL is kept offline: the static initializer sets {@code ai.djl.offline}, {@code OPT_OUT_TRACKING}
 * and {@code RUST_FLAVOR=cpu} as system properties before any DJL class initialises, so neither the
 * telemetry call nor a CUDA JNI download can happen, from tests or the CLI. (DJL gives environment
 * variables precedence over these properties; a warning is logged if one would re-enable the network.)
 * The CPU native library is extracted from the jar to {@code ~/.djl.ai} or {@code DJL_CACHE_DIR}.
 *
 * <p>Encoding and decoding may be called from several threads; {@link #close()} once, after all use.
 */
public final class ModelTokenizer implements AutoCloseable {
    public static final String TOKENIZER_JSON = "tokenizer.json";
    public static final String TOKENIZER_CONFIG_JSON = "tokenizer_config.json";
    public static final String CONFIG_JSON = "config.json";

    private static final Logger LOG = LoggerFactory.getLogger(ModelTokenizer.class);

    static {
        // Must run before DJL's Utils/LibUtils read them, i.e. before the first DJL call below.
        System.setProperty("ai.djl.offline", "true");
        System.setProperty("OPT_OUT_TRACKING", "true");
        System.setProperty("RUST_FLAVOR", "cpu");
        // DJL still probes libcudart to pick a flavour and warns "Failed to detect GPU count" on
        // machines with a CUDA runtime but no usable GPU; irrelevant with the CPU flavour forced.
        String cudaLog = "org.slf4j.simpleLogger.log.ai.djl.util.cuda.CudaUtils";
        if (System.getProperty(cudaLog) == null) System.setProperty(cudaLog, "error");
        warnIfEnvironmentOverrides();
    }

    /** DJL options: no truncation, no padding; specials are chosen per call. */
    private static final Map<String, String> DJL_OPTIONS =
            Map.of("truncation", "false", "padding", "false", "addSpecialTokens", "false");

    private final Path file;
    private final HuggingFaceTokenizer hf;
    private final TokenizerVocab vocab;
    private final Long bosId;
    private final Long eosId;
    /** add_bos_token is set and the post-processor does not add BOS: prepend it ourselves. */
    private final boolean prependBos;
    private final boolean addsBos;

    private ModelTokenizer(Path file, HuggingFaceTokenizer hf, TokenizerVocab vocab, Long bosId, Long eosId,
                           boolean prependBos, boolean addsBos) {
        this.file = file;
        this.hf = hf;
        this.vocab = vocab;
        this.bosId = bosId;
        this.eosId = eosId;
        this.prependBos = prependBos;
        this.addsBos = addsBos;
    }

    /**
     * Loads {@code modelDir/tokenizer.json}, and {@code tokenizer_config.json} and {@code config.json}
     * next to it where present.
     *
     * @throws BadInputException naming the file when a file is missing, not valid JSON, not a
     *     tokenizer the Rust library accepts, or asks for a BOS token that is not in the vocabulary
     */
    public static ModelTokenizer open(Path modelDir) {
        Path dir = modelDir.toAbsolutePath().normalize();
        if (!Files.isDirectory(dir)) throw new BadInputException(modelDir + ": model directory not found");
        Path file = dir.resolve(TOKENIZER_JSON);
        org.depthlens.util.InputFiles.requireRegular(file, TOKENIZER_JSON);
        if (!Files.isRegularFile(file)) throw new BadInputException(file + ": not found (the model's tokenizer is required)");

        TokenizerVocab vocab = TokenizerVocab.read(file); // also reports malformed JSON with a location
        Path configFile = dir.resolve(TOKENIZER_CONFIG_JSON);
        org.depthlens.util.InputFiles.requireRegular(configFile, TOKENIZER_CONFIG_JSON);
        org.depthlens.util.InputFiles.requireRegular(dir.resolve(CONFIG_JSON), CONFIG_JSON);
        JsonNode tokConfig = Files.isRegularFile(configFile) ? readJsonObject(configFile) : null;
        Path modelConfigFile = dir.resolve(CONFIG_JSON);
        JsonNode modelConfig = Files.isRegularFile(modelConfigFile) ? readJsonObject(modelConfigFile) : null;

        Long bosId = specialId(vocab, tokConfig, "bos_token", modelConfig, "bos_token_id", configFile);
        Long eosId = specialId(vocab, tokConfig, "eos_token", modelConfig, "eos_token_id", configFile);
        boolean addBosFlag = tokConfig != null && tokConfig.path("add_bos_token").asBoolean(false);

        HuggingFaceTokenizer hf;
        try {
            hf = HuggingFaceTokenizer.newInstance(file, DJL_OPTIONS);
        } catch (IOException e) {
            throw new BadInputException(file + ": cannot read (" + e.getMessage() + ")", e);
        } catch (RuntimeException e) {
            // The JSON parsed above, so this is the Rust library refusing the pipeline (unknown type, bad field).
            throw new BadInputException(file + ": not a tokenizer the HuggingFace tokenizers library accepts ("
                    + String.valueOf(e.getMessage()).replaceAll("\\s+", " ").trim() + ")", e);
        }
        try {
            // What the post-processor adds does not depend on the text; probe it once.
            long[] probe = hf.encode("", true, false).getIds();
            boolean postProcessorAddsBos = bosId != null && probe.length > 0 && probe[0] == bosId;
            boolean prependBos = addBosFlag && !postProcessorAddsBos;
            if (prependBos && bosId == null) {
                throw new BadInputException(configFile + ": \"add_bos_token\" is true but the BOS token is neither in "
                        + file.getFileName() + " nor given as bos_token_id in " + CONFIG_JSON);
            }
            return new ModelTokenizer(file, hf, vocab, bosId, eosId, prependBos, prependBos || postProcessorAddsBos);
        } catch (RuntimeException e) {
            hf.close();
            throw e;
        }
    }

    /**
     * The ids of {@code text}, whole (never truncated).
     *
     * @param addSpecialTokens {@code true} for what the model sees (post-processor tokens and BOS,
     *     see the class comment), {@code false} for the bare pipeline
     */
    public long[] encode(String text, boolean addSpecialTokens) {
        long[] ids = hf.encode(text, addSpecialTokens, false).getIds();
        if (addSpecialTokens && prependBos) {
            long[] out = new long[ids.length + 1];
            out[0] = bosId;
            System.arraycopy(ids, 0, out, 1, ids.length);
            return out;
        }
        return ids;
    }

    /** {@code encode(text, false)}: no special tokens. */
    public long[] encodePlain(String text) {
        return encode(text, false);
    }

    /** The text of {@code ids}, special tokens included (as HF {@code decode} by default). */
    public String decode(long[] ids) {
        return decode(ids, false);
    }

    /** The text of {@code ids}; {@code skipSpecialTokens} drops the tokens marked special in tokenizer.json. */
    public String decode(long[] ids, boolean skipSpecialTokens) {
        int size = vocabSize();
        for (long id : ids) {
            if (id < 0 || id >= size) {
                throw new IllegalArgumentException("token id " + id + " outside the vocabulary [0, " + size + ") of " + file);
            }
        }
        return hf.decode(ids, skipSpecialTokens);
    }

    /**
     * The BOS id: tokenizer_config.json's {@code bos_token} looked up in the added tokens and the
     * vocabulary, else config.json's {@code bos_token_id}. Present does not mean it is added; see {@link #addsBos()}.
     */
    public Optional<Long> bosId() {
        return Optional.ofNullable(bosId);
    }

    /** The EOS id, resolved like {@link #bosId()} (the first one when config.json lists several). */
    public Optional<Long> eosId() {
        return Optional.ofNullable(eosId);
    }

    /** Whether {@code encode(text, true)} starts with the BOS token. */
    public boolean addsBos() {
        return addsBos;
    }

    /** The id of a token string (added tokens first, then the model vocabulary). */
    public Optional<Long> tokenId(String token) {
        return vocab.idOf(token);
    }

    /**
     * Highest id in the vocabulary or the added tokens, plus one (HF {@code len(tokenizer)} for a
     * contiguous vocabulary). The embedding matrix may be larger (config.json {@code vocab_size} is often padded).
     */
    public int vocabSize() {
        return vocab.size();
    }

    /** The tokenizer.json this was loaded from. */
    public Path file() {
        return file;
    }

    @Override
    public void close() {
        hf.close();
    }

    /** tokenizer_config's token (string or {content: ...}) looked up in tokenizer.json, else config.json's id. */
    private static Long specialId(TokenizerVocab vocab, JsonNode tokConfig, String tokenKey,
                                  JsonNode modelConfig, String idKey, Path configFile) {
        if (tokConfig != null) {
            JsonNode t = tokConfig.get(tokenKey);
            String content = null;
            if (t != null && t.isTextual()) content = t.asText();
            else if (t != null && t.isObject() && t.path("content").isTextual()) content = t.get("content").asText();
            if (content != null) {
                Optional<Long> id = vocab.idOf(content);
                if (id.isPresent()) return id.get();
                LOG.warn("{}: {} \"{}\" is not in the tokenizer vocabulary", configFile, tokenKey, content);
            }
        }
        if (modelConfig != null) {
            JsonNode id = modelConfig.get(idKey);
            if (id != null && id.isArray() && id.size() > 0) id = id.get(0);
            if (id != null && id.canConvertToLong() && id.isIntegralNumber() && id.asLong() >= 0) return id.asLong();
        }
        return null;
    }

    private static JsonNode readJsonObject(Path file) {
        JsonNode root;
        try {
            root = org.depthlens.JsonErrors.oneValueMapper().readTree(org.depthlens.util.InputFiles.read(file, file.getFileName().toString(),
                    org.depthlens.util.InputFiles.MAX_JSON_BYTES));
        } catch (JsonProcessingException e) {
            throw new BadInputException(file + ": not valid JSON (" + org.depthlens.JsonErrors.describe(e) + ")");
        } catch (IOException e) {
            throw new BadInputException(file + ": cannot read (" + e.getMessage() + ")", e);
        }
        if (root == null || !root.isObject()) throw new BadInputException(file + ": not a JSON object");
        return root;
    }

    private static void warnIfEnvironmentOverrides() {
        String offline = System.getenv("DJL_OFFLINE");
        String flavor = System.getenv("RUST_FLAVOR");
        if (offline != null && !Boolean.parseBoolean(offline)) {
            LOG.warn("environment DJL_OFFLINE={} overrides depthlens' offline setting for DJL", offline);
        }
        if (flavor != null && !flavor.isEmpty() && !flavor.equals("cpu")) {
            LOG.warn("environment RUST_FLAVOR={} may make DJL download a native tokenizer library", flavor);
        }
    }
}
