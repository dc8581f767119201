package org.depthlens.model;

import org.depthlens.model.family.Architecture;
import org.depthlens.model.family.BlockSpec;

import java.util.List;

/**
 * The cos/sin tables of a model's rotary tables for one sequence length; each block reads its own
 * ({@link BlockSpec#rope()}: Gemma-3's sliding blocks use the local base, its global ones the global one).
 */
public record RopeTables(List<Rope.Tables> tables) {
    public RopeTables {
        tables = List.copyOf(tables);
    }

    public static RopeTables of(List<Rope> ropes, int seqLen) {
        return new RopeTables(ropes.stream().map(r -> r.tables(seqLen)).toList());
    }

    /** The tables of {@code a}'s rotary tables, computed afresh (benchmarks). */
    public static RopeTables of(Architecture a, int seqLen) {
        return of(a.ropes().stream().map(Rope::new).toList(), seqLen);
    }

    public Rope.Tables forBlock(BlockSpec b) {
        return tables.get(b.rope());
    }
}
