package org.depthlens;

/**
 * A usage error found after parsing: options that contradict each other or an output path that would hit an input.
 * The CLI prints {@link #getMessage()} as one {@code usage error} line and exits with {@link ExitCodes#USAGE}; it
 * lives here, not in the CLI, so that checks in {@code util} or {@code model.family} can raise it.
 */
public class UsageException extends RuntimeException {
    public UsageException(String message) {
        super(message);
    }
}
