package org.depthlens.cli;

import org.depthlens.BadInputException;
import org.depthlens.util.OutputGuard;
import org.depthlens.weights.Checkpoint;
import picocli.CommandLine;

import java.io.PrintStream;

import java.nio.file.Path;
import java.time.LocalDateTime;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;

/** What {@code analyze} and {@code eval} do alike with their options: models and labels, paths, default output folder. */
final class RunOptions {
    private RunOptions() {}

    /** Each --model with its --label (default: the folder's name); more labels than models is a usage error. */
    static List<ModelSpec> labelled(CommandLine.Model.CommandSpec spec, List<Path> models, List<String> labels) {
        if (labels.size() > models.size()) throw usage(spec, "more --label (" + labels.size() + ") than --model (" + models.size() + ")");
        List<ModelSpec> out = new ArrayList<>();
        for (int i = 0; i < models.size(); i++) {
            Path m = abs(models.get(i));
            out.add(new ModelSpec(m, i < labels.size() ? labels.get(i) : m.getFileName().toString()));
        }
        return out;
    }

    /**
     * Bytes the pass planner may fill with batches: half the heap, or {@code -Ddepthlens.memoryBudget} (tests and
     * diagnostics: the batch size changes no number, docs/design.md).
     */
    static long memoryBudget() {
        long b = Long.getLong("depthlens.memoryBudget", 0L);
        return b > 0 ? b : Runtime.getRuntime().maxMemory() / 2;
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
    static Path defaultOut(String prefix, List<ModelSpec> models) {
        String stamp = LocalDateTime.now().format(DateTimeFormatter.ofPattern("yyyyMMdd-HHmmss"));
        String names = String.join("-", models.stream().map(m -> m.label().replaceAll("[^A-Za-z0-9._-]", "_")).toList());
        return Home.dir().resolve("analyses").resolve(stamp + "-" + prefix + names);
    }

    /** Where a run with the default output folder also puts a copy of its report.html. */
    static Path reportsDir() {
        return Home.dir().resolve("reports");
    }

    /**
     * The one rule for weights holding NaN or infinity (analyze, eval, trace): refuse, naming the tensor, or with
     * --allow-nan warn once per tensor and go on.
     */
    static Checkpoint.NonFiniteHandler nonFinite(boolean allow, PrintStream log) {
        Set<String> warned = ConcurrentHashMap.newKeySet();
        return (tensor, count, message) -> {
            if (!allow) throw new BadInputException(message + "; use --allow-nan to analyse anyway");
            if (warned.add(tensor.file() + "/" + tensor.name())) {
                log.println("depthlens: warning: " + message + " (going on: --allow-nan)");
            }
        };
    }

    /**
     * The inputs of {@code analyze}/{@code eval} for {@link OutputGuard}: every model folder (the first {@code direct}
     * from {@code --model}, the rest from {@code --models-from}, whose list files are inputs too), and {@code more}.
     */
    static List<OutputGuard.Input> inputs(Origin origin, List<ModelSpec> models, int direct, List<String> modelsFrom,
                                          List<OutputGuard.Input> more) {
        List<OutputGuard.Input> in = new ArrayList<>();
        for (int i = 0; i < models.size(); i++) {
            in.add(OutputGuard.input(i < direct ? origin.name("--model") : origin.name("--models-from"), models.get(i).dir()));
        }
        for (String m : modelsFrom) {
            Path p = Path.of(m);
            if (!ModelList.isGlob(m) && p.getFileName() != null) in.add(OutputGuard.input(origin.name("--models-from"), p));
        }
        in.addAll(more);
        return in;
    }

    /** A model that met bad input: fail the run with its line, or with {@code --keep-going} warn and leave it out. */
    static void skipOrThrow(ModelSpec spec, String message, AnalyzeJob.Execution exec, PrintStream log) {
        if (!exec.keepGoing()) throw new org.depthlens.BadInputException(message);
        exec.skips().add(spec, message);
        log.println("depthlens: warning: skipped " + spec.label() + ": " + message + " (going on: --keep-going)");
    }
}
