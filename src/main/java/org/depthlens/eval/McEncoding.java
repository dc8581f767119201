package org.depthlens.eval;

import java.util.Arrays;

/**
 * lm-evaluation-harness's {@code loglikelihood} / {@code _encode_pair} for one (context, continuation)
 * pair of strings, for causal models:
 * <ol>
 *   <li>an empty context becomes the prefix token (BOS, or EOS without BOS) and the continuation is
 *       encoded on its own without special tokens;</li>
 *   <li>otherwise the context's trailing whitespace moves to the start of the continuation, then
 *       {@code whole = encode(context + continuation)}, {@code ctx = encode(context)} (both with the
 *       tokenizer's default special tokens, lm-eval's {@code add_bos_token=None}) and the continuation is
 *       {@code whole[len(ctx):]}: tokens that merge across the boundary are cut by count, as lm-eval does.</li>
 * </ol>
 * Two guards where lm-eval would fail: when the cut leaves no continuation token (a token spanning the
 * boundary swallowed it) the continuation is encoded on its own (lm-eval's fix for #1053/#3336), and a
 * context that encodes to nothing (whitespace only, no BOS added) is replaced by the prefix token.
 */
public final class McEncoding {
    private McEncoding() {}

    public static LoglikRequest encode(TextEncoder tok, String context, String continuation) {
        if (context.isEmpty()) {
            return new LoglikRequest(new int[] {tok.prefixToken()}, nonEmpty(tok.encode(continuation, false), continuation));
        }
        int cut = context.length();
        while (cut > 0) {
            int cp = context.codePointBefore(cut);
            if (!Documents.isSpace(cp)) break;
            cut -= Character.charCount(cp);
        }
        String ctxText = context.substring(0, cut);
        String contText = context.substring(cut) + continuation;
        int[] whole = tok.encode(ctxText + contText, true);
        int[] ctx = tok.encode(ctxText, true);
        int[] cont = ctx.length <= whole.length ? Arrays.copyOfRange(whole, ctx.length, whole.length) : new int[0];
        if (cont.length == 0) cont = tok.encode(contText, false);
        if (ctx.length == 0) ctx = new int[] {tok.prefixToken()};
        return new LoglikRequest(ctx, nonEmpty(cont, continuation));
    }

    private static int[] nonEmpty(int[] ids, String text) {
        if (ids.length == 0) throw new IllegalArgumentException("continuation '" + text + "' encodes to no tokens");
        return ids;
    }
}
