package org.depthlens.cli;

import org.depthlens.BadInputException;
import org.depthlens.model.family.NormChoice;

import java.nio.file.Path;
import java.util.HashSet;
import java.util.List;
import java.util.Set;

/** A model folder (absolute), the label it is reported under and the block normalisation asked for it. */
public record ModelSpec(Path dir, String label, NormChoice norm) {
    public ModelSpec(Path dir, String label) {
        this(dir, label, NormChoice.AUTO);
    }

    ModelSpec withNorm(NormChoice n) {
        return new ModelSpec(dir, label, n);
    }

    /** Labels name the output folders and the report's rows, so two models cannot share one. */
    static void checkLabels(List<ModelSpec> models) {
        Set<String> labels = new HashSet<>();
        for (ModelSpec m : models) {
            if (!labels.add(m.label())) throw new BadInputException("--label: two models share the label '" + m.label() + "'");
        }
    }
}
