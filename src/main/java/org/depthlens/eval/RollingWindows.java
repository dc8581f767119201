package org.depthlens.eval;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * lm-evaluation-harness's rolling log-likelihood windows of one document:
 * {@code get_rolling_token_windows(tokens, prefix, maxLength, context_len=1)} followed by
 * {@code make_disjoint_window}. Every token is predicted exactly once, in consecutive disjoint chunks
 * of at most {@code maxLength} tokens:
 * <ul>
 *   <li>the first chunk {@code tokens[0, n1)} (n1 = min(maxLength, N)) is read as
 *       {@code [prefix] + tokens[0, n1-1)};</li>
 *   <li>a later full chunk {@code tokens[s, s+maxLength)} is read as {@code tokens[s-1, s+maxLength-1)}:
 *       the token before it, then the chunk minus its last token;</li>
 *   <li>the last, shorter chunk {@code tokens[s, N)} is read as {@code tokens[N-1-maxLength, N-1)}:
 *       lm-eval fills its input up to maxLength tokens with the document tokens before it (they are
 *       context only; nothing is predicted twice), so it conditions on more than the one token before it.</li>
 * </ul>
 * The windows come back as {@link LoglikRequest}s whose {@link LoglikRequest#input} is exactly that input.
 */
public final class RollingWindows {
    private RollingWindows() {}

    /** The windows of {@code tokens} (empty for an empty document). */
    public static List<LoglikRequest> of(int[] tokens, int prefixToken, int maxLength) {
        if (maxLength < 1) throw new IllegalArgumentException("max length must be at least 1, got " + maxLength);
        List<LoglikRequest> out = new ArrayList<>();
        int n = tokens.length;
        if (n == 0) return out;
        int first = Math.min(maxLength, n);
        out.add(new LoglikRequest(new int[] {prefixToken}, Arrays.copyOfRange(tokens, 0, first)));
        int predicted = first;
        while (predicted < n) {
            int predLen = Math.min(n - predicted, maxLength);
            int end = predicted + predLen;
            // get_rolling_token_windows: input tokens[end-maxLength-1, end-1), predictions tokens[end-predLen, end);
            // make_disjoint_window keeps the input minus its overlap with the predictions as the context.
            int inStart = end - maxLength - 1;
            int ctxEnd = end - predLen; // = inStart + maxLength - (predLen - 1)
            out.add(new LoglikRequest(Arrays.copyOfRange(tokens, inStart, ctxEnd), Arrays.copyOfRange(tokens, end - predLen, end)));
            predicted = end;
        }
        return out;
    }
}
