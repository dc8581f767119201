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
 * @param init   how {@code synth} fills it: random, or ones (norm gains)
 */
public record Weight(String role, List<Part> parts, int expert, Init init) {
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

    public enum Init { RANDOM, ONES }

    public Weight {
        parts = List.copyOf(parts);
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
        return new Weight(role, parts, e, init);
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
