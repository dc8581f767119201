package org.depthlens.eval;

import org.depthlens.BadInputException;
import org.depthlens.text.ModelTokenizer;

/** The tokenizer as the evaluation sees it (a model's own tokenizer, or a toy one in tests). */
public interface TextEncoder {
    /** Token ids of {@code text}; {@code special}: with the tokens the tokenizer adds by default (BOS, ...). */
    int[] encode(String text, boolean special);

    /** lm-eval's {@code prefix_token_id}: BOS, or EOS when the tokenizer has no BOS. */
    int prefixToken();

    /** A model tokenizer; its prefix token is its BOS id, else its EOS id. */
    static TextEncoder of(ModelTokenizer tok) {
        Long prefix = tok.bosId().or(tok::eosId).orElse(null);
        return new TextEncoder() {
            @Override
            public int[] encode(String text, boolean special) {
                long[] ids = tok.encode(text, special);
                int[] out = new int[ids.length];
                for (int i = 0; i < ids.length; i++) out[i] = Math.toIntExact(ids[i]);
                return out;
            }

            @Override
            public int prefixToken() {
                if (prefix == null) {
                    throw new BadInputException(tok.file() + ": the tokenizer has neither a BOS nor an EOS token, so there is no "
                            + "token to predict a document's first token from");
                }
                return Math.toIntExact(prefix);
            }
        };
    }
}
