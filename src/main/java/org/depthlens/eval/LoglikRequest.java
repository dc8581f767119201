package org.depthlens.eval;

import java.util.Arrays;

/**
 * One log-likelihood query at token level, as lm-evaluation-harness's {@code _loglikelihood_tokens}
 * sees it: the model reads {@code (context + continuation)}, left-truncated to its last
 * {@code maxLength + 1} tokens, minus the last token, and the answer is the summed log-probability
 * of the continuation tokens, each predicted from everything before it.
 *
 * <p>The context must hold at least one token (the one the first continuation token is predicted
 * from: the BOS/EOS prefix for an empty text context, the previous document token for a rolling window).
 */
public record LoglikRequest(int[] context, int[] continuation) {
    public LoglikRequest {
        if (context == null || context.length == 0) throw new IllegalArgumentException("context must hold at least one token");
        if (continuation == null || continuation.length == 0) throw new IllegalArgumentException("continuation must hold at least one token");
        context = context.clone();
        continuation = continuation.clone();
    }

    /** The model input: {@code (context + continuation)[-(maxLength+1):][:-1]}, at most maxLength tokens. */
    public int[] input(int maxLength) {
        if (continuation.length > maxLength) {
            throw new IllegalArgumentException("continuation of " + continuation.length + " tokens is longer than max length " + maxLength);
        }
        int total = context.length + continuation.length;
        int start = Math.max(0, total - (maxLength + 1));
        int[] in = new int[total - 1 - start];
        for (int i = start; i < total - 1; i++) in[i - start] = i < context.length ? context[i] : continuation[i - context.length];
        return in;
    }

    /** The planner's sequence: the input, its last |continuation| rows scored against the continuation. */
    public org.depthlens.pass.Sequence sequence(int maxLength) {
        int[] in = input(maxLength);
        return new org.depthlens.pass.Sequence(in, in.length - continuation.length, continuation.clone());
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof LoglikRequest r && Arrays.equals(context, r.context) && Arrays.equals(continuation, r.continuation);
    }

    @Override
    public int hashCode() {
        return 31 * Arrays.hashCode(context) + Arrays.hashCode(continuation);
    }

    @Override
    public String toString() {
        return "LoglikRequest[context=" + Arrays.toString(context) + ", continuation=" + Arrays.toString(continuation) + "]";
    }
}
