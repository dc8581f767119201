package org.depthlens.analysis;

import org.depthlens.pass.Provenance;
import org.depthlens.pass.PrunedRemoval;
import org.depthlens.probe.Metrics;

import java.util.List;

/**
 * Everything {@code analyze} learned about one model: the probe metrics, contiguous pruning,
 * per-block expert usage (one count per expert for MoE blocks, null for dense blocks; the whole
 * list is null for dense models) and provenance.
 */
public record ModelResult(String label, String family, boolean lns, Metrics metrics, List<PrunedRemoval> prunedRemoval,
                          List<long[]> expertUsage, Provenance provenance) {
}
