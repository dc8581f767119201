package org.depthlens.cli;

import org.depthlens.spark.SparkOptions;
import org.depthlens.spark.SparkPasses;
import org.depthlens.spark.SparkRun;

import java.io.PrintStream;
import java.util.List;

/**
 * {@link JobDriver}'s Spark side. The only class of the commands that uses Spark's side of
 * {@code org.depthlens.spark}, so that a run without {@code --spark} never loads Spark (it is not on the
 * single-machine launcher's class path).
 */
final class SparkJobs implements JobDriver.Cluster {
    private final SparkRun run;
    private final int windowsPerTask;
    private final PrintStream log;

    private SparkJobs(SparkRun run, int windowsPerTask, PrintStream log) {
        this.run = run;
        this.windowsPerTask = windowsPerTask;
        this.log = log;
    }

    /** Starts the Spark context of a run. */
    static JobDriver.Cluster start(SparkOptions o, String appName, PrintStream log) {
        return new SparkJobs(SparkRun.start(o, appName, log), o.windowsPerTask(), log);
    }

    @Override
    public List<SparkPasses.Result> run(List<SparkPasses.Job> jobs) {
        return SparkPasses.run(run, jobs, windowsPerTask, log);
    }

    @Override
    public String describe() {
        return run.describe();
    }

    @Override
    public void close() {
        run.close();
    }
}
