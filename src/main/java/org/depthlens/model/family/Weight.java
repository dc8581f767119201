package org.depthlens.model.family;

import java.util.Arrays;
import java.util.List;

/**
 * One float32 buffer the loader fills, under a role the forward pass asks for ("attn.qkv",
 * "mlp.down", "norm.in", ...): one checkpoint tensor, or several stacked along their first
 * dimension so that one gemm serves them all (q, k and v as one [q+2kv, hidden] matrix; gate and
 * up as one [2*intermediate, hidden] matrix). The lists of these per block and per model are what
 * the loader reads, what {@code synth} writes and what every checkpoint tensor is checked against.
 *
 * @param parts  the tensors, in stacking order; all alike after the first dimension
 * @param expert -1 for a weight loaded with its block; e for routed expert e, loaded only when a token
 *               chooses it (into the same role for every expert: one buffer, reused)
 * @param init   how {@code synth} fills it: random, ones (norm gains) or zeros (biases of norms, Gemma's gain offsets)
 * @param transform what loading does to the stored values before the forward pass reads them
 */
public record Weight(String role, List<Part> parts, int expert, Init init, Transform transform) {
    /** One checkpoint tensor and the shape the config implies for it. */
    public record Part(String name, long[] shape) {
        public Part {
            shape = shape.clone();
        }

        @Override
        public long[] shape() {
            return shape.clone();
        }

        public long numel() {
            long n = 1;
            for (long d : shape) n *= d;
            return n;
        }

        @Override
        public boolean equals(Object o) {
            return o instanceof Part p && p.name.equals(name) && Arrays.equals(p.shape, shape);
        }

        @Override
        public int hashCode() {
            return name.hashCode() * 31 + Arrays.hashCode(shape);
        }

        @Override
        public String toString() {
            return name + Arrays.toString(shape);
        }
    }

    public enum Init { RANDOM, ONES, ZEROS }

    /**
     * How the stored tensor becomes the buffer the forward pass reads.
     * {@code PLUS_ONE}: Gemma's norm gains are stored as offsets from 1.
     * {@code PER_HEAD_QKV}: GPT-NeoX's fused {@code query_key_value} rows are laid out per head as
     * [heads, 3, headDim] (q, k, v of head 0, then of head 1, ...); they are regrouped into all q rows,
     * then all k, then all v, the layout of a stacked q/k/v weight (also for its bias).
     */
    public record Transform(Kind kind, int heads, int headDim) implements java.io.Serializable {
        public enum Kind { NONE, PLUS_ONE, PER_HEAD_QKV }

        public static final Transform NONE = new Transform(Kind.NONE, 0, 0);
        public static final Transform PLUS_ONE = new Transform(Kind.PLUS_ONE, 0, 0);

        public static Transform perHeadQkv(int heads, int headDim) {
            return new Transform(Kind.PER_HEAD_QKV, heads, headDim);
        }
    }

    public Weight(String role, List<Part> parts, int expert, Init init) {
        this(role, parts, expert, init, Transform.NONE);
    }

    public Weight {
        parts = List.copyOf(parts);
        if (transform == null) transform = Transform.NONE;
        if (parts.isEmpty()) throw new IllegalArgumentException("weight " + role + " has no tensor");
    }

    /** One tensor under {@code role}. */
    public static Weight of(String role, String name, long... shape) {
        return new Weight(role, List.of(new Part(name, shape)), -1, Init.RANDOM);
    }

    /** A norm gain (ones in synthetic checkpoints). */
    public static Weight gain(String role, String name, long size) {
        return new Weight(role, List.of(new Part(name, new long[] {size})), -1, Init.ONES);
    }

    /** A norm gain stored as an offset from 1 (Gemma): zeros in synthetic checkpoints, 1 + w when loaded. */
    public static Weight gainOffset(String role, String name, long size) {
        return new Weight(role, List.of(new Part(name, new long[] {size})), -1, Init.ZEROS, Transform.PLUS_ONE);
    }

    /** A vector that is zero in synthetic checkpoints (a norm's bias). */
    public static Weight zeros(String role, String name, long size) {
        return new Weight(role, List.of(new Part(name, new long[] {size})), -1, Init.ZEROS);
    }

    /** This weight loaded through {@code t}. */
    public Weight with(Transform t) {
        return new Weight(role, parts, expert, init, t);
    }

    /** A learned 0-dim scalar (shape []; ones in synthetic checkpoints). */
    public static Weight scalar(String role, String name) {
        return new Weight(role, List.of(new Part(name, new long[0])), -1, Init.ONES);
    }

    /** Tensors stacked along their first dimension under {@code role}. */
    public static Weight stacked(String role, Part... parts) {
        return new Weight(role, List.of(parts), -1, Init.RANDOM);
    }

    public static Part part(String name, long... shape) {
        return new Part(name, shape);
    }

    /** This weight as routed expert {@code e}'s. */
    public Weight ofExpert(int e) {
        return new Weight(role, parts, e, init, transform);
    }

    public boolean onDemand() {
        return expert >= 0;
    }

    /** The buffer's shape: the parts' first dimensions summed. */
    public long[] shape() {
        long[] s = parts.get(0).shape();
        for (int i = 1; i < parts.size(); i++) s[0] += parts.get(i).shape()[0];
        return s;
    }
}
