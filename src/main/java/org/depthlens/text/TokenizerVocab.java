package org.depthlens.text;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.JsonToken;
import com.fasterxml.jackson.core.StreamReadConstraints;
import org.depthlens.BadInputException;

import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.Map;
import java.util.Optional;

/**
 * The token-to-id tables of a {@code tokenizer.json} (model vocabulary plus {@code added_tokens}),
 * read with a streaming parser so a 10 MB file does not become a 100 MB tree. DJL has no
 * token-to-id call, and the BOS/EOS ids and the vocabulary size come from these tables.
 * The merges are skipped; the Rust library owns the actual pipeline.
 */
final class TokenizerVocab {
    private final Map<String, Long> added;
    private final Map<String, Long> vocab;
    private final long maxId;

    private TokenizerVocab(Map<String, Long> added, Map<String, Long> vocab, long maxId) {
        this.added = added;
        this.vocab = vocab;
        this.maxId = maxId;
    }

    /** The id of {@code token}: added tokens first (they win in the Rust library too), then the model vocabulary. */
    Optional<Long> idOf(String token) {
        Long id = added.get(token);
        if (id == null) id = vocab.get(token);
        return Optional.ofNullable(id);
    }

    /** Highest id in the vocabulary or the added tokens, plus one. */
    int size() {
        return (int) (maxId + 1);
    }

    static TokenizerVocab read(Path file) {
        // Vocabulary tokens can be long (Unigram pieces, byte-level strings); keep Jackson's other limits.
        JsonFactory factory = JsonFactory.builder()
                .streamReadConstraints(StreamReadConstraints.builder().maxStringLength(Integer.MAX_VALUE).build())
                .build();
        try (InputStream in = Files.newInputStream(file); JsonParser p = factory.createParser(in)) {
            return parse(file, p);
        } catch (NoSuchFileException e) {
            throw new BadInputException(file + ": not found");
        } catch (JsonProcessingException e) {
            throw new BadInputException(file + ": not valid JSON (" + oneLine(e) + ")");
        } catch (IOException e) {
            throw new BadInputException(file + ": cannot read (" + e.getMessage() + ")", e);
        }
    }

    private static TokenizerVocab parse(Path file, JsonParser p) throws IOException {
        if (p.nextToken() != JsonToken.START_OBJECT) throw new BadInputException(file + ": not a JSON object");
        Map<String, Long> added = new HashMap<>();
        Map<String, Long> vocab = null;
        long maxId = -1;
        while (p.nextToken() == JsonToken.FIELD_NAME) {
            String field = p.currentName();
            JsonToken value = p.nextToken();
            if (field.equals("added_tokens") && value == JsonToken.START_ARRAY) {
                while (p.nextToken() == JsonToken.START_OBJECT) {
                    String content = null;
                    long id = -1;
                    while (p.nextToken() == JsonToken.FIELD_NAME) {
                        String f = p.currentName();
                        JsonToken v = p.nextToken();
                        if (f.equals("content") && v == JsonToken.VALUE_STRING) content = p.getText();
                        else if (f.equals("id") && v == JsonToken.VALUE_NUMBER_INT) id = p.getLongValue();
                        else p.skipChildren();
                    }
                    if (content == null || id < 0) {
                        throw new BadInputException(file + ": an added_tokens entry lacks \"content\" or \"id\"");
                    }
                    added.put(content, id);
                    maxId = Math.max(maxId, id);
                }
            } else if (field.equals("model") && value == JsonToken.START_OBJECT) {
                while (p.nextToken() == JsonToken.FIELD_NAME) {
                    String f = p.currentName();
                    JsonToken v = p.nextToken();
                    if (f.equals("vocab") && v == JsonToken.START_OBJECT) {
                        // BPE, WordPiece, WordLevel: {"token": id, ...}
                        vocab = new HashMap<>(1 << 16);
                        while (p.nextToken() == JsonToken.FIELD_NAME) {
                            String token = p.currentName();
                            if (p.nextToken() != JsonToken.VALUE_NUMBER_INT) {
                                throw new BadInputException(file + ": model.vocab id of \"" + token + "\" is not an integer");
                            }
                            long id = p.getLongValue();
                            vocab.put(token, id);
                            maxId = Math.max(maxId, id);
                        }
                    } else if (f.equals("vocab") && v == JsonToken.START_ARRAY) {
                        // Unigram: [["piece", score], ...], the id is the position
                        vocab = new HashMap<>(1 << 16);
                        long id = 0;
                        while (p.nextToken() == JsonToken.START_ARRAY) {
                            if (p.nextToken() != JsonToken.VALUE_STRING) {
                                throw new BadInputException(file + ": model.vocab entry " + id + " is not [piece, score]");
                            }
                            vocab.putIfAbsent(p.getText(), id);
                            while (p.nextToken() != JsonToken.END_ARRAY) p.skipChildren();
                            maxId = Math.max(maxId, id);
                            id++;
                        }
                    } else {
                        p.skipChildren(); // merges and settings
                    }
                }
            } else {
                p.skipChildren();
            }
        }
        if (vocab == null) throw new BadInputException(file + ": no model.vocab");
        return new TokenizerVocab(added, vocab, maxId);
    }

    /** Jackson's message without its multi-line source excerpt, plus line and column. */
    static String oneLine(JsonProcessingException e) {
        String msg = e.getOriginalMessage() == null ? e.getClass().getSimpleName() : e.getOriginalMessage();
        msg = msg.replaceAll("\\s+", " ").trim();
        if (e.getLocation() != null) {
            msg += " at line " + e.getLocation().getLineNr() + ", column " + e.getLocation().getColumnNr();
        }
        return msg;
    }
}
