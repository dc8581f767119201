package org.depthlens.cli;

import org.depthlens.BadInputException;
import org.depthlens.analysis.ModelResult;
import org.depthlens.spark.SparkOptions;

import java.io.PrintStream;
import java.util.List;

/** Placeholder until the pass planner lands. */
final class SparkJobs {
    private SparkJobs() {}

    static List<ModelResult> analyze(AnalyzeJob.Request r, SparkOptions o, boolean keepGoing, PrintStream log) {
        throw new UnsupportedOperationException("not yet");
    }

    static void skipOrThrow(ModelSpec spec, String message, boolean keepGoing, PrintStream log) {
        if (!keepGoing) throw new BadInputException(message);
        log.println("depthlens: warning: skipped " + spec.label() + ": " + message + " (going on: --keep-going)");
    }
}
