package org.depthlens.cli;

import picocli.CommandLine.Option;

/** Options every command takes. */
public class CommonOptions {
    @Option(names = "--debug", description = "Print stack traces on errors.")
    boolean debug;
}
