package org.depthlens.model;

import org.nd4j.linalg.api.memory.MemoryWorkspace;
import org.nd4j.linalg.api.memory.conf.WorkspaceConfiguration;
import org.nd4j.linalg.api.memory.enums.AllocationPolicy;
import org.nd4j.linalg.api.memory.enums.LearningPolicy;
import org.nd4j.linalg.api.memory.enums.SpillPolicy;
import org.nd4j.linalg.factory.Nd4j;

/**
 * The workspace a block-major pass opens around each block: ND4J temporaries that do not already live
 * in {@link Scratch} buffers (e.g. the router logits and the MLA projections) are allocated in it, and
 * its memory is reused block after block instead of being page-faulted in and left for the GC (1.6-1.8x
 * per block in nd4j-notes.md). Nothing is detached: stream states ({@link Scratch#state}) and weight
 * buffers ({@link WeightPool}) are always allocated outside any workspace, so they outlive its close.
 */
public final class Workspaces {
    private static final WorkspaceConfiguration CONFIG = WorkspaceConfiguration.builder()
            .initialSize(0)
            .policyAllocation(AllocationPolicy.STRICT)
            .policyLearning(LearningPolicy.FIRST_LOOP)
            .policySpill(SpillPolicy.REALLOCATE)
            .build();

    private Workspaces() {}

    /** Opens the workspace named {@code id}; arrays created inside it are invalid after it closes. */
    public static MemoryWorkspace scratch(String id) {
        return Nd4j.getWorkspaceManager().getAndActivateWorkspace(CONFIG, id);
    }
}
