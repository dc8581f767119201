package org.depthlens.cli;

import org.depthlens.analysis.Analyzer;
import org.depthlens.analysis.MetricRegistry;
import org.depthlens.analysis.MetricSource;
import org.depthlens.eval.Evaluator;
import org.depthlens.model.Model;
import org.depthlens.model.family.NormChoice;
import org.depthlens.pass.Branch;
import org.depthlens.pass.Passes;
import org.depthlens.spark.SparkPasses;
import org.depthlens.util.Progress;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.ObjectInputStream;
import java.io.ObjectOutputStream;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;

/**
 * The options of a run travel to Spark executors as one serialisable value: every probe switch of
 * {@link Analyzer.DepthProbes}, set on the command line against its default, reaches the executor's copy of
 * the job, and the planner request the executor rebuilds from it is the one this process runs.
 */
class JobOptionsTest {
    @TempDir
    Path tmp;

    @Test
    void everyProbeSwitchOfTheCommandLineReachesTheExecutors() throws Exception {
        Path model = BadModels.llama(tmp, "llama");
        Path ids = BadModels.ids(tmp.resolve("ids.json"), 64);
        List<String> base = List.of("-m", model.toString(), "--ids", ids.toString(), "--window", "32", "--prune", "2", "-o",
                tmp.resolve("out").toString());
        Analyzer.DepthProbes defaults = request(base).options().probes();
        assertEquals(Analyzer.DepthProbes.DEFAULT, defaults);
        CommandLine.Model.CommandSpec analyze = Main.commandLine().getSubcommands().get("analyze").getCommandSpec();
        try (Model m = Model.open(model, NormChoice.AUTO)) {
            for (MetricSource.Switch sw : MetricRegistry.SWITCHES) {
                boolean d = defaults.has(sw.name());
                List<List<String>> flags = new ArrayList<>();
                flags.add(List.of(d ? "--no-probe" : "--probe", sw.name()));
                // a probe with a flag of its own (--logit-lens, --no-jacobian, ...) is switched by it the same way
                if (analyze.findOption("--" + sw.name()) != null) flags.add(List.of("--" + (d ? "no-" : "") + sw.name()));
                for (List<String> flag : flags) {
                    List<String> args = new ArrayList<>(base);
                    args.addAll(flag);
                    AnalyzeJob.Request r = request(args);
                    assertEquals(!d, r.options().probes().has(sw.name()), flag + " sets " + sw.name());

                    // what the driver plans for this model, sent as Spark sends a task (Java serialisation)
                    JobDriver.Planned<?> planned = AnalyzeJob.work(r).plan(new ModelSpec(model, "llama"), m, new PrintStream(
                            new ByteArrayOutputStream()));
                    SparkPasses.Job job = new SparkPasses.Job(model.toString(), "llama", NormChoice.AUTO, false, planned.sequences(),
                            planned.options(), r.options().memoryBudgetBytes());
                    SparkPasses.Job sent = roundTrip(job);
                    assertEquals(r.options(), sent.options(), flag.toString());
                    // the executor's request is the one the options ask for, and the switch changes it
                    Passes.Request executor = sent.options().request(m);
                    assertSameRequest(flag.toString(), Analyzer.request(m, r.options()), executor);
                    assertNotEquals(describe(Analyzer.request(m, request(base).options())), describe(executor), flag + " changes nothing");
                }
            }
        }
    }

    @Test
    void evaluationOptionsWithAGivenPruningTravelWhole() throws Exception {
        Path model = BadModels.llama(tmp, "llama");
        var given = new Evaluator.Options(64, true, 2, List.of(Branch.skip(1, 2), Branch.skip(1, 3)),
                "angular_last of the analyze probe pass (4 windows of the analysed text)", 1L << 28);
        var chosen = new Evaluator.Options(0, false, 1, null, null, 1L << 29);
        try (Model m = Model.open(model, NormChoice.AUTO)) {
            for (Evaluator.Options o : List.of(given, chosen)) {
                Evaluator.Options sent = roundTrip(o);
                assertEquals(o, sent);
                assertSameRequest(o.toString(), new Evaluator(m, null, o, Progress.NONE).request(), sent.request(m));
            }
        }
    }

    /** AnalyzeCommand's run for {@code args}, as the command line builds it (nothing is written). */
    private AnalyzeJob.Request request(List<String> args) throws Exception {
        List<String> all = new ArrayList<>(List.of("analyze"));
        all.addAll(args);
        CommandLine.ParseResult parsed = Main.commandLine().parseArgs(all.toArray(String[]::new));
        AnalyzeJob.Request r = ((AnalyzeCommand) parsed.subcommand().commandSpec().userObject()).job().request();
        assertFalse(Files.exists(tmp.resolve("out")));
        return r;
    }

    private static void assertSameRequest(String what, Passes.Request a, Passes.Request b) {
        assertEquals(describe(a), describe(b), what);
    }

    /** A request's branches, stages, pruning and probes (live objects: by class, name and per-token room). */
    private static String describe(Passes.Request r) {
        return r.branches() + " main " + r.scoreMain() + " angles " + r.lastAngles() + " prune " + r.prune() + " " + r.pruning()
                + " probes " + r.probes().stream().map(p -> p.getClass().getName() + " " + p.name() + " " + p.floatsPerToken()).toList();
    }

    @SuppressWarnings("unchecked")
    private static <T> T roundTrip(T value) throws Exception {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        try (ObjectOutputStream out = new ObjectOutputStream(bytes)) {
            out.writeObject(value);
        }
        try (ObjectInputStream in = new ObjectInputStream(new ByteArrayInputStream(bytes.toByteArray()))) {
            return (T) in.readObject();
        }
    }
}
