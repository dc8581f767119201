package org.depthlens.cli;

import picocli.CommandLine;

import java.nio.file.Path;
import java.time.LocalDateTime;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.List;

/** What {@code analyze} and {@code eval} do alike with their options: models and labels, paths, default output folder. */
final class RunOptions {
    private RunOptions() {}

    /** A model folder (absolute) and its label. */
    record LabelledModel(Path dir, String label) {
    }

    /** Each --model with its --label (default: the folder's name); more labels than models is a usage error. */
    static List<LabelledModel> labelled(CommandLine.Model.CommandSpec spec, List<Path> models, List<String> labels) {
        if (labels.size() > models.size()) throw usage(spec, "more --label (" + labels.size() + ") than --model (" + models.size() + ")");
        List<LabelledModel> out = new ArrayList<>();
        for (int i = 0; i < models.size(); i++) {
            Path m = abs(models.get(i));
            out.add(new LabelledModel(m, i < labels.size() ? labels.get(i) : m.getFileName().toString()));
        }
        return out;
    }

    static Path abs(Path p) {
        return p.toAbsolutePath().normalize();
    }

    static List<Path> abs(List<Path> ps) {
        return ps.stream().map(RunOptions::abs).toList();
    }

    /** A usage error (exit code 2) of the command {@code spec}. */
    static CommandLine.ParameterException usage(CommandLine.Model.CommandSpec spec, String msg) {
        return new CommandLine.ParameterException(spec.commandLine(), msg);
    }

    /** The default output folder: {@code analyses/<yyyyMMdd-HHmmss>-<prefix><label>-<label>...} in the depthlens home. */
    static Path defaultOut(String prefix, List<LabelledModel> models) {
        String stamp = LocalDateTime.now().format(DateTimeFormatter.ofPattern("yyyyMMdd-HHmmss"));
        String names = String.join("-", models.stream().map(m -> m.label().replaceAll("[^A-Za-z0-9._-]", "_")).toList());
        return Home.dir().resolve("analyses").resolve(stamp + "-" + prefix + names);
    }

    /** Where a run with the default output folder also puts a copy of its report.html. */
    static Path reportsDir() {
        return Home.dir().resolve("reports");
    }
}
