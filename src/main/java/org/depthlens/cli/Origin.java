package org.depthlens.cli;

import org.depthlens.BadInputException;
import picocli.CommandLine;

import java.nio.file.Path;
import java.util.Set;

/**
 * Where the options' values came from: the command line, or a run config ({@code --config FILE}). A message about
 * a value names it where the user wrote it: {@code --window} (a usage error, exit 2) or {@code run.json: 'window'}
 * (bad input in that file, exit 3).
 *
 * @param config the run config, or null
 * @param keys   the config keys that set an option (camelCase; the command line wins over the file)
 */
record Origin(Path config, Set<String> keys) {
    static final Origin COMMAND_LINE = new Origin(null, Set.of());

    Origin {
        keys = Set.copyOf(keys);
    }

    boolean fromConfig(String option) {
        return config != null && keys.contains(RunConfig.keyOf(option));
    }

    /** {@code --window}, or {@code run.json: 'window'} when the run config gave it. */
    String name(String option) {
        return fromConfig(option) ? config + ": '" + RunConfig.keyOf(option) + "'" : option;
    }

    /** {@code --post-num}, or {@code 'postNum'} when the run config gave it (the file is then named once, in front). */
    String key(String option) {
        return fromConfig(option) ? "'" + RunConfig.keyOf(option) + "'" : option;
    }

    /**
     * A message about several options (written with {@link #key}): bad input of the run config when it gave any of
     * them, else a usage error.
     */
    RuntimeException error(CommandLine.Model.CommandSpec spec, java.util.List<String> options, String message) {
        if (options.stream().anyMatch(this::fromConfig)) return new BadInputException(config + ": " + message);
        return spec == null ? new org.depthlens.UsageException(message) : RunOptions.usage(spec, message);
    }

    /** "{@code option} {@code rest}" as a usage error, or as bad input of the run config that gave the value. */
    RuntimeException error(CommandLine.Model.CommandSpec spec, String option, String rest) {
        if (fromConfig(option)) return new BadInputException(name(option) + " " + rest);
        return RunOptions.usage(spec, option + " " + rest);
    }
}
