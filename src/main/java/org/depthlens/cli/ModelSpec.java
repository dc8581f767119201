package org.depthlens.cli;

import org.depthlens.BadInputException;

import java.nio.file.Path;
import java.util.HashSet;
import java.util.List;
import java.util.Set;

/** A model folder (absolute) and the label it is reported under. */
public record ModelSpec(Path dir, String label) {
    /** Labels name the output folders and the report's rows, so two models cannot share one. */
    static void checkLabels(List<ModelSpec> models) {
        Set<String> labels = new HashSet<>();
        for (ModelSpec m : models) {
            if (!labels.add(m.label())) throw new BadInputException("--label: two models share the label '" + m.label() + "'");
        }
    }
}
