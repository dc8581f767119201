package org.depthlens.cli;

import org.depthlens.BadInputException;
import org.depthlens.ExitCodes;
import picocli.CommandLine;
import picocli.CommandLine.Command;

import java.io.PrintWriter;
import java.io.UncheckedIOException;

/**
 * The {@code depthlens} command line. Exit codes: 0 success, 1 internal error, 2 usage error,
 * 3 bad input (a file, tensor, key or option value), 130 interrupted.
 */
@Command(name = "depthlens", mixinStandardHelpOptions = true, versionProvider = Main.Version.class,
        description = {
                "Which layers of this model actually do anything?",
                "",
                "Reads HuggingFace checkpoints (config.json + safetensors) of Llama, Mistral, Mixtral, Qwen2/3,",
                "Qwen2/3-MoE and DeepSeek V2/V3, runs them in float32 and measures, block by block, how much each",
                "block changes the residual stream and what removing it costs (the Curse of Depth probes).",
                ""},
        subcommands = {AnalyzeCommand.class, InspectCommand.class, TokenizeCommand.class, TraceCommand.class,
                FoldLnsCommand.class, SynthCommand.class, BenchCommand.class, CommandLine.HelpCommand.class},
        footerHeading = "%nExit codes:%n",
        footer = {"  0  success", "  1  internal error (a bug: please report it with --debug output)",
                "  2  usage error (unknown option, missing argument)",
                "  3  bad input (missing or malformed model, config, tensor, text or option value)",
                "  130  interrupted (Ctrl-C); no partial output is left behind",
                "",
                "Start with:  depthlens analyze          (the bundled Pre-LN vs LNS demo)",
                "             depthlens analyze --help"})
public final class Main implements Runnable {
    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    static {
        System.setProperty("java.awt.headless", "true");
    }

    public static void main(String[] args) {
        System.exit(run(args));
    }

    /** Runs the CLI and returns the exit code (tests call this in-process). */
    public static int run(String... args) {
        CommandLine cl = commandLine();
        return cl.execute(args);
    }

    static CommandLine commandLine() {
        CommandLine cl = new CommandLine(new Main());
        cl.setExecutionExceptionHandler(Main::handle);
        cl.setParameterExceptionHandler((ex, a) -> {
            PrintWriter err = ex.getCommandLine().getErr();
            err.println("depthlens: usage error: " + ex.getMessage());
            err.println("Try '" + ex.getCommandLine().getCommandSpec().qualifiedName() + " --help'.");
            return ExitCodes.USAGE;
        });
        cl.setCaseInsensitiveEnumValuesAllowed(true);
        return cl;
    }

    private static int handle(Exception ex, CommandLine cl, CommandLine.ParseResult pr) {
        PrintWriter err = cl.getErr();
        boolean debug = pr.subcommand() != null ? pr.subcommand().hasMatchedOption("--debug") : pr.hasMatchedOption("--debug");
        Throwable t = ex;
        if (t instanceof UncheckedIOException && t.getCause() != null) t = t.getCause();
        if (t instanceof BadInputException) {
            err.println("depthlens: error: " + oneLine(t.getMessage()));
            if (debug) t.printStackTrace(err);
            return ExitCodes.BAD_INPUT;
        }
        if (t instanceof InterruptedException || Thread.currentThread().isInterrupted()) {
            err.println("depthlens: interrupted; no output was written");
            return ExitCodes.INTERRUPTED;
        }
        if (t instanceof CommandLine.ParameterException) {
            err.println("depthlens: usage error: " + oneLine(t.getMessage()));
            return ExitCodes.USAGE;
        }
        if (t instanceof java.io.IOException) {
            err.println("depthlens: error: " + oneLine(ex.getMessage()));
            if (debug) t.printStackTrace(err);
            return ExitCodes.BAD_INPUT;
        }
        err.println("depthlens: internal error: " + oneLine(String.valueOf(t)) + (debug ? "" : " (run with --debug for details)"));
        if (debug) t.printStackTrace(err);
        return ExitCodes.INTERNAL;
    }

    static String oneLine(String s) {
        return s == null ? "" : s.replaceAll("\\s*\\R\\s*", " ").trim();
    }

    @Override
    public void run() {
        spec.commandLine().usage(spec.commandLine().getOut());
    }

    static final class Version implements CommandLine.IVersionProvider {
        @Override
        public String[] getVersion() {
            return new String[] {org.depthlens.analysis.ProvenanceBuilder.toolVersion()};
        }
    }
}
