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

    /**
     * The block normalisation the model ran with, for labels: "LNS", "Mix-LN (post_pre, POST_NUM=2)", "Pre-LN (pre)";
     * from the provenance, else (files written before it was recorded) "LNS" or "Pre-LN" by the LNS flag.
     */
    public String normLabel() {
        String l = provenance == null ? null : provenance.normLabel();
        return l != null ? l : lns ? "LNS" : "Pre-LN";
    }

    /** Whether some block is post-norm: its output x[l+1] is a normalised vector, so the stream's scale does not grow. */
    public boolean hasPostNormBlocks() {
        var t = provenance == null || provenance.normType() == null ? null : org.depthlens.model.family.NormType.parse(provenance.normType());
        if (t == null || metrics == null) return false;
        int postNum = provenance.postNum() == null ? 1 : provenance.postNum();
        return t.blocks(metrics.blocks(), postNum, null).stream().anyMatch(b -> b instanceof org.depthlens.model.family.BlockForm.PostNorm);
    }
}
