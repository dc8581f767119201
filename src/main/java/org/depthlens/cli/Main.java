package org.depthlens.cli;

import org.depthlens.BadInputException;
import org.depthlens.ExitCodes;
import org.depthlens.RunInterruptedException;
import org.depthlens.util.AtomicDir;
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
                "Reads HuggingFace checkpoints (config.json + safetensors or PyTorch .bin) of Llama, Mistral,",
                "Mixtral, Qwen2/3, Qwen2/3-MoE and DeepSeek V2/V3, runs them in float32 and measures, block by",
                "block, how much each block changes the residual stream and what removing it costs (the Curse of",
                "Depth probes).",
                ""},
        subcommands = {AnalyzeCommand.class, EvalCommand.class, InspectCommand.class, TokenizeCommand.class, TraceCommand.class,
                FoldLnsCommand.class, PruneCommand.class, SynthCommand.class, BenchCommand.class, CommandLine.HelpCommand.class},
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
        org.depthlens.model.Blas.configure(); // before anything loads ND4J
    }

    /** Set by the SIGINT handler: from then on, failures are consequences of the interrupt. */
    private static final java.util.concurrent.atomic.AtomicBoolean INTERRUPTED = new java.util.concurrent.atomic.AtomicBoolean();

    public static void main(String[] args) {
        installInterruptHandler();
        int code = run(args);
        if (INTERRUPTED.get()) awaitInterruptHandler();
        System.exit(code);
    }

    /** Runs the CLI and returns the exit code (tests call this in-process). */
    public static int run(String... args) {
        return run(new PrintWriter(new java.io.OutputStreamWriter(System.out, java.nio.charset.StandardCharsets.UTF_8), true),
                new PrintWriter(new java.io.OutputStreamWriter(System.err, java.nio.charset.StandardCharsets.UTF_8), true), args);
    }

    /** Runs the CLI with its normal output and its error messages going to the given writers. */
    public static int run(PrintWriter out, PrintWriter err, String... args) {
        CommandLine cl = commandLine();
        cl.setOut(out);
        cl.setErr(err);
        try {
            return cl.execute(args);
        } catch (RuntimeException | Error e) {
            // anything picocli lets through (an Error such as OutOfMemoryError from a command)
            boolean debug = java.util.Arrays.asList(args).contains("--debug");
            return report(e, err, debug);
        } finally {
            out.flush();
            err.flush();
        }
    }

    static CommandLine commandLine() {
        CommandLine cl = new CommandLine(new Main());
        cl.setOut(new PrintWriter(new java.io.OutputStreamWriter(System.out, java.nio.charset.StandardCharsets.UTF_8), true));
        cl.setErr(new PrintWriter(new java.io.OutputStreamWriter(System.err, java.nio.charset.StandardCharsets.UTF_8), true));
        cl.setExecutionExceptionHandler(Main::handle);
        cl.setParameterExceptionHandler((ex, a) -> {
            PrintWriter err = ex.getCommandLine().getErr();
            err.println("depthlens: usage error: " + oneLine(ex.getMessage()) + " (see '"
                    + ex.getCommandLine().getCommandSpec().qualifiedName() + " --help')");
            err.flush();
            return ExitCodes.USAGE;
        });
        cl.setCaseInsensitiveEnumValuesAllowed(true);
        cl.setUsageHelpWidth(112);
        AnalyzeCommand.addProbesSection(cl.getSubcommands().get("analyze"));
        return cl;
    }

    private static int handle(Exception ex, CommandLine cl, CommandLine.ParseResult pr) {
        boolean debug = pr.subcommand() != null ? pr.subcommand().hasMatchedOption("--debug") : pr.hasMatchedOption("--debug");
        if (ex instanceof CommandLine.ParameterException p) {
            cl.getErr().println("depthlens: usage error: " + oneLine(p.getMessage()) + " (see '"
                    + p.getCommandLine().getCommandSpec().qualifiedName() + " --help')");
            cl.getErr().flush();
            return ExitCodes.USAGE;
        }
        if (ex instanceof org.depthlens.UsageException u && !AtomicDir.aborting()) {
            cl.getErr().println("depthlens: usage error: " + oneLine(u.getMessage()) + " (see '"
                    + cl.getCommandSpec().qualifiedName() + " --help')");
            if (debug) u.printStackTrace(cl.getErr());
            cl.getErr().flush();
            return ExitCodes.USAGE;
        }
        return report(ex, cl.getErr(), debug);
    }

    /** One line on {@code err} for a failure, the stack trace only with --debug; returns the exit code. */
    static int report(Throwable ex, PrintWriter err, boolean debug) {
        try {
            if (INTERRUPTED.get() || ex instanceof RunInterruptedException || AtomicDir.aborting()) {
                // the SIGINT handler removes the partial output and prints the message
                if (!INTERRUPTED.get()) err.println("depthlens: interrupted; no output was written");
                if (debug) ex.printStackTrace(err);
                return ExitCodes.INTERRUPTED;
            }
            Throwable t = ex;
            if (t instanceof UncheckedIOException && t.getCause() != null) t = t.getCause();
            if (t instanceof org.depthlens.UsageException) {
                err.println("depthlens: usage error: " + oneLine(t.getMessage()));
                if (debug) t.printStackTrace(err);
                return ExitCodes.USAGE;
            }
            if (t instanceof BadInputException) {
                err.println("depthlens: error: " + oneLine(t.getMessage()));
                if (debug) t.printStackTrace(err);
                return ExitCodes.BAD_INPUT;
            }
            if (t instanceof InterruptedException || t instanceof java.nio.channels.ClosedByInterruptException
                    || Thread.currentThread().isInterrupted()) {
                err.println("depthlens: interrupted; no output was written");
                if (debug) t.printStackTrace(err);
                return ExitCodes.INTERRUPTED;
            }
            if (t instanceof java.io.IOException io) {
                // a file we could not read or write (disk full, permissions): the user's environment, not a bug
                String msg = ex.getMessage();
                String cause = io.getMessage();
                if (ex != t && cause != null && (msg == null || !msg.contains(cause))) msg = msg + " (" + cause + ")";
                err.println("depthlens: error: " + oneLine(msg == null ? String.valueOf(t) : msg));
                if (debug) t.printStackTrace(err);
                return ExitCodes.BAD_INPUT;
            }
            String hint = t instanceof OutOfMemoryError ? " (give the JVM more memory, e.g. DEPTHLENS_JAVA_OPTS=-Xmx16g)" : "";
            err.println("depthlens: internal error: " + oneLine(String.valueOf(t)) + hint + (debug ? "" : " (run with --debug for details)"));
            if (debug) t.printStackTrace(err);
            return ExitCodes.INTERNAL;
        } finally {
            err.flush();
        }
    }

    /**
     * Ctrl-C: remove every partial output (and refuse any later rename into place), say so, exit 130.
     * The JVM's own SIGINT handling would run the shutdown hooks while the main thread keeps writing;
     * this handler marks the run aborted first. Not installed when SIGINT is ignored (nohup).
     */
    static void installInterruptHandler() {
        try {
            sun.misc.Signal.handle(new sun.misc.Signal("INT"), sig -> onInterrupt());
        } catch (IllegalArgumentException | UnsatisfiedLinkError | NoClassDefFoundError e) {
            // no signal support here: the shutdown hooks of AtomicDir still remove partial output
        }
    }

    private static void onInterrupt() {
        if (!INTERRUPTED.compareAndSet(false, true)) return;
        java.util.List<java.nio.file.Path> done = AtomicDir.abortAll();
        System.err.println();
        System.err.println(done.isEmpty() ? "depthlens: interrupted; no output was written"
                : "depthlens: interrupted; completed before the interrupt: " + done);
        System.err.flush();
        System.exit(ExitCodes.INTERRUPTED);
    }

    /** The main thread finished while the SIGINT handler runs: let the handler report and exit with 130. */
    private static void awaitInterruptHandler() {
        try {
            Thread.sleep(60_000);
        } catch (InterruptedException ignored) {
            // fall through
        }
        System.exit(ExitCodes.INTERRUPTED);
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
            return new String[] {org.depthlens.pass.ProvenanceBuilder.toolVersion()};
        }
    }
}
