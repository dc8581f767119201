package org.depthlens.model;

import org.nd4j.linalg.api.memory.MemoryWorkspace;
import org.nd4j.linalg.api.memory.conf.WorkspaceConfiguration;
import org.nd4j.linalg.api.memory.enums.AllocationPolicy;
import org.nd4j.linalg.api.memory.enums.LearningPolicy;
import org.nd4j.linalg.api.memory.enums.SpillPolicy;
import org.nd4j.linalg.factory.Nd4j;

/**
 * Scratch memory for one block evaluation: every temporary of the forward pass lands in a workspace
 * that is reused cycle after cycle (no page faults on fresh off-heap memory, no garbage waiting for
 * GC); only the result is detached. Measured 1.6-1.8x faster per block in nd4j-notes.md.
 */
public final class Workspaces {
    private static final WorkspaceConfiguration CONFIG = WorkspaceConfiguration.builder()
            .initialSize(0)
            .policyAllocation(AllocationPolicy.STRICT)
            .policyLearning(LearningPolicy.FIRST_LOOP)
            .policySpill(SpillPolicy.REALLOCATE)
            .build();

    private Workspaces() {}

    /** Opens the scratch workspace named {@code id}; arrays created inside are invalid after close unless detached. */
    public static MemoryWorkspace scratch(String id) {
        return Nd4j.getWorkspaceManager().getAndActivateWorkspace(CONFIG, id);
    }
}
